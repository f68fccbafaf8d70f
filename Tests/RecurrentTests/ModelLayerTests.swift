import Testing
@testable import Recurrent

/// The model-building layers: finite-difference gradients and their masking behaviour.
@Suite struct ModelLayerTests {
    @Test func embeddingGradientsAndLookup() throws {
        let embedding = Embedding(inputDim: 6, outputDim: 3, seed: 1)
        let ids = try Tensor(shape: [2, 4], scalars: [1, 2, 2, 5, 0, 3, 1, 1])
        let y = try embedding(Variable(ids))
        #expect(y.shape == [2, 4, 3])
        expectClose(try y.value.rows(at: [0]).reshaped([4, 3]).rows(at: [1]), try embedding.weight.value.rows(at: [2]))
        try checkParameterGradients(embedding) { try embedding(Variable(ids)).tanh() }
    }

    @Test func pytorchPaddingRowIsZeroAndGetsNoGradient() throws {
        let embedding = Embedding(numEmbeddings: 5, embeddingDim: 2, paddingIdx: 0, seed: 2)
        #expect(try embedding.weight.value.rows(at: [0]).scalars == [0, 0])
        let ids = try Tensor(shape: [1, 3], scalars: [0, 4, 0])
        try embedding(Variable(ids)).sum().backward()
        #expect(try embedding.weight.grad!.rows(at: [0]).scalars == [0, 0])
        #expect(try embedding.weight.grad!.rows(at: [4]).scalars == [1, 1])
        #expect(Embedding(numEmbeddings: 5, embeddingDim: 2, paddingIdx: -1).paddingIndex == 4)
        #expect(throws: RecurrentError.self) { try Embedding(numEmbeddings: 5, embeddingDim: 2, paddingIdx: 7)(Variable(ids)) }
        #expect(throws: RecurrentError.self) { try embedding(Variable(try Tensor(shape: [1, 1], scalars: [5]))) }
    }

    @Test func timeDistributedMatchesPerStepAndHasGradients() throws {
        let dense = Dense(inputSize: 3, units: 2, activation: .tanh, seed: 3)
        let wrapper = TimeDistributed(dense)
        let x = random([2, 4, 3], seed: 4)
        let y = try wrapper(Variable(x))
        #expect(y.shape == [2, 4, 2])
        expectClose(try y.value.rows(at: [1]), try dense(Variable(try x.rows(at: [1]).reshaped([4, 3]))).value.reshaped([1, 4, 2]))
        try checkGradients([x]) { try wrapper($0[0]) }
        try checkParameterGradients(wrapper) { try wrapper(Variable(x)) }
    }

    @Test func flattenActivationDropoutGradients() throws {
        let x = random([2, 3, 4], seed: 5)
        try checkGradients([x]) { try Flatten()($0[0]) }
        #expect(try Flatten()(Variable(x)).shape == [2, 12])
        try checkGradients([x]) { try Activation(.tanh)($0[0]) }
        let dropout = Dropout(rate: 0.5, seed: 6)
        #expect(try dropout(Variable(x)).value == x)
        dropout.isTraining = true
        let dropped = try dropout(Variable(x)).value
        #expect(dropped.scalars.contains(0))
        #expect(zip(dropped.scalars, x.scalars).allSatisfy { $0 == 0 || abs($0 - 2 * $1) < 1e-6 })
        #expect(throws: RecurrentError.self) { try Dropout(rate: 1)(Variable(x)) }
    }

    @Test func maskingZeroesPaddedStepsAndPassesTheMask() throws {
        var x = random([2, 3, 2], seed: 7)
        x.withUnsafeMutableBufferPointer { b in b[0] = 0; b[1] = 0; b[10] = 0; b[11] = 0 }
        let (y, mask) = try Masking(maskValue: 0).call(Variable(x), mask: nil)
        #expect(mask?.scalars == [0, 1, 1, 1, 1, 0])
        #expect(y.value == x)
        try checkGradients([x]) { try Masking(maskValue: 0.5)($0[0]) }
    }

    /// Keras masking: a pre-padded sequence gives the same final output as the sequence alone.
    @Test func embeddingMaskZeroSkipsPaddingInTheRecurrentLayer() throws {
        let model = withRandomSeed(11) {
            Sequential {
                Embedding(inputDim: 10, outputDim: 4, maskZero: true)
                LSTM(units: 5)
                Dense(units: 1)
            }
        }
        let padded = try model(Tensor(shape: [1, 5], scalars: [0, 0, 3, 7, 2]))
        let unpadded = try model(Tensor(shape: [1, 3], scalars: [3, 7, 2]))
        expectClose(padded, unpadded, atol: 1e-6)
        let bidirectional = Sequential {
            Embedding(inputDim: 10, outputDim: 4, maskZero: true)
            Bidirectional(GRU(units: 3, returnSequences: true))
            TimeDistributed(Dense(units: 2))
        }
        let post = try bidirectional(Tensor(shape: [1, 4], scalars: [3, 7, 0, 0]))
        let alone = try bidirectional(Tensor(shape: [1, 2], scalars: [3, 7]))
        expectClose(try post.sliced(0..<2, axis: 1), alone, atol: 1e-6)
    }

    @Test func modelFindsItsLayersByReflection() throws {
        final class Classifier: Model {
            let embedding = Embedding(numEmbeddings: 20, embeddingDim: 4, paddingIdx: 0)
            let lstm = LSTM(inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true)
            let cells = [GRUCell(inputSize: 2, hiddenSize: 2), GRUCell(inputSize: 2, hiddenSize: 2)]
            let fc = Dense(inputSize: 6, units: 3, initializer: .pytorch)
            let dropout = Dropout(p: 0.1)
            override func callAsFunction(_ input: Variable) throws -> Variable {
                let (output, _) = try lstm.forward(try dropout(try embedding(input)))
                return try fc(try output.swappingFirstTwoAxes().selecting(output.shape[1] - 1))
            }
        }
        let model = Classifier()
        #expect(model.namedParameters.map(\.name) == [
            "embedding.weight",
            "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
            "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
            "cells.0.weight_ih", "cells.0.weight_hh", "cells.0.bias_ih", "cells.0.bias_hh",
            "cells.1.weight_ih", "cells.1.weight_hh", "cells.1.bias_ih", "cells.1.bias_hh",
            "fc.weight", "fc.bias",
        ])
        model.train()
        #expect(model.dropout.isTraining && model.lstm.isTraining)
        model.eval()
        #expect(!model.dropout.isTraining)
        #expect(try model(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 0])).shape == [2, 3])
        #expect(String(describing: model) == """
            Classifier(
              (embedding): Embedding(20, 4, padding_idx=0)
              (lstm): LSTM(4, 6, num_layers=2, batch_first=True)
              (cells): ModuleList(
                (0-1): 2 x GRUCell(2, 2)
              )
              (fc): Linear(in_features=6, out_features=3, bias=True)
              (dropout): Dropout(p=0.1, inplace=False)
            )
            """)
        final class Empty: Model {}
        #expect(throws: RecurrentError.self) { try Empty()(Variable(Tensor.zeros([1, 1]))) }
    }
}

@Suite struct RandomSeedTests {
    /// A seeded scope gives the same weights whatever runs concurrently beside it.
    @Test func seededScopesAreIndependentOfOtherThreads() async throws {
        let reference = withRandomSeed(5) { (0..<3).map { _ in Dense(inputSize: 4, units: 2).weight!.value } }
        let results = await withTaskGroup(of: [Tensor].self) { group in
            for _ in 0..<8 {
                group.addTask { withRandomSeed(5) { (0..<3).map { _ in Dense(inputSize: 4, units: 2).weight!.value } } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == reference })
        #expect(reference[0] != reference[1])
    }
}
