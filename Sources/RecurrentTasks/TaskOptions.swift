import Foundation
import Recurrent

/// The tasks `recurrent train` knows.
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    case forecast
    case classifySequences = "classify-sequences"
    case classifyText = "classify-text"
    case languageModel = "language-model"
    case tag
}

/// Everything a training run is told: data, network, training; nil means the task's default.
public struct TaskOptions: Codable, Sendable {
    public var task: TaskKind
    public var dataPath: String
    // Splits
    public var splitColumn: String?
    /// The fraction of the training part held out for validation.
    public var valSplit: Float?
    /// The fraction held out for testing when there is no split column (the last part, in order).
    public var testSplit: Float?
    // Columns
    public var column: String?
    public var idColumn: String?
    public var stepColumn: String?
    public var labelColumn: String?
    public var featureColumns: [String]?
    public var textColumn: String?
    // Task shape
    public var window: Int?
    public var horizon: Int?
    public var vocabSize: Int?
    public var maxLength: Int?
    /// Steps per chunk of a stream (truncated backpropagation through time).
    public var bptt: Int?
    // Network
    public var cell: NetworkSpec.Cell?
    public var units: Int?
    public var layers: Int?
    public var bidirectional: Bool?
    public var dropout: Float?
    public var recurrentDropout: Float?
    // Training
    public var epochs: Int?
    public var batchSize: Int?
    public var learningRate: Float?
    public var clipNorm: Float?
    public var seed: UInt64?
    public var patience: Int?
    public var timeBudget: Double?
    /// Checkpoint every this many steps within an epoch as well as after it (a long epoch's work
    /// survives a kill).
    public var checkpointEvery: Int?
    /// Keep only this many examples (sequences, sentences, rows, characters) of each part: quick runs.
    public var limit: Int?
    /// The processes of a data-parallel run (`Tasks.train(distributed:)` sets it): each global
    /// batch is `batchSize` examples (or stream lanes) per rank.
    public var ranks: Int?

    public init(task: TaskKind, dataPath: String) {
        self.task = task
        self.dataPath = dataPath
    }
}

/// A task's defaults for what the options leave open.
struct TaskDefaults {
    var cell: NetworkSpec.Cell = .lstm
    var units = 64
    var layers = 1
    var bidirectional = false
    var dropout: Float = 0
    var epochs = 30
    var batchSize = 32
    var learningRate: Float = 0.003
    var clipNorm: Float? = 5
    var patience: Int? = 8
    var valSplit: Float = 0.1

    func training(_ o: TaskOptions) -> TrainingSettings {
        TrainingSettings(
            epochs: o.epochs ?? epochs, batchSize: (o.batchSize ?? batchSize) * (o.ranks ?? 1), learningRate: o.learningRate ?? learningRate,
            clipNorm: o.clipNorm ?? clipNorm, seed: o.seed ?? 1, patience: o.patience ?? patience, timeBudget: o.timeBudget,
            checkpointEvery: o.checkpointEvery)
    }

    func network(
        _ o: TaskOptions, embeddings: [[Int]], features: Int, head: NetworkSpec.Head, maxPooling: Bool, window: Int?, bagOfWords: Bool = false
    ) -> NetworkSpec {
        NetworkSpec(
            embeddings: embeddings, features: features, cell: o.cell ?? cell, units: o.units ?? units,
            layers: o.layers ?? layers, bidirectional: o.bidirectional ?? bidirectional, dropout: o.dropout ?? dropout,
            recurrentDropout: o.recurrentDropout ?? 0, maxPooling: maxPooling, head: head, window: window, bagOfWords: bagOfWords ? true : nil)
    }

    func validationFraction(_ o: TaskOptions) throws -> Float {
        let f = o.valSplit ?? valSplit
        guard (0..<1).contains(f) else { throw RecurrentError.invalidArgument("--val-split must be in [0, 1), got \(f)") }
        return f
    }
}

/// Rows of a CSV sorted into train / val / test: by the split column's values when there is
/// one, else the last `testFraction` for test.
struct SplitRows {
    var train: [Int], validation: [Int], test: [Int]

    static func make(_ table: CSVTable, splitColumn: String?, count: Int, testFraction: Float) throws -> SplitRows {
        if let name = splitColumn ?? (table.header.contains("split") ? "split" : nil) {
            let column = try table.column(name)
            var parts: [String: [Int]] = [:]
            for (i, row) in table.rows.enumerated() {
                let value = row[column].trimmingCharacters(in: .whitespaces).lowercased()
                guard ["train", "val", "validation", "test"].contains(value) else {
                    throw RecurrentError.file(
                        path: table.path,
                        problem: "line \(table.lines[i]), column \(column + 1) (\(name)): \"\(row[column])\" is not train, val or test")
                }
                parts[value == "validation" ? "val" : value, default: []].append(i)
            }
            return SplitRows(train: parts["train"] ?? [], validation: parts["val"] ?? [], test: parts["test"] ?? [])
        }
        let testCount = Int((Float(count) * testFraction).rounded())
        return SplitRows(train: Array(0..<(count - testCount)), validation: [], test: Array((count - testCount)..<count))
    }
}

/// Splits off the last `fraction` of `items` (after a seeded shuffle when `shuffle`).
func holdOut<T>(_ items: [T], fraction: Float, shuffle: Bool, seed: UInt64) -> (kept: [T], heldOut: [T]) {
    var items = items
    if shuffle {
        var generator = SeededGenerator(seed: seed ^ 0xA11D)
        items.shuffle(using: &generator)
    }
    let n = Int((Float(items.count) * fraction).rounded())
    return (Array(items.dropLast(n)), Array(items.suffix(n)))
}

/// `limit` items drawn without replacement (seeded), in their original order: a quick run
/// sees every class of data sorted by class.
func sample<T>(_ items: [T], _ limit: Int, seed: UInt64) -> [T] {
    guard limit < items.count else { return items }
    var generator = SeededGenerator(seed: seed ^ 0x11A1)
    return Array(items.indices).shuffled(using: &generator).prefix(max(limit, 0)).sorted().map { items[$0] }
}
