import Foundation
import Testing
@testable import Recurrent

/// `fit(bucketing: true)`: batches of similar lengths, padding steps cut from each batch. Under
/// Keras masks the cut steps change nothing, so one batch of everything trains to the same weights.
@Suite struct BucketingTests {
    /// Token ids [8, 12], each row `length` ids from 1..<20 padded with zeros before or after.
    static func tokens(pre: Bool) throws -> (x: Tensor, y: Tensor) {
        var generator = SeededGenerator(seed: 11)
        let lengths = [2, 7, 3, 5, 4, 6, 2, 3]
        let rows = lengths.map { length -> [Float] in
            let ids = (0..<length).map { _ in Float(Int.random(in: 1..<20, using: &generator)) }
            let padding = [Float](repeating: 0, count: 12 - length)
            return pre ? padding + ids : ids + padding
        }
        return (try Tensor(shape: [8, 12], scalars: rows.flatMap { $0 }), try Tensor(shape: [8, 1], scalars: lengths.map { Float($0) / 7 }))
    }

    static func model(_ first: any Layer, inputShape: [Int?]) -> Sequential {
        let model = Sequential { Input(shape: inputShape); first; LSTM(units: 5, seed: 2); Dense(units: 1, seed: 3) }
        model.progressWriter = { _ in }
        model.compile(optimizer: SGD(learningRate: 0.5), loss: .meanSquaredError)
        return model
    }

    func expectSameTraining(_ make: () -> Sequential, _ x: Tensor, _ y: Tensor) throws {
        let (plain, bucketed) = (make(), make())
        let a = try plain.fit(x, y, batchSize: 8, epochs: 4, seed: 5)
        let b = try bucketed.fit(x, y, batchSize: 8, epochs: 4, bucketing: true, seed: 5)
        for (u, v) in zip(a["loss"]!, b["loss"]!) { #expect(abs(u - v) <= 1e-5 * max(1, abs(u)), "loss \(u) vs \(v)") }
        for (p, q) in zip(plain.namedParameters, bucketed.namedParameters) { expectClose(q.variable.value, p.variable.value, atol: 1e-5, rtol: 1e-4, p.name) }
    }

    @Test(arguments: [true, false]) func oneBatchTrainsAsWithoutBucketing(prePadded: Bool) throws {
        let (x, y) = try Self.tokens(pre: prePadded)
        let spans = try Self.model(Embedding(inputDim: 20, outputDim: 4, maskZero: true, seed: 1), inputShape: [12]).paddingSpans([x], y, count: 8)
        #expect(spans.map(\.count) == [2, 7, 3, 5, 4, 6, 2, 3] && spans[0] == (prePadded ? 10..<12 : 0..<2))
        try expectSameTraining({ Self.model(Embedding(inputDim: 20, outputDim: 4, maskZero: true, seed: 1), inputShape: [12]) }, x, y)
        // Masked float steps: the ids as one feature beside a constant, zero where padded.
        let features = try Tensor(shape: [8, 12, 2], scalars: x.scalars.flatMap { $0 == 0 ? [0, 0] : [$0 / 20, 1] })
        try expectSameTraining({ Self.model(Masking(maskValue: 0), inputShape: [12, 2]) }, features, y)
    }

    @Test func batchesHoldSimilarLengths() {
        let spans = [0..<9, 3..<4, 0..<5, 1..<9, 0..<2, 0..<7, 2..<3, 0..<6]
        var generator = SeededGenerator(seed: 1)
        let order = Model.bucketed(Array(0..<8), spans: spans, batchSize: 2, shuffle: true, generator: &generator)
        #expect(order.sorted() == Array(0..<8))
        let pairs = stride(from: 0, to: 8, by: 2).map { Set([spans[order[$0]].count, spans[order[$0 + 1]].count]) }
        #expect(Set(pairs) == [[1, 1], [2, 5], [6, 7], [8, 9]])
    }

    @Test func refusedWhereCuttingWouldChangeResults() throws {
        let (x, y) = try Self.tokens(pre: true)
        let unmasked = Self.model(Embedding(inputDim: 20, outputDim: 4, seed: 1), inputShape: [12])
        #expect(throws: RecurrentError.invalidArgument(
            "fit: bucketing cuts padding steps, so it needs a Sequential whose first layer masks zeros (Embedding(maskZero: true) or Masking(maskValue: 0))")) {
            try unmasked.fit(x, y, batchSize: 4, bucketing: true)
        }
        let perStep = Self.model(Embedding(inputDim: 20, outputDim: 4, maskZero: true, seed: 1), inputShape: [12])
        #expect(throws: RecurrentError.self) { try perStep.fit(x, x, batchSize: 4, bucketing: true) }
    }
}
