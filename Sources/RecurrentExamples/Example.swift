import Recurrent

/// A runnable example: the Swift version of a tutorial snippet. It prints what the tutorial
/// prints and returns the facts a test checks (losses, accuracies, parameter counts).
public struct Example: Sendable {
    public let name: String
    public let summary: String
    let body: @Sendable (_ print: @escaping (String) -> Void) throws -> [String: Float]

    /// Runs the example, printing through `print`.
    public func run(print: @escaping (String) -> Void = { Swift.print($0) }) throws -> [String: Float] {
        try body(print)
    }

    /// Every example, in the order the tutorials present them.
    public static let all: [Example] = kerasSummaries + [dropoutModel, sentiment, kerasClassifier]
        + pytorchModules + [textClassification, translation]

    public static func named(_ name: String) -> Example? { all.first { $0.name == name } }
}
