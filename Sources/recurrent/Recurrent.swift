import ArgumentParser
import Recurrent

@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Recurrent neural networks in Swift.",
        version: Recurrent.version,
        subcommands: [Demo.self, Train.self, Evaluate.self, Predict.self, Generate.self, Summary.self, Import.self, UnrollCommand.self, Report.self, SelfTest.self, ExampleCommand.self])
}
