import Foundation
import Testing
@testable import Recurrent

/// The PyTorch-style layers against `torch.nn.RNN/LSTM/GRU` (torch 2.13.0,
/// `tools/reference/make_torch_rnn_fixtures.py`): outputs, final states, and the gradients of
/// L = Σ output⊙w_output + Σ h_n⊙w_h_n (+ Σ c_n⊙w_c_n) with respect to the input, the initial
/// states and every weight. Covers each cell × 1–3 layers × uni/bi × batch-first × initial
/// state × bias × full/variable lengths, plus edge shapes, T = 500 and unbatched input (x of
/// [T, I], states of [layers·directions, H]), each through the PyTorch face's call.
/// Tolerance: |ours − torch| ≤ 1e-5 + 1e-5·|torch| forward, 1e-5 + 1e-4·|torch| gradients.
@Suite struct TorchParityTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let mode: String
        let input_size: Int
        let hidden_size: Int
        let num_layers: Int
        let bias: Bool
        let batch_first: Bool
        let bidirectional: Bool
        let proj_size: Int
        let initial_state: Bool
        let lengths: [Int]?
        let unbatched: Bool
        var testDescription: String { name }
    }

    static func load() throws -> (tensors: [String: Tensor], cases: [Case], metadata: [String: String]) {
        let (tensors, metadata) = try Fixtures.load("torch_rnn")
        return (tensors, try JSONDecoder().decode([Case].self, from: Data((metadata["cases"] ?? "").utf8)), metadata)
    }
    static let fixture = try? load()
    static var cases: [Case] { fixture?.cases ?? [] }

    @Test func fixtureIsComplete() throws {
        let cases = try Self.load().cases
        #expect(cases.count >= 288)
        #expect(Set(cases.map(\.mode)) == ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
    }

    static func makeLayer(_ c: Case) -> RecurrentLayer {
        switch c.mode {
        case "LSTM":
            return LSTM(inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers, bias: c.bias,
                        batchFirst: c.batch_first, bidirectional: c.bidirectional, projSize: c.proj_size)
        case "GRU":
            return GRU(inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers, bias: c.bias,
                       batchFirst: c.batch_first, bidirectional: c.bidirectional)
        default:
            return SimpleRNN(inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers,
                             nonlinearity: c.mode == "RNN_RELU" ? .relu : .tanh, bias: c.bias,
                             batchFirst: c.batch_first, bidirectional: c.bidirectional)
        }
    }

    @Test(arguments: Self.cases)
    func matchesPyTorch(_ c: Case) throws {
        let t = try #require(Self.fixture).tensors
        func get(_ key: String) throws -> Tensor { try #require(t["\(c.name).\(key)"], "missing \(c.name).\(key)") }
        let layer = Self.makeLayer(c)
        var state: [String: Tensor] = [:]
        for (name, _) in layer.namedParameters { state[name] = try get(name) }
        try layer.loadStateDict(state)

        let x = Variable(try get("input"), requiresGrad: true)
        let h0 = c.initial_state ? Variable(try get("h0"), requiresGrad: true) : nil
        let c0 = c.initial_state && c.mode == "LSTM" ? Variable(try get("c0"), requiresGrad: true) : nil
        let mask = c.lengths.map { SequenceMask.lengths($0) }
        let r = try layer.runPyTorch(x, h0.map { (h: $0, c: c0) }, mask: mask)

        expectClose(r.output.value, try get("output"), atol: 1e-5, rtol: 1e-5, "\(c.name) output")
        expectClose(r.h.value, try get("h_n"), atol: 1e-5, rtol: 1e-5, "\(c.name) h_n")
        var loss = try (try r.output * Variable(try get("w_output"))).sum() + (try r.h * Variable(try get("w_h_n"))).sum()
        if let cN = r.c {
            expectClose(cN.value, try get("c_n"), atol: 1e-5, rtol: 1e-5, "\(c.name) c_n")
            loss = try loss + (try cN * Variable(try get("w_c_n"))).sum()
        }
        try loss.backward()
        expectClose(try #require(x.grad), try get("grad.input"), atol: 1e-5, rtol: 1e-4, "\(c.name) d input")
        if let h0 { expectClose(try #require(h0.grad), try get("grad.h0"), atol: 1e-5, rtol: 1e-4, "\(c.name) d h0") }
        if let c0 { expectClose(try #require(c0.grad), try get("grad.c0"), atol: 1e-5, rtol: 1e-4, "\(c.name) d c0") }
        for (name, variable) in layer.namedParameters {
            let grad = try #require(variable.grad, "\(c.name) no gradient for \(name)")
            expectClose(grad, try get("grad.\(name)"), atol: 1e-5, rtol: 1e-4, "\(c.name) d \(name)")
        }
    }

    @Test func parameterCountsMatchPyTorch() throws {
        let counts = try JSONDecoder().decode([String: Int].self, from: Data(try Self.load().metadata["param_counts"]!.utf8))
        #expect(LSTM(inputSize: 5, hiddenSize: 64).parameterCount == counts["nn.LSTM(5, 64)"])
        #expect(SimpleRNN(inputSize: 10, hiddenSize: 20, numLayers: 3).parameterCount == counts["nn.RNN(10, 20, num_layers=3)"])
        #expect(LSTM(inputSize: 5, hiddenSize: 64).parameterCount == 18176)
    }
}
