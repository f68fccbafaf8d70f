import Testing
@testable import Recurrent

/// Finite-difference checks of the fused sequence ops (tolerances in GradientCheck.swift):
/// every cell kind, both directions, full and variable lengths, packed and Keras masking,
/// with and without biases; gradients of the input, the initial states and every weight.
@Suite struct SequenceGradientTests {
    static let kinds: [CellKind] = [.simpleRNN(relu: false), .simpleRNN(relu: true), .lstm,
                                    .gru(resetAfter: true), .gru(resetAfter: false)]

    @Test(arguments: kinds, [false, true])
    func finiteDifferences(kind: CellKind, reverse: Bool) throws {
        let T = 4, B = 3, I = 2, H = 3, G = kind.gateCount * H
        for (mask, keras, bias) in [(false, false, true), (true, false, true), (true, true, false)] {
            let valid: [Bool]? = mask ? (0..<(T * B)).map { i in
                let t = i / B, b = i % B
                return b == 1 ? t < 2 : (b == 2 ? t >= 1 : true)  // right- and left-padded rows
            } : nil
            var inputs = [random([T, B, I], seed: 1), random([B, H], seed: 2), random([G, I], seed: 3),
                          random([G, H], seed: 4)]
            if kind.hasCellState { inputs.append(random([B, H], seed: 5)) }
            if bias { inputs += [random([G], seed: 6), random([G], seed: 7)] }
            // ReLU has a kink at 0; keep pre-activations away from it by a margin ε cannot cross.
            let epsilon: Float = kind == .simpleRNN(relu: true) ? 1e-3 : 1e-2
            try checkGradients(inputs, epsilon: epsilon) { v in
                let c0 = kind.hasCellState ? v[4] : nil
                let b = bias ? Array(v.suffix(2)) : []
                let r = try recordSequence(
                    configuration(kind, H, keras: keras),
                    DirectionParameters(weightIH: v[2], weightHH: v[3], biasIH: b.first, biasHH: b.last, weightHR: nil),
                    x: v[0], h0: v[1], c0: c0, valid: valid, reverse: reverse)
                var parts = [try r.output.reshaped([-1]), try r.hN.reshaped([-1])]
                if let c = r.cN { parts.append(try c.reshaped([-1])) }
                return try Variable.concatenate(parts, axis: 0)
            }
        }
    }

    /// LSTM with a projection (h = (o ⊙ tanh c)·W_hrᵀ, P < H), full and padded, both directions;
    /// the gradient of W_hr too.
    @Test(arguments: [false, true])
    func finiteDifferencesWithProjection(reverse: Bool) throws {
        let T = 4, B = 3, I = 2, H = 3, P = 2, G = 4 * H
        for (mask, keras) in [(false, false), (true, false), (true, true)] {
            let valid: [Bool]? = mask ? (0..<(T * B)).map { i in i % B == 1 ? i / B < 2 : (i % B == 2 ? i / B >= 1 : true) } : nil
            let inputs = [random([T, B, I], seed: 1), random([B, P], seed: 2), random([G, I], seed: 3),
                          random([G, P], seed: 4), random([B, H], seed: 5), random([G], seed: 6), random([P, H], seed: 8)]
            try checkGradients(inputs, epsilon: 1e-2) { v in
                var c = configuration(.lstm, H, keras: keras)
                c.projSize = P
                let r = try recordSequence(
                    c, DirectionParameters(weightIH: v[2], weightHH: v[3], biasIH: v[5], biasHH: nil, weightHR: v[6]),
                    x: v[0], h0: v[1], c0: v[4], valid: valid, reverse: reverse)
                return try Variable.concatenate(
                    [try r.output.reshaped([-1]), try r.hN.reshaped([-1]), try r.cN!.reshaped([-1])], axis: 0)
            }
        }
    }

    /// Keras's variational dropout: fixed per-gate masks on the input and on h.
    @Test(arguments: kinds)
    func finiteDifferencesWithDropoutMasks(kind: CellKind) throws {
        let T = 4, B = 2, I = 3, H = 3, G = kind.gateCount * H
        var generator = SeededGenerator(seed: 11)
        func mask(_ shape: [Int]) -> Tensor {
            Tensor.randomUniform(shape, generator: &generator).map { $0 < 0.3 ? 0 : 1 / 0.7 }
        }
        let masks = (input: mask([kind.gateCount, B, I]), recurrent: mask([kind.gateCount, B, H]))
        var inputs = [random([T, B, I], seed: 1), random([B, H], seed: 2), random([G, I], seed: 3),
                      random([G, H], seed: 4), random([G], seed: 6), random([G], seed: 7)]
        if kind.hasCellState { inputs.append(random([B, H], seed: 5)) }
        let epsilon: Float = kind == .simpleRNN(relu: true) ? 1e-3 : 1e-2
        try checkGradients(inputs, epsilon: epsilon) { v in
            let r = try recordSequence(
                configuration(kind, H, keras: true),
                DirectionParameters(weightIH: v[2], weightHH: v[3], biasIH: v[4], biasHH: v[5], weightHR: nil),
                x: v[0], h0: v[1], c0: kind.hasCellState ? v[6] : nil, valid: nil, reverse: false, dropoutMasks: masks)
            return try Variable.concatenate([try r.output.reshaped([-1]), try r.hN.reshaped([-1])], axis: 0)
        }
    }

    /// With masks, each gate sees its own masked input and masked state: the LSTM step written
    /// out in autograd ops, gate by gate, gives the same sequence.
    @Test func lstmDropoutMasksMatchGateByGateReference() throws {
        let T = 3, B = 2, I = 3, H = 4
        var generator = SeededGenerator(seed: 12)
        func mask(_ shape: [Int]) -> Tensor {
            Tensor.randomUniform(shape, generator: &generator).map { $0 < 0.4 ? 0 : 1 / 0.6 }
        }
        let inputMasks = mask([4, B, I]), recurrentMasks = mask([4, B, H])
        let x = random([T, B, I], seed: 1), wih = random([4 * H, I], seed: 3), whh = random([4 * H, H], seed: 4)
        let fused = try recordSequence(
            configuration(.lstm, H, keras: true),
            DirectionParameters(weightIH: Variable(wih), weightHH: Variable(whh), biasIH: nil, biasHH: nil, weightHR: nil),
            x: Variable(x), h0: Variable(Tensor.zeros([B, H])), c0: Variable(Tensor.zeros([B, H])), valid: nil,
            reverse: false, dropoutMasks: (inputMasks, recurrentMasks))
        var h = Tensor.zeros([B, H]), c = Tensor.zeros([B, H])
        var outputs: [Tensor] = []
        for t in 0..<T {
            let xt = try x.selecting(t)
            let a = try (0..<4).map { g in
                let wi = try wih.sliced((g * H)..<((g + 1) * H)), wh = try whh.sliced((g * H)..<((g + 1) * H))
                return try (try xt * inputMasks.selecting(g)).matmul(wi, transposeOther: true)
                    + (try h * recurrentMasks.selecting(g)).matmul(wh, transposeOther: true)
            }
            c = try (try a[1].sigmoid() * c) + (try a[0].sigmoid() * a[2].tanh())
            h = try a[3].sigmoid() * c.tanh()
            outputs.append(try h.reshaped([1, B, H]))
        }
        expectClose(fused.output.value, try Tensor.concatenate(outputs), atol: 1e-5, rtol: 1e-5, "masked LSTM")
    }

    /// A one-layer configuration of `kind` with mask semantics packed or Keras.
    func configuration(_ kind: CellKind, _ hidden: Int, keras: Bool) -> RecurrentConfiguration {
        RecurrentConfiguration(kind: kind, hiddenSize: hidden, maskSemantics: keras ? .keras : .packed)
    }

    @Test func recurrentDropoutActsOnlyInTraining() throws {
        let gru = GRU(units: 4, recurrentDropout: 0.5, returnSequences: true, seed: 3)
        let x = Variable(random([2, 5, 3], seed: 4))
        let a = try gru(x).value
        gru.isTraining = true
        let b = try gru(x).value
        gru.isTraining = false
        #expect(a != b)
        #expect(try gru(x).value == a)
    }
}
