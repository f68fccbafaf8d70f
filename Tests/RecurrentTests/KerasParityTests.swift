import Foundation
import Testing
@testable import Recurrent

/// The Keras-style layers against Keras 3.15.1 (TensorFlow backend,
/// `tools/reference/make_keras_rnn_fixtures.py`): weights loaded in Keras's layout, outputs,
/// returned states and the gradients of L = Σ output⊙w_output + Σ state_k⊙w_state_k with
/// respect to the input and every weight (in Keras's layout). Covers SimpleRNN, LSTM and GRU
/// (reset after and before), return_sequences × return_state, go_backwards, right- and
/// left-padded masks, no bias, non-default activations (relu, sigmoid, linear, hard sigmoid),
/// and Bidirectional with every merge mode.
/// Tolerance: 1e-5 + 1e-5·|keras| forward, 1e-5 + 1e-4·|keras| gradients.
@Suite struct KerasParityTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let layer: String
        let units: Int
        let reset_after: Bool?
        let activation: String
        let recurrent_activation: String?
        let use_bias: Bool
        let return_sequences: Bool
        let return_state: Bool
        let go_backwards: Bool
        let bidirectional: String?
        let masked: Bool
        let unit_forget_bias: Bool?
        var testDescription: String { name }
    }

    static func load() throws -> (tensors: [String: Tensor], cases: [Case], metadata: [String: String]) {
        let (tensors, metadata) = try Fixtures.load("keras_rnn")
        return (tensors, try JSONDecoder().decode([Case].self, from: Data((metadata["cases"] ?? "").utf8)), metadata)
    }
    static let fixture = try? load()
    static var cases: [Case] { fixture?.cases ?? [] }

    @Test func fixtureIsComplete() throws {
        let cases = try Self.load().cases
        #expect(cases.count >= 60)
        #expect(cases.contains { $0.bidirectional == "ave" } && cases.contains { $0.go_backwards && $0.masked })
    }

    static func makeLayer(_ c: Case, seed: UInt64) -> RecurrentLayer {
        let activation = ActivationFunction(rawValue: c.activation)!
        let recurrentActivation = ActivationFunction(rawValue: c.recurrent_activation ?? "sigmoid")!
        switch c.layer {
        case "LSTM":
            return LSTM(units: c.units, activation: activation, recurrentActivation: recurrentActivation,
                        useBias: c.use_bias, unitForgetBias: c.unit_forget_bias ?? true,
                        returnSequences: c.return_sequences, returnState: c.return_state,
                        goBackwards: c.go_backwards, seed: seed)
        case "GRU":
            return GRU(units: c.units, activation: activation, recurrentActivation: recurrentActivation,
                       useBias: c.use_bias, resetAfter: c.reset_after ?? true,
                       returnSequences: c.return_sequences, returnState: c.return_state,
                       goBackwards: c.go_backwards, seed: seed)
        default:
            return SimpleRNN(units: c.units, activation: activation, useBias: c.use_bias,
                             returnSequences: c.return_sequences, returnState: c.return_state,
                             goBackwards: c.go_backwards, seed: seed)
        }
    }

    @Test(arguments: Self.cases)
    func matchesKeras(_ c: Case) throws {
        let t = try #require(Self.fixture).tensors
        func get(_ key: String) throws -> Tensor { try #require(t["\(c.name).\(key)"], "missing \(c.name).\(key)") }
        func weights(_ prefix: String) throws -> [Tensor] {
            try ["kernel", "recurrent_kernel"].map { try get(prefix + $0) } + (c.use_bias ? [try get(prefix + "bias")] : [])
        }

        let forward = Self.makeLayer(c, seed: 1)
        let input = try get("input")
        let bidirectional = c.bidirectional.map { Bidirectional(forward, mergeMode: Bidirectional.MergeMode(rawValue: $0)!) }
        let layers = bidirectional.map { [("forward.", $0.forwardLayer), ("backward.", $0.backwardLayer)] } ?? [("", forward)]
        for (prefix, layer) in layers {
            layer.build(inputSize: input.shape[2])
            if c.use_bias {
                // Keras's bias initialisers: zeros, with ones in the forget block for unit_forget_bias.
                expectClose(try layer.kerasWeights()[2], try get(prefix + "initial_bias"), atol: 0, rtol: 0,
                            "\(c.name) \(prefix)initial bias")
            }
            try layer.setKerasWeights(try weights(prefix))
        }

        let x = Variable(input, requiresGrad: true)
        let mask = c.masked ? SequenceMask.mask(try get("mask")) : nil
        let results = try bidirectional?.call(x, mask: mask) ?? forward.call(x, mask: mask)
        expectClose(results[0].value, try get("output"), atol: 1e-5, rtol: 1e-5, "\(c.name) output")
        var loss = (try results[0] * Variable(try get("w_output"))).sum()
        for (k, state) in results.dropFirst().enumerated() {
            expectClose(state.value, try get("state\(k)"), atol: 1e-5, rtol: 1e-5, "\(c.name) state\(k)")
            loss = try loss + (try state * Variable(try get("w_state\(k)"))).sum()
        }
        #expect(results.count - 1 == (c.return_state ? (c.layer == "LSTM" ? 2 : 1) * (c.bidirectional == nil ? 1 : 2) : 0))
        try loss.backward()
        expectClose(try #require(x.grad), try get("grad.input"), atol: 1e-5, rtol: 1e-4, "\(c.name) d input")
        for (prefix, layer) in layers {
            let p = try #require(layer.layers.first?.first)
            let grads = try KerasLayout.keras(
                weightIH: try #require(p.weightIH.grad), weightHH: try #require(p.weightHH.grad),
                biasIH: p.biasIH?.grad, biasHH: p.biasHH?.grad, kind: layer.kind)
            for (name, grad) in zip(["kernel", "recurrent_kernel", "bias"], grads) {
                expectClose(grad, try get("grad.\(prefix)\(name)"), atol: 1e-5, rtol: 1e-4, "\(c.name) d \(prefix)\(name)")
            }
        }
    }

    @Test func parameterCountsMatchKeras() throws {
        let metadata = try Self.load().metadata
        let counts = try JSONSerialization.jsonObject(with: Data(metadata["param_counts"]!.utf8)) as! [String: Any]
        func built(_ layer: RecurrentLayer, features: Int = 5) -> RecurrentLayer {
            layer.build(inputSize: features)
            return layer
        }
        #expect(built(SimpleRNN(units: 64)).parameterCount == counts["SimpleRNN(64)"] as? Int)
        #expect(built(LSTM(units: 64)).parameterCount == counts["LSTM(64)"] as? Int)
        #expect(built(GRU(units: 64)).parameterCount == counts["GRU(64, reset_after=True)"] as? Int)
        #expect(built(GRU(units: 64, resetAfter: false)).parameterCount == counts["GRU(64, reset_after=False)"] as? Int)
        let bi = Bidirectional(built(LSTM(units: 64)))
        #expect(bi.parameterCount == counts["Bidirectional(LSTM(64))"] as? Int)
        let stack: [Int] = [built(LSTM(units: 64)).parameterCount, built(LSTM(units: 32), features: 64).parameterCount]
        let kerasStack = counts["LSTM(64, return_sequences=True) -> LSTM(32)"] as? [Int]
        #expect(stack == kerasStack)
        // The stated numbers, independently of the fixture.
        let stated: [Int] = [4480, 17920, 13632, 13440, 35840]
        #expect(stated == [
            built(SimpleRNN(units: 64)).parameterCount, built(LSTM(units: 64)).parameterCount,
            built(GRU(units: 64)).parameterCount, built(GRU(units: 64, resetAfter: false)).parameterCount,
            Bidirectional(built(LSTM(units: 64))).parameterCount])
    }
}
