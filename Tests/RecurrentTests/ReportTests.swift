import Foundation
import Recurrent
import Testing
@testable import RecurrentTasks

/// report.html: written by every training run, rebuilt identically from the model directory,
/// its task views holding metrics.json's numbers, rendered without a console error; and the page
/// `fit(report:)` writes.
@Suite(.serialized) struct ReportTests {
    func page(_ model: String) throws -> String {
        try String(contentsOfFile: try UnrollTests.models.get()[model]! + "/report.html", encoding: .utf8)
    }

    func metrics(_ model: String) throws -> [String: Any] {
        try #require(try ReportPage.readJSON(try UnrollTests.models.get()[model]! + "/metrics.json"))
    }

    /// The part of the page under a section heading.
    func section(_ html: String, _ title: String) -> String? {
        guard let start = html.range(of: "<h2>\(title)") else { return nil }
        let rest = html[start.upperBound...]
        return String(rest[..<(rest.range(of: "</section>")?.lowerBound ?? rest.endIndex)])
    }

    @Test(arguments: UnrollTests.inputs.map(\.0))
    func everyRunWritesItsReport(_ model: String) throws {
        let directory = try UnrollTests.models.get()[model]!
        let html = try page(model)
        #expect(html.contains("<h1>Training report: \(URL(fileURLWithPath: directory).lastPathComponent)</h1>"))
        for chart in ["loss", "learning rate", "global gradient norm", "seconds per epoch"] {
            #expect(html.contains("<figcaption>\(chart)</figcaption>"), "\(chart)")
        }
        // Rebuilt from the directory's files alone, it is the same page.
        let again = UnrollTests.scratch("\(model)-report.html")
        try ReportPage.write(model: directory, out: again)
        #expect(try String(contentsOfFile: again, encoding: .utf8) == html)
    }

    @Test func classifierViewsHoldTheHeldOutNumbers() throws {
        for model in ["vowels", "reviews"] {
            let html = try page(model), m = try metrics(model)
            let confusion = try #require(m["confusion_matrix"] as? [[Int]])
            let table = try #require(section(html, "Confusion matrix"))
            let cells = table.matches(of: /">(\d+)<\/td>/).map { Int($0.1)! }
            #expect(cells == confusion.flatMap { $0 }, "\(model)")
            let wrong = try #require(m["confidently_wrong"] as? [[String: Any]])
            #expect(wrong.count == min(8, confusion.joined().reduce(0, +) - confusion.indices.reduce(0) { $0 + confusion[$1][$1] }))
            let confidences = wrong.compactMap { $0["confidence"] as? Double }
            #expect(confidences == confidences.sorted(by: >), "most confident first")
            if let first = wrong.first { #expect(section(html, "Most confidently wrong")?.contains(String(format: "%.3f", confidences[0])) == true, "\(first)") }
        }
    }

    @Test func taskViews() throws {
        let forecast = try #require(section(try page("sunspots"), "Forecast against the actual values"))
        #expect(forecast.matches(of: /<polyline/).count == 4)
        let series = try #require(try metrics("sunspots")["test_forecast"] as? [String: [Double]])
        #expect(Set(series.values.map(\.count)).count == 1 && series["actual"]!.count > 10)
        let tags = try #require(section(try page("tagger"), "Accuracy per tag"))
        let perTag = try #require(try metrics("tagger")["per_tag"] as? [String: [String: Double]])
        #expect(tags.matches(of: /<tr><td>/).count == perTag.count)
        let samples = try #require(section(try page("lm-lstm"), "Samples after each epoch"))
        #expect(samples.matches(of: /<tr><td>/).count == 1)   // one epoch, one sample
    }

    @Test func badDirectoriesAreNamed() throws {
        let directory = UnrollTests.scratch("no-history")
        try FileManager.default.copyItem(atPath: try UnrollTests.models.get()["vowels"]!, toPath: directory)
        try FileManager.default.removeItem(atPath: directory + "/history.json")
        #expect(message { try ReportPage.write(model: directory) }.contains("has no history.json"))
        #expect(message { try ReportPage.write(model: "/no/such") }.contains("no such model directory"))
    }

    @Test(.enabled(if: Browser.path != nil, "needs Chromium (Debian's chromium package)"), arguments: UnrollTests.inputs.map(\.0))
    func reportRenders(_ model: String) throws {
        let rendered = try Browser.render(try UnrollTests.models.get()[model]! + "/report.html", screenshot: Browser.screenshotPath("report-\(model).png"))
        #expect(rendered.errors.isEmpty, "console: \(rendered.errors)")
        #expect(rendered.dom.contains("<figcaption>loss</figcaption>"))
    }

    @Test func fitWritesAReport() throws {
        try withRandomSeed(3) {
            var generator = SeededGenerator(seed: 1)
            let x = Tensor.randomNormal([64, 5, 2], generator: &generator)
            let y = try Variable(x).sum(dim: 1)[.all, 0..<1].value
            let model = Sequential { Input(shape: [5, 2]); GRU(units: 4); Dense(units: 1) }
            model.compile(optimizer: Adam(learningRate: 0.02), loss: .meanSquaredError, metrics: [.meanAbsoluteError])
            let path = UnrollTests.scratch("fit-report.html")
            let history = try model.fit(x, y, epochs: 6, verbose: .silent, validationSplit: 0.25, report: path)
            let html = try String(contentsOfFile: path, encoding: .utf8)
            let losses = try #require(history["val_loss"])
            let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
            #expect(html.contains("the best epoch (\(best)) is marked"))
            for name in ["loss", "val_loss", "mae", "val_mae", "learning rate"] { #expect(html.contains(">\(name)</text>"), "\(name)") }
            #expect(html.contains("gru (GRU)"), "the model's summary")
        }
    }
}
