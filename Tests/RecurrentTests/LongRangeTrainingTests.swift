import Foundation
import Testing
@testable import Recurrent

/// The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): each step carries a
/// random value and a marker; two steps are marked, one in each half of the sequence, and the
/// target is the sum of their values. Predicting the mean (1) scores MSE ≈ 1/6 ≈ 0.167; solving
/// it needs information carried across up to T steps — where gated cells beat the simple RNN.
@Suite(.serialized) struct LongRangeTrainingTests {
    static func batch(size: Int, steps: Int, generator: inout SeededGenerator) throws -> (Tensor, Tensor) {
        var x = Tensor.zeros([size, steps, 2]), y = Tensor.zeros([size, 1])
        for b in 0..<size {
            let first = Int(generator.next() % UInt64(steps / 2))
            let second = steps / 2 + Int(generator.next() % UInt64(steps / 2))
            var sum: Float = 0
            for t in 0..<steps {
                let value = generator.nextUnitFloat()
                x[b, t, 0] = value
                if t == first || t == second {
                    x[b, t, 1] = 1
                    sum += value
                }
            }
            y[b, 0] = sum
        }
        return (x, y)
    }

    /// Trains `layer` + Dense(1) with Adam and returns the MSE on held-out batches.
    static func train(_ layer: RecurrentLayer, steps: Int, iterations: Int) throws -> Float {
        let head = Dense(units: 1, seed: 2)
        var generator = SeededGenerator(seed: 3)
        _ = try head(try layer(Variable(Tensor.zeros([1, steps, 2]))))
        let optimizer = Adam(parameters: layer.parameters() + head.parameters, learningRate: 0.01)
        optimizer.clipNorm = 1
        for _ in 0..<iterations {
            let (x, y) = try batch(size: 32, steps: steps, generator: &generator)
            optimizer.zeroGradients()
            let loss = try Loss.meanSquaredError(try head(try layer(Variable(x))), y)
            try loss.backward()
            try optimizer.step()
        }
        var test = SeededGenerator(seed: 99)
        let (x, y) = try batch(size: 512, steps: steps, generator: &test)
        return try withoutGradients { try Loss.meanSquaredError(try head(try layer(Variable(x))), y).value.scalar }
    }

    @Test func gatedCellsLearnTheAddingProblemAndSimpleRNNStruggles() throws {
        let start = Date()
        let lstm = try Self.train(LSTM(units: 16, seed: 1), steps: 50, iterations: 1000)
        let gru = try Self.train(GRU(units: 16, seed: 1), steps: 50, iterations: 1000)
        let simple = try Self.train(SimpleRNN(units: 16, seed: 1), steps: 50, iterations: 1000)
        print("adding problem T=50, MSE after 1000 steps: LSTM \(lstm), GRU \(gru), SimpleRNN \(simple); \(Date().timeIntervalSince(start)) s")
        #expect(lstm < 0.02)
        #expect(gru < 0.02)
        #expect(simple > 0.1)
    }
}
