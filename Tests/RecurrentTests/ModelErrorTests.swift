import Foundation
import Testing
@testable import Recurrent

/// Bad input to models is a clear error that names the problem, never a crash.
@Suite struct ModelErrorTests {
    /// Where a new user tripped: an id past the vocabulary, a binary target outside [0, 1].
    @Test func tokenIdsAndBinaryTargetsAreChecked() throws {
        let embedding = Embedding(numEmbeddings: 50, embeddingDim: 8)
        let ids = try Tensor([[1, 2, 3], [4, 57, 6]])
        #expect(message { _ = try embedding(Variable(ids)) }
                == "Embedding: token id 57.0 at position [1, 1] is outside the vocabulary of 50 rows (ids 0..<50)")
        #expect(message { _ = try embedding(Variable(try Tensor([[1, -1]]))) }.contains("token id -1.0"))
        let logits = Variable(Tensor.zeros([2, 2]))
        #expect(message { _ = try BCEWithLogitsLoss()(logits, try Tensor([[0, 1], [2, 0]])) }
                == "binary_crossentropy: target 2.0 at position [1, 0] is outside [0, 1]")
    }

    @Test func summaryBeforeTheInputShapeIsKnown() {
        let model = Sequential { LSTM(units: 4); Dense(units: 1) }
        #expect(message { _ = try model.summaryText() }.contains("input shape is not known"))
    }

    @Test func datasetProblems() throws {
        let model = Sequential { Input(shape: [3, 2]); SimpleRNN(units: 2); Dense(units: 1) }
        model.progressWriter = { _ in }
        #expect(message { try model.fit(Tensor.zeros([4, 3, 2]), Tensor.zeros([4, 1])) }.contains("compile"))
        model.compile(optimizer: Adam(), loss: .meanSquaredError)
        #expect(message { try model.fit(Tensor.zeros([0, 3, 2]), Tensor.zeros([0, 1])) }.contains("empty"))
        #expect(message { try model.fit(Tensor.zeros([4, 3, 2]), Tensor.zeros([5, 1])) }.contains("x has 4 examples but y has 5"))
        #expect(message { try model.fit(Tensor.zeros([4, 3, 2]), Tensor.zeros([4, 1]), batchSize: 0) }.contains("batchSize"))
        #expect(message { try model.fit(Tensor.zeros([4, 3, 2]), Tensor.zeros([4, 1]), validationSplit: 1) }.contains("validationSplit"))
        #expect(message { try model.fit(Tensor.zeros([4, 5, 2]), Tensor.zeros([4, 1])) }.contains("[batch, 3, 2]"))
        // A loss that does not fit the output: targets of 3 values per example for 1 output.
        #expect(message { try model.fit(Tensor.zeros([4, 3, 2]), Tensor.zeros([4, 3])) }.contains("target"))
    }

    @Test func labelsOutOfRange() throws {
        let model = Sequential { Input(shape: [2, 1]); SimpleRNN(units: 2); Dense(units: 3) }
        model.progressWriter = { _ in }
        model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossEntropy(fromLogits: true), metrics: [.accuracy])
        let text = message { try model.fit(Tensor.zeros([2, 2, 1]), Tensor([0, 3])) }
        #expect(text.contains("label 3") && text.contains("0..<3"))
        #expect(message { try model.fit(Tensor.zeros([2, 2, 1]), Tensor([0, 1]), classWeight: [0: 1]) }.contains("class 1"))
    }

    @Test func weightsThatDoNotFit() throws {
        let model = Sequential { Input(shape: [4, 3]); LSTM(units: 5); Dense(units: 2) }
        try model.build()
        var state = model.stateDict()
        state["lstm.weight_hh_l0"] = Tensor.zeros([20, 4])
        let text = message { try model.loadStateDict(state) }
        #expect(text.contains("lstm.weight_hh_l0") && text.contains("[20, 5]") && text.contains("[20, 4]"))
        state.removeValue(forKey: "lstm.weight_hh_l0")
        #expect(message { try model.loadStateDict(state) }.contains("missing lstm.weight_hh_l0"))
        #expect(message { try model.setKerasWeights([Tensor.zeros([3, 20])]) }.contains("run out at layer lstm"))
        let unbuilt = Sequential { LSTM(units: 5) }
        #expect(message { try unbuilt.loadStateDict(state) }.contains("no parameters yet"))
    }

    @Test func loadingSomethingThatIsNotAModel() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-model-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(["w": Tensor.zeros([2])], to: path)
        #expect(message { _ = try Sequential.load(from: path) }.contains("not a saved Sequential model"))
        #expect(message { _ = try Sequential.load(from: path + ".missing") }.contains(".missing"))
    }

    @Test func customLayersCannotBeSavedWhole() throws {
        final class Doubler: Layer {
            var namedParameters: [(name: String, variable: Variable)] { [] }
            func callAsFunction(_ input: Variable) throws -> Variable { input * 2 }
        }
        let model = Sequential { Input(shape: [2]); Doubler() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("custom-\(UUID()).safetensors").path
        #expect(message { try model.save(to: path) }.contains("saveWeights"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
