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
                    kind: kind, x: v[0], h0: v[1], c0: c0, weightIH: v[2], weightHH: v[3],
                    biasIH: b.first, biasHH: b.last, valid: valid, reverse: reverse, kerasMasking: keras)
                var parts = [try r.output.reshaped([-1]), try r.hN.reshaped([-1])]
                if let c = r.cN { parts.append(try c.reshaped([-1])) }
                return try Variable.concatenate(parts, axis: 0)
            }
        }
    }
}
