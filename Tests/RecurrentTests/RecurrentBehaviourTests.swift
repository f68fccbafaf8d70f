import Testing
@testable import Recurrent

/// Behaviour beyond single forward passes: hand-written loops over cells train, stateful
/// layers carry state between batches, and dropout acts only in training.
@Suite struct RecurrentBehaviourTests {
    /// The seeds' "multi-layer RNNCell" module: two stacked cells unrolled by hand, a linear
    /// head on the last hidden state, cross-entropy and Adam. Task: is the sum of the sequence positive?
    @Test func multiLayerCellLoopTrains() throws {
        let cells = [SimpleRNNCell(inputSize: 1, hiddenSize: 8, seed: 1), SimpleRNNCell(inputSize: 8, hiddenSize: 8, seed: 2)]
        let head = Dense(inputSize: 8, units: 2, initializer: .pytorch, seed: 3)
        let optimizer = Adam(parameters: cells.flatMap(\.parameters) + head.parameters, learningRate: 0.02)
        var generator = SeededGenerator(seed: 4)
        let x = Tensor.randomNormal([64, 6, 1], generator: &generator)
        let labels = Tensor(try x.sum(axis: 1).scalars.map { $0 > 0 ? 1 : 0 })
        func loss() throws -> Variable {
            var h = cells.map { $0.zeroState(batch: 64) }
            for t in 0..<6 {
                var input = Variable(try x.selecting(t, axis: 1))
                for (l, cell) in cells.enumerated() {
                    h[l] = try cell(input, h[l])
                    input = h[l]
                }
            }
            return try Loss.crossEntropy(try head(h[1]), labels)
        }
        let first = try loss().value.scalar
        for _ in 0..<60 {
            optimizer.zeroGradients()
            try loss().backward()
            try optimizer.step()
        }
        let last = try loss().value.scalar
        #expect(last < first / 3, "cross-entropy \(first) → \(last)")
    }

    @Test func statefulLayerCarriesStateBetweenBatches() throws {
        let x = random([2, 6, 3], seed: 5)
        let whole = GRU(units: 4, returnSequences: true, seed: 6)
        let expected = try whole(Variable(x)).value
        let stateful = GRU(units: 4, returnSequences: true, stateful: true, seed: 6)
        let first = try stateful(Variable(try x.sliced(0..<3, axis: 1))).value
        let second = try stateful(Variable(try x.sliced(3..<6, axis: 1))).value
        expectClose(try Tensor.concatenate([first, second], axis: 1), expected, atol: 1e-6, "stateful halves")
        stateful.resetStates()
        let restarted = try stateful(Variable(try x.sliced(3..<6, axis: 1))).value
        expectClose(restarted, try whole(Variable(try x.sliced(3..<6, axis: 1))).value, atol: 1e-6, "after reset")
    }

    @Test func dropoutActsOnlyInTraining() throws {
        let lstm = LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, dropout: 0.5, seed: 7)
        let x = Variable(random([4, 2, 3], seed: 8))
        let a = try lstm.forward(x).output.value, b = try lstm.forward(x).output.value
        #expect(a == b)
        lstm.isTraining = true
        let c = try lstm.forward(x).output.value
        #expect(c != a)
        lstm.isTraining = false
        #expect(try lstm.forward(x).output.value == a)
        // Keras input dropout: one mask per sequence, the same at every step.
        let keras = SimpleRNN(units: 3, dropout: 0.5, returnSequences: true, seed: 9)
        let ones = Variable(Tensor.ones([1, 3, 4]), requiresGrad: true)
        keras.isTraining = true
        try keras(ones).sum().backward()
        let g = ones.grad!
        let zeroed = (0..<4).map { f in (0..<3).map { t in g[0, t, f] == 0 } }
        #expect(zeroed.allSatisfy { Set($0).count == 1 })
        #expect(zeroed.contains { $0[0] } && zeroed.contains { !$0[0] })
    }
}
