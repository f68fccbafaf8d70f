import ArgumentParser
import Recurrent

@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Recurrent neural networks in Swift.",
        version: Recurrent.version,
        subcommands: [SelfTest.self, ExampleCommand.self])
}
