import Foundation
import Recurrent

/// `report.html` beside a trained model: the run's facts, its curves, the model, and the task's
/// own views, built from the model directory's files alone (`recurrent report` rebuilds it).
public enum ReportPage {
    static let file = "report.html"

    /// Writes `DIR/report.html` (or `out`) from DIR's run.json, history.json and metrics.json;
    /// `name` titles it (the directory's name by default).
    public static func write(model directory: String, out: String? = nil, name: String? = nil) throws {
        try make(directory, name: name ?? URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent).write(to: out ?? directory + "/" + file)
    }

    static func make(_ directory: String, name: String) throws -> TrainingReport {
        guard case .task(let network, let pre) = try ModelDirectory.open(directory) else {
            throw RecurrentError.file(path: directory, problem: "holds an imported model: it has no training history to report")
        }
        let historyPath = directory + "/history.json"
        guard FileManager.default.fileExists(atPath: historyPath) else {
            throw RecurrentError.file(path: directory, problem: "has no history.json (a model directory `recurrent train` wrote has one)")
        }
        let history: [EpochRecord]
        do {
            history = try JSONDecoder().decode([EpochRecord].self, from: Data(contentsOf: URL(fileURLWithPath: historyPath)))
        } catch {
            throw RecurrentError.file(path: historyPath, problem: "unreadable history (\(error))")
        }
        let run = try readJSON(directory + "/run.json") ?? [:]
        let metrics = try readJSON(directory + "/metrics.json")
        let training = run["training"] as? [String: Any] ?? [:]
        let sizes = (run["sizes"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let clip = training["clip_norm"] as? Double
        var facts: [(String, String)] = [
            ("command", (run["command_line"] as? [String] ?? []).joined(separator: " ")),
            ("task", pre.task.rawValue), ("data", run["data"] as? String ?? pre.options.dataPath),
            ("seed", "\(run["seed"] ?? "?")"), ("split sizes", sizes),
            ("parameters", "\(network.parameterCount)"),
            ("epochs", "\(history.count) run of \(training["epochs"] ?? "?")" + ((training["stopped_early"] as? Bool) == true ? ", stopped early" : "")),
            ("wall time", (run["wall_seconds"] as? Double).map { String(format: "%.1f s", $0) } ?? "?"),
            ("machine", "\(run["kernel_isa"] ?? "?"), \(run["threads"] ?? "?") threads"),
        ]
        if let ranks = training["ranks"] as? Int, ranks > 1 {
            facts.append(("processes", "\(ranks) ranks (MPI), \(training["batch_size"] ?? "?") examples per rank in each batch"))
        }
        if let metrics { facts += headlines(metrics) }

        func series(_ name: String, _ values: [Double?], dashed: Bool = false) -> TrainingReport.Series { .init(name, values, dashed: dashed) }
        var charts = [TrainingReport.Chart("loss", [series("loss", history.map(\.loss)), series("val_loss", history.map(\.valLoss), dashed: true)], logScale: true)]
        if history.contains(where: { $0.accuracy != nil }) {
            charts.append(.init("accuracy", [series("accuracy", history.map(\.accuracy)), series("val_accuracy", history.map(\.valAccuracy), dashed: true)]))
        }
        charts.append(.init("learning rate", [series("learning rate", history.map(\.learningRate))]))
        var norms = [series("mean before clipping", history.map(\.gradientNorm)), series("largest before clipping", history.map(\.gradientNormMax), dashed: true)]
        if let clip { norms.append(series("largest after clipping", history.map { min($0.gradientNormMax, clip) })) }
        charts.append(.init("global gradient norm", norms, logScale: true))
        charts.append(.init("seconds per epoch", [series("seconds", history.map(\.seconds))]))

        var sections: [(title: String, html: String)] = [("Model", "<pre>\(TrainingReport.escape(try Tasks.summary(model: directory)))</pre>")]
        if let metrics { sections += taskViews(pre, metrics) }
        let samples = history.compactMap { record in record.sample.map { (record.epoch, $0) } }
        if !samples.isEmpty {
            sections.append(("Samples after each epoch (temperature 0.8, the same prime and seed)",
                             TrainingReport.table(header: ["epoch", "text"], rows: samples.map { ["\($0.0)", $0.1] })))
        }
        let best = training["best_epoch"] as? Int
        return TrainingReport(
            title: "Training report: \(name)", facts: facts, charts: charts, bestEpoch: best,
            stoppedEarlyAt: (training["stopped_early"] as? Bool) == true ? history.count : nil, sections: sections)
    }

    /// The confusion matrix and the most confidently wrong examples, a forecast against the
    /// actual values, or the accuracy of each tag.
    static func taskViews(_ pre: Preprocessing, _ metrics: [String: Any]) -> [(title: String, html: String)] {
        var sections: [(title: String, html: String)] = []
        if let labels = metrics["labels"] as? [String], let confusion = metrics["confusion_matrix"] as? [[Int]] {
            let top = max(confusion.joined().max() ?? 1, 1)
            let rows = zip(labels, confusion).map { label, row in
                "<tr><th>\(TrainingReport.escape(label))</th>" + row.map { n in
                    // Shade by count: light to dark blue, the text white on dark cells.
                    let t = Double(n) / Double(top)
                    let (r, g, b) = (Int(247 - t * 214), Int(247 - t * 145), Int(247 - t * 75))
                    return "<td style=\"background: rgb(\(r),\(g),\(b)); color: \(t > 0.55 ? "#fff" : "#1b1b1b")\">\(n)</td>"
                }.joined() + "</tr>"
            }.joined()
            let header = "<tr><th>actual ↓ predicted →</th>" + labels.map { "<th>\(TrainingReport.escape($0))</th>" }.joined() + "</tr>"
            sections.append(("Confusion matrix (held-out part)", "<table class=\"grid\">\(header)\(rows)</table>"))
        }
        if let wrong = metrics["confidently_wrong"] as? [[String: Any]], !wrong.isEmpty {
            sections.append(("Most confidently wrong (held-out part)", TrainingReport.table(
                header: ["example", "actual", "predicted", "confidence"],
                rows: wrong.map { ["\($0["example"] ?? "")", "\($0["actual"] ?? "")", "\($0["predicted"] ?? "")",
                                   String(format: "%.3f", $0["confidence"] as? Double ?? 0)] })))
        }
        if let forecast = metrics["test_forecast"] as? [String: [Double]], let actual = forecast["actual"], !actual.isEmpty {
            let names = ["actual", "model", "persistence", "linear_ar"]
            let chart = TrainingReport.Chart(
                "one step ahead over the test period (its last \(actual.count) windows)",
                names.compactMap { name in forecast[name].map { TrainingReport.Series(name, $0.map { $0 }, dashed: name != "actual" && name != "model") } },
                wide: true)
            let report = TrainingReport(title: "", facts: [], charts: [chart])
            sections.append(("Forecast against the actual values", report.chartSVG(chart, xLabel: "test window")))
        }
        if let perTag = metrics["per_tag"] as? [String: [String: Double]] {
            let tags = perTag.keys.sorted { (perTag[$0]?["support"] ?? 0) > (perTag[$1]?["support"] ?? 0) }
            sections.append(("Accuracy per tag (held-out part)", TrainingReport.table(
                header: ["tag", "accuracy", "tokens"],
                rows: tags.map { [$0, String(format: "%.3f", perTag[$0]?["accuracy"] ?? 0), String(Int(perTag[$0]?["support"] ?? 0))] },
                grid: true)))
        }
        return sections
    }

    static func readJSON(_ path: String) throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] else {
            throw RecurrentError.file(path: path, problem: "not a JSON object")
        }
        return object
    }
}

extension ReportPage {
    /// The held-out numbers at the top of metrics.json, as the report's facts.
    static func headlines(_ metrics: [String: Any]) -> [(String, String)] {
        metrics.keys.sorted().compactMap { key in
            guard let value = metrics[key] as? Double, value.isFinite else { return nil }
            let name = "held-out \(key.replacingOccurrences(of: "_", with: " "))"
            return (name, value == value.rounded() && abs(value) >= 1 ? String(Int(value)) : String(format: "%.4f", value))
        }
    }
}
