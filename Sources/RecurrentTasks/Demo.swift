import Foundation
import Recurrent

/// `recurrent demo`: every task trained and evaluated on the data shipped in `data/`, with
/// settings sized to finish in about five minutes on two cores (under a minute with `quick`).
public enum Demo {
    public struct Row: Sendable {
        public var task: String
        public var model: String
        public var headline: TaskReport.Headline
        public var seconds: Double
    }

    struct Job {
        var name: String
        var file: String
        var options: (inout TaskOptions) -> Void
    }

    static func jobs(quick: Bool) -> [(TaskKind, Job)] {
        [
            (.classifySequences, Job(name: "japanese-vowels", file: "japanese_vowels.csv") { o in
                (o.idColumn, o.stepColumn, o.labelColumn) = ("series", "t", "speaker")
                o.featureColumns = (1...12).map { "lpc\($0)" }
                if quick { o.epochs = 8 }
            }),
            (.forecast, Job(name: "sunspots", file: "sunspots_monthly.csv") { o in
                if quick { o.epochs = 5 } else { o.timeBudget = 60 }
            }),
            (.classifyText, Job(name: "amazon-reviews", file: "amazon_fine_food_reviews.csv") { o in
                if quick { (o.epochs, o.limit) = (2, 1500) } else { o.timeBudget = 75 }
            }),
            (.languageModel, Job(name: "shakespeare", file: "shakespeare_complete.txt") { o in
                if quick { (o.epochs, o.limit, o.units, o.layers) = (1, 200_000, 128, 1) } else { (o.timeBudget, o.limit) = (80, 1_500_000) }
            }),
            (.tag, Job(name: "pos-tagger", file: "oanc_pos_tagged.txt") { o in
                if quick { (o.epochs, o.limit) = (1, 4000) } else { (o.epochs, o.timeBudget) = (4, 60) }
            }),
        ]
    }

    /// Trains each task on `dataDirectory`'s files, writing model directories under `out`.
    public static func run(dataDirectory: String, out: String, quick: Bool, log: @escaping (String) -> Void) throws -> [Row] {
        var rows: [Row] = []
        for (task, job) in jobs(quick: quick) {
            var options = TaskOptions(task: task, dataPath: dataDirectory + "/" + job.file)
            job.options(&options)
            log("== \(task.rawValue) on \(job.file)")
            let run = try Tasks.train(options, out: out + "/" + job.name, log: log)
            guard let report = run.report else { continue }
            let spec = try ModelDirectory.load(run.directory).network.spec
            let model = "\(spec.bidirectional ? "Bi" : "")\(spec.cell.rawValue.uppercased())-\(spec.units)\(spec.layers > 1 ? "×\(spec.layers)" : "")"
            for headline in report.headlines {
                rows.append(Row(task: "\(task.rawValue) (\(job.name))", model: model, headline: headline, seconds: run.outcome.seconds))
            }
        }
        return rows
    }

    public static func table(_ rows: [Row]) -> String {
        let header = ["task", "model", "metric", "baseline", "baseline value", "ours", "seconds"]
        let body = rows.map { r in
            [r.task, r.model, r.headline.metric, r.headline.baseline, String(format: "%.4f", r.headline.baselineValue),
             String(format: "%.4f", r.headline.ours) + (r.headline.beatsBaseline ? " ✓" : ""), String(format: "%.1f", r.seconds)]
        }
        let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + body.map(line)).joined(separator: "\n")
    }
}
