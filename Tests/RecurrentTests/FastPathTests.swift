import Testing
@testable import Recurrent

/// The fast path (whole sequences, hidden units split across two threads, fused gate kernels)
/// against the general path on the same layer: passing full lengths routes the same work
/// through the general, maskable code. Sizes are large enough for the two-thread split.
/// Runs on every kernel ISA this CPU supports (forced; serialized since the ISA is a process-wide
/// setting), at batch 16 (products per step) and batch 1 (the packed vector product).
/// Tolerance: float32 in a different order of operations, atol 1e-5 and rtol 1e-4.
@Suite(.serialized) struct FastPathTests {
    static func layers() -> [(String, RecurrentLayer)] {
        [
            ("tanh", SimpleRNN(inputSize: 24, hiddenSize: 80, numLayers: 2, bidirectional: true, seed: 1)),
            ("relu", SimpleRNN(inputSize: 24, hiddenSize: 80, nonlinearity: .relu, bidirectional: true, seed: 2)),
            ("lstm", LSTM(inputSize: 24, hiddenSize: 80, numLayers: 2, bidirectional: true, seed: 3)),
            ("gru", GRU(inputSize: 24, hiddenSize: 80, numLayers: 2, bidirectional: true, seed: 4)),
        ]
    }

    @Test(arguments: KernelISA.allCases.filter(isKernelISASupported), [(6, 16), (1, 16), (5, 1)])
    func fastPathMatchesGeneralPath(isa: KernelISA, shape: (steps: Int, batch: Int)) throws {
        let (steps, batch) = shape
        try setKernelISA(isa)
        defer { try? setKernelISA(kernelInfo.bestISA) }
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
            let fast = try run(nil)
            let general = try run(.lengths(Array(repeating: steps, count: batch)))
            expectClose(fast.output, general.output, atol: 1e-5, rtol: 1e-4, "\(name) \(isa) output")
            expectClose(fast.h, general.h, atol: 1e-5, rtol: 1e-4, "\(name) \(isa) final state")
            for (i, (a, b)) in zip(fast.grads, general.grads).enumerated() {
                expectClose(a, b, atol: 1e-5, rtol: 1e-4, "\(name) \(isa) gradient \(i)")
            }
        }
    }
}
