import Foundation
import Recurrent

/// What a task hands the trainer: the fitted preprocessing, the network to build, how to
/// train it, and the encoded parts of the data.
struct PreparedTask {
    var preprocessing: Preprocessing
    var spec: NetworkSpec
    var settings: TrainingSettings
    var featureWidth: Int
    var train: [SequenceExample]
    var validation: [SequenceExample]
    var test: [SequenceExample]
    /// Streams (language models) train on chunks in order with carried state.
    var stream: StreamBatches?
    /// Examples (or characters) per part, for run.json.
    var sizes: [(String, Int)]
    /// Whether batches sort by length within chunks (variable-length data).
    var bucketing = true
    /// Sets initial weights from what was fitted on the training part (a fresh run only).
    var initialize: ((SequenceNetwork) throws -> Void)?
    /// A language model's sample after each epoch, kept in the history for the report.
    var epochSample: ((SequenceNetwork) throws -> String)?

    func trainingBatches(_ generator: inout SeededGenerator) throws -> [Batch] {
        if let stream { return stream.train }
        return try Batching.epoch(
            train, batchSize: settings.batchSize, featureWidth: featureWidth, shuffle: true, bucketing: bucketing,
            generator: &generator)
    }

    var validationBatches: [Batch] {
        get throws {
            if let stream { return stream.validation }
            return try Batching.batches(validation, batchSize: 128, featureWidth: featureWidth)
        }
    }
}

/// A stream's chunks (`LanguageModelTask.chunks`), for training and validation.
struct StreamBatches {
    var train: [Batch]
    var validation: [Batch]
}

/// The steps every task provides. Each lives in its own file (`ForecastTask.swift`, …).
protocol TaskPipeline {
    static func prepare(_ options: TaskOptions) throws -> PreparedTask
    /// The held-out part of a data file (or all of it), encoded with the saved preprocessing.
    static func evaluate(_ network: SequenceNetwork, _ preprocessing: Preprocessing, path: String, all: Bool) throws -> TaskReport
    /// CSV predictions for the rows or lines of `input`.
    static func predict(_ network: SequenceNetwork, _ preprocessing: Preprocessing, input: String, path: String) throws -> String
}

extension TaskKind {
    var pipeline: TaskPipeline.Type {
        switch self {
        case .forecast: return ForecastTask.self
        case .classifySequences: return SequenceClassificationTask.self
        case .classifyText: return TextClassificationTask.self
        case .languageModel: return LanguageModelTask.self
        case .tag: return TaggingTask.self
        }
    }
}

extension Batching {
    /// Batches in order, without shuffling (evaluation, prediction).
    static func batches(_ examples: [SequenceExample], batchSize: Int, featureWidth: Int) throws -> [Batch] {
        try stride(from: 0, to: examples.count, by: batchSize).map {
            try batch(Array(examples[$0..<min($0 + batchSize, examples.count)]), featureWidth: featureWidth)
        }
    }

    /// The network's outputs for examples, in order, as one flat array per example.
    static func outputs(_ network: SequenceNetwork, _ examples: [SequenceExample], featureWidth: Int, width: Int) throws -> [[Float]] {
        network.eval()
        var result: [[Float]] = []
        try withoutGradients {
            for batch in try batches(examples, batchSize: 128, featureWidth: featureWidth) {
                let values = try network.forward(batch).output.value.scalars
                var offset = 0
                for length in batch.lengths {
                    let n: Int
                    if case .stepClasses = network.spec.head { n = length * width } else { n = width }
                    result.append(Array(values[offset..<(offset + n)]))
                    offset += n
                }
            }
        }
        return result
    }
}
