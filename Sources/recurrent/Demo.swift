import ArgumentParser
import Foundation
import Recurrent
import RecurrentTasks

/// The README's main job: every task on the shipped data, one table of results.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train and evaluate every task on the data in data/ (about 5 minutes; --quick: under one), then print one table.",
        discussion: "Example: recurrent demo --quick")

    @Option(help: "Where the shipped data sets are.") var dataDir = "data"
    @Option(help: "Where the model directories go.") var out = "demo-models"
    @Flag(help: "Small slices and one or a few epochs each: a smoke run.") var quick = false

    func run() throws {
        try reportingErrors {
            print("Recurrent \(Recurrent.version) — \(Recurrent.kernelInfo)")
            let start = Date()
            let rows = try RecurrentTasks.Demo.run(dataDirectory: dataDir, out: out, quick: quick, log: printFlushed)
            print("\n" + RecurrentTasks.Demo.table(rows))
            print(String(format: "\nmodels in %@/ — %.0f s in all (✓: better than the baseline, on held-out data)", out, Date().timeIntervalSince(start)))
        }
    }
}
