import Recurrent

/// A runnable example: the Swift version of a tutorial snippet. It prints what the tutorial
/// prints and returns the facts a test checks (losses, accuracies, parameter counts).
public struct Example: Sendable {
    public let name: String
    public let summary: String
    let body: @Sendable (_ print: @escaping (String) -> Void) throws -> [String: Float]

    /// Runs the example, printing through `print`. Weights are drawn from a generator seeded
    /// for this run alone, so results repeat even when examples run concurrently.
    public func run(print: @escaping (String) -> Void = { Swift.print($0) }) throws -> [String: Float] {
        try withRandomSeed(seed) { try body(print) }
    }

    /// A fixed seed per example (FNV-1a of the name).
    var seed: UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// Every example, in the order the tutorials present them.
    public static let all: [Example] = kerasSummaries + [dropoutModel, sentiment, kerasClassifier]
        + pytorchModules + [textClassification, translation]

    public static func named(_ name: String) -> Example? { all.first { $0.name == name } }
}
