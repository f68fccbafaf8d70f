import ArgumentParser
import Foundation
import RecurrentTasks

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild a model directory's report.html (curves, the model, the task's views) from its files.")

    @Option(help: "The model directory (`recurrent train` wrote it).") var model: String
    @Option(help: "Where to write the page (default: report.html in the model directory).") var out: String?

    func run() throws {
        try reportingErrors {
            try ReportPage.write(model: model, out: out)
            printFlushed("wrote \(out ?? model + "/report.html")")
        }
    }
}

struct UnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unroll",
        abstract: "Write one HTML page that shows a trained model run step by step on an input.",
        discussion: """
            The page opens from disk and makes no request: the timeline, the cell with its numbers, state heat \
            maps, gradients through time, the task's outputs at every step, and what-if edits recomputed in the page.

            Example: recurrent unroll --model shakespeare-model --input "To be, or not to be" --out unrolled.html
            """)

    @Option(help: "The model directory (`recurrent train` wrote it).") var model: String
    @Option(help: "The input: text, numbers, or a file holding them (a sequence classifier's CSV).") var input: String
    @Option(help: "A second model directory, run on the same input and shown beside the first.") var compare: String?
    @Option(help: "The HTML file to write.") var out: String
    @Option(help: "The longest input traced, in steps.") var maxSteps = 400

    func run() throws {
        try reportingErrors {
            var options = Unroll.Options(model: model, input: input, compare: compare, out: out)
            options.maxSteps = maxSteps
            let bytes = try Unroll.write(options)
            printFlushed("wrote \(out) (\(bytes / 1024) KiB)")
        }
    }
}
