import Foundation
import Recurrent

/// One epoch of `fit` on padded token sequences, with and without `bucketing`: the
/// classify-text shape (Embedding(20000, 100, maskZero) → Bidirectional(LSTM(64)) → Dense(1)).
/// Lengths are drawn like review lengths (log-normal, median 50 words) and pre-padded to the
/// longest kept length, as `padSequences` does.
enum BucketingBench {
    static func run(_ arguments: [String]) throws {
        let count = arguments.firstIndex(of: "--examples").flatMap { Int(arguments[$0 + 1]) } ?? 4000
        let maxLength = arguments.firstIndex(of: "--max-length").flatMap { Int(arguments[$0 + 1]) } ?? 250
        var generator = SeededGenerator(seed: 1)
        let lengths = (0..<count).map { _ in min(maxLength, max(1, Int(Foundation.exp(Foundation.log(Float(50)) + 0.8 * generator.nextNormal())))) }
        var ids = [Float](repeating: 0, count: count * maxLength)
        for (n, length) in lengths.enumerated() {
            for t in (maxLength - length)..<maxLength { ids[n * maxLength + t] = Float(Int.random(in: 1..<20000, using: &generator)) }
        }
        let x = try Tensor(shape: [count, maxLength], scalars: ids)
        let y = Tensor((0..<count).map { _ in Float(Int.random(in: 0...1, using: &generator)) })
        let real = lengths.reduce(0, +)
        print("fit, 1 epoch, \(count) examples pre-padded to \(maxLength) steps (\(String(format: "%.0f", 100 * Double(real) / Double(count * maxLength))) % real), batch 32, \(Recurrent.kernelInfo)")
        for bucketing in [false, true] {
            let model = Sequential {
                Input(shape: [maxLength])
                Embedding(inputDim: 20000, outputDim: 100, maskZero: true, seed: 1)
                Bidirectional(LSTM(units: 64, seed: 2))
                Dense(units: 1, activation: .sigmoid, seed: 3)
            }
            model.progressWriter = { _ in }
            model.compile(optimizer: Adam(), loss: .binaryCrossEntropy())
            let start = Date()
            try model.fit(x, y, batchSize: 32, epochs: 1, bucketing: bucketing, seed: 4)
            print(String(format: "  bucketing %@: %.1f s", bucketing ? "on " : "off", Date().timeIntervalSince(start)))
        }
    }
}
