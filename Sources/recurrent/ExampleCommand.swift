import ArgumentParser
import Foundation
import Recurrent
import RecurrentExamples

/// `recurrent example NAME`: runs one of the tutorial examples; `--list` shows them all.
struct ExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example", abstract: "Run a tutorial example (see --list).")

    @Argument(help: "The example to run.") var name: String?
    @Flag(help: "List the examples.") var list = false

    func run() throws {
        guard !list, let name else {
            for example in Example.all { print(example.name.padding(toLength: 30, withPad: " ", startingAt: 0) + example.summary) }
            return
        }
        guard let example = Example.named(name) else {
            throw ValidationError("no example named \(name); run `recurrent example --list`")
        }
        do {
            _ = try example.run()
        } catch {
            // ArgumentParser shows only its own errors' messages; say what went wrong.
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
