import Testing
@testable import Recurrent

/// The fast sweep (hidden units split across two threads, fused gate kernels) against the
/// autograd cells unrolled over time on the same layer (`SequencePath.unrolled`): without padding, with
/// per-example lengths, with a Keras mask (holes and a fully padded example) and with leading
/// padding (later steps all real), under both mask semantics, and with Keras input and
/// recurrent dropout, LSTM projections, the classic GRU and every activation. Runs on every kernel ISA this CPU supports (forced;
/// serialized since the ISA is a process-wide setting), at batch 16 (products per step) and
/// batch 1 (the packed vector product). Sizes are large enough for the two-thread split.
/// Tolerance: float32 in a different order of operations, atol 1e-5 and rtol 1e-4.
@Suite(.serialized) struct FastPathTests {
    static func layers() -> [(String, RecurrentLayer)] {
        [
            ("tanh", SimpleRNN(inputSize: 24, hiddenSize: 80, numLayers: 2, bidirectional: true, seed: 1)),
            ("relu", SimpleRNN(inputSize: 24, hiddenSize: 80, nonlinearity: .relu, bidirectional: true, seed: 2)),
            ("lstm", LSTM(inputSize: 24, hiddenSize: 80, numLayers: 2, bidirectional: true, seed: 3)),
            ("gru", GRU(inputSize: 24, hiddenSize: 80, numLayers: 2, bidirectional: true, seed: 4)),
            // Projections: h split across both threads (P 40), all on one (P 5), and side by side.
            ("lstm proj 40", LSTM(inputSize: 24, hiddenSize: 80, numLayers: 2, projSize: 40, seed: 5)),
            ("lstm proj bidirectional", LSTM(inputSize: 24, hiddenSize: 80, bidirectional: true, projSize: 40, seed: 7)),
            ("lstm proj 5", LSTM(inputSize: 24, hiddenSize: 80, projSize: 5, seed: 6)),
            // Classic GRU (reset before the product): with both biases across threads, with Keras's one bias side by side.
            ("gru classic", RecurrentLayer(RecurrentConfiguration(
                kind: .gru(resetAfter: false), inputSize: 24, hiddenSize: 80, numLayers: 2), seed: 8)),
            ("gru classic keras", RecurrentLayer(RecurrentConfiguration(
                kind: .gru(resetAfter: false), inputSize: 24, hiddenSize: 80, bidirectional: true, convention: .keras), seed: 9)),
            // Activations other than tanh and sigmoid (Keras's activation / recurrent_activation).
            ("lstm relu / hard sigmoid", RecurrentLayer(RecurrentConfiguration(
                kind: .lstm, inputSize: 24, hiddenSize: 80, activation: .relu, recurrentActivation: .hardSigmoid), seed: 10)),
            ("gru linear / sigmoid", RecurrentLayer(RecurrentConfiguration(
                kind: .gru(resetAfter: true), inputSize: 24, hiddenSize: 80, activation: .linear), seed: 11)),
            ("gru classic hard sigmoid / relu", RecurrentLayer(RecurrentConfiguration(
                kind: .gru(resetAfter: false), inputSize: 24, hiddenSize: 80, activation: .hardSigmoid,
                recurrentActivation: .relu), seed: 12)),
            ("simple sigmoid", RecurrentLayer(RecurrentConfiguration(
                kind: .simpleRNN(relu: false), inputSize: 24, hiddenSize: 80, activation: .sigmoid), seed: 13)),
        ]
    }

    enum Padding: CaseIterable { case none, lengths, kerasMask, leading }

    static func mask(_ padding: Padding, steps: Int, batch: Int) throws -> SequenceMask? {
        switch padding {
        case .none: return nil
        case .lengths: return .lengths((0..<batch).map { b in b % 4 == 3 ? steps : 1 + (b * 5) % steps })
        case .kerasMask:
            // Example b: step t real unless (t + b) % 3 == 0; example 2 has no real step.
            var flags: [Float] = []
            for b in 0..<batch {
                for t in 0..<steps { flags.append(b == 2 || (t + b) % 3 == 0 ? 0 : 1) }
            }
            return .mask(try Tensor(shape: [batch, steps], scalars: flags))
        case .leading:
            // Example b real from step b mod 3 on: the later steps have no padding at all.
            var flags: [Float] = []
            for b in 0..<batch {
                for t in 0..<steps { flags.append(t >= b % 3 ? 1 : 0) }
            }
            return .mask(try Tensor(shape: [batch, steps], scalars: flags))
        }
    }

    @Test(arguments: KernelISA.allCases.filter(isKernelISASupported), [(6, 16), (1, 16), (5, 1)])
    func fastPathMatchesGeneralPath(isa: KernelISA, shape: (steps: Int, batch: Int)) throws {
        try ForcedISA.with(isa) { try check(steps: shape.steps, batch: shape.batch, isa: isa) }
    }

    func check(steps: Int, batch: Int, isa: KernelISA) throws {
        if batch == 16 {
            #expect(StepPlan(hidden: 80, stateSize: 80, batch: batch, gates: 1).threads == min(gemmMaxThreads, 2))
        }
        for (name, layer) in Self.layers() {
            let x = random([steps, batch, 24], seed: 9)
            func run(_ mask: SequenceMask?) throws -> (output: Tensor, h: Tensor, grads: [Tensor]) {
                for p in layer.parameters { p.zeroGradient() }
                let input = Variable(x, requiresGrad: true)
                let r = try layer.run(input, initialState: nil, mask: mask)
                var generator = SeededGenerator(seed: 5)
                let weights = Tensor.randomUniform(r.output.shape, low: -1, high: 1, generator: &generator)
                try (try (try r.output * Variable(weights)).sum() + r.h.sum()).backward()
                return (r.output.value, r.h.value, [input.grad!] + layer.parameters.map { $0.grad! })
            }
            for padding in Padding.allCases where !(padding == .kerasMask && batch < 3) {
                for semantics in padding == .none ? [MaskSemantics.packed] : [.packed, .keras] {
                    for dropout in padding == .kerasMask || padding == .none ? [false, true] : [false] {
                        layer.maskSemantics = semantics
                        // Keras dropout: one input and one recurrent mask per gate and sequence; both
                        // runs draw the same masks from the layer's random stream.
                        (layer.isTraining, layer.inputDropout, layer.recurrentDropout) = dropout ? (true, 0.2, 0.3) : (false, 0, 0)
                        let mask = try Self.mask(padding, steps: steps, batch: batch), stream = layer.randomState
                        let fast = try run(mask)
                        layer.randomState = stream
                        let general = try SequencePath.$unrolled.withValue(true) { try run(mask) }
                        let what = "\(name) \(isa) \(padding) \(semantics) dropout \(dropout)"
                        expectClose(fast.output, general.output, atol: 1e-5, rtol: 1e-4, "\(what) output")
                        expectClose(fast.h, general.h, atol: 1e-5, rtol: 1e-4, "\(what) final state")
                        for (i, (a, b)) in zip(fast.grads, general.grads).enumerated() {
                            expectClose(a, b, atol: 1e-5, rtol: 1e-4, "\(what) gradient \(i)")
                        }
                    }
                }
            }
            (layer.isTraining, layer.inputDropout, layer.recurrentDropout) = (false, 0, 0)
            layer.maskSemantics = .packed
        }
    }
}
