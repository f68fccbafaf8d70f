import Foundation
import Testing
@testable import Recurrent

/// The one configuration value: what each face makes, what a saved model stores, and a layer
/// made from it.
@Suite struct RecurrentConfigurationTests {
    @Test func facesMakeTheirFrameworksDefaults() {
        let torch = LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, projSize: 2).configuration
        #expect(torch == RecurrentConfiguration(kind: .lstm, inputSize: 3, hiddenSize: 5, numLayers: 2, projSize: 2))
        #expect(torch.maskSemantics == .packed && torch.returnSequences && !torch.batchFirst && torch.activation == .tanh)
        let keras = GRU(units: 4, resetAfter: false, recurrentDropout: 0.25).configuration
        #expect(keras.convention == .keras && keras.batchFirst && keras.maskSemantics == .keras)
        #expect(keras.kind == .gru(resetAfter: false) && keras.recurrentDropout == 0.25 && !keras.returnSequences)
        #expect(SimpleRNN(inputSize: 2, hiddenSize: 3, nonlinearity: .relu).configuration.activation == .relu)
    }

    /// Saved models store the configuration as JSON under these keys; a model saved before the
    /// configuration became one value (the same keys) still loads.
    @Test func decodesTheArchivedForm() throws {
        let json = """
            {"kind":{"lstm":{}},"inputSize":6,"hiddenSize":8,"numLayers":1,"projSize":0,"bidirectional":false,
             "useBias":true,"batchFirst":true,"returnSequences":true,"returnState":false,"goBackwards":true,
             "stateful":false,"unitForgetBias":true,"convention":"keras","interLayerDropout":0,"inputDropout":0.1,
             "recurrentDropout":0.2,"activation":"tanh","recurrentActivation":"hard_sigmoid","maskSemantics":"keras"}
            """
        let decoded = try JSONDecoder().decode(RecurrentConfiguration.self, from: Data(json.utf8))
        var expected = RecurrentConfiguration.keras(
            .lstm, units: 8, activation: .tanh, recurrentActivation: .hardSigmoid, useBias: true, unitForgetBias: true,
            dropout: 0.1, recurrentDropout: 0.2, returnSequences: true, returnState: false, goBackwards: true,
            stateful: false)
        expected.inputSize = 6
        #expect(decoded == expected)
        let again = try JSONDecoder().decode(RecurrentConfiguration.self, from: JSONEncoder().encode(decoded))
        #expect(again == decoded)
    }

    /// A layer made from a face's configuration with the face's seed is that face's layer: the
    /// same weights and the same outputs.
    @Test func layerFromConfigurationEqualsTheFace() throws {
        let face = GRU(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 9)
        let copy = RecurrentLayer(face.configuration, seed: 9)
        #expect(copy.configuration == face.configuration)
        let x = Variable(random([5, 2, 3], seed: 4))
        #expect(try copy.run(x, initialState: nil, mask: nil).output.value == face.forward(x).output.value)
    }

    @Test func badConfigurationIsThrownAtTheFirstCall() {
        let layer = RecurrentLayer(RecurrentConfiguration(kind: .gru(resetAfter: true), inputSize: 3, hiddenSize: 4, projSize: 2))
        let x = Variable(Tensor.zeros([2, 1, 3]))
        #expect(throws: RecurrentError.self) { _ = try layer.run(x, initialState: nil, mask: nil) }
    }
}
