import Testing
@testable import Recurrent

/// Each fused sequence op against the same network run cell by cell through autograd:
/// forward values and the gradients of every input and weight.
/// Tolerance: float32 in a different order of operations, atol 1e-5 and rtol 1e-4.
@Suite struct FusedVersusCellTests {
    enum Kind: String, CaseIterable { case tanh, relu, lstm, gru, gruResetBefore }

    static func layer(_ kind: Kind, bidirectional: Bool) -> RecurrentLayer {
        switch kind {
        case .tanh: return SimpleRNN(inputSize: 3, hiddenSize: 4, bidirectional: bidirectional, seed: 1)
        case .relu:
            return SimpleRNN(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, bidirectional: bidirectional, seed: 1)
        case .lstm: return LSTM(inputSize: 3, hiddenSize: 4, bidirectional: bidirectional, seed: 1)
        case .gru: return GRU(inputSize: 3, hiddenSize: 4, bidirectional: bidirectional, seed: 1)
        case .gruResetBefore:
            let g = GRU(units: 4, resetAfter: false, returnSequences: true, seed: 1)
            _ = try! g(Variable(Tensor.zeros([1, 1, 3])))
            g.maskSemantics = .packed
            return g
        }
    }

    static func cell(_ kind: Kind, _ p: DirectionParameters) -> RecurrentCell {
        let c: RecurrentCell = switch kind {
        case .tanh: SimpleRNNCell(inputSize: 3, hiddenSize: 4)
        case .relu: SimpleRNNCell(inputSize: 3, hiddenSize: 4, nonlinearity: .relu)
        case .lstm: LSTMCell(inputSize: 3, hiddenSize: 4)
        case .gru: GRUCell(inputSize: 3, hiddenSize: 4)
        case .gruResetBefore: GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false)
        }
        c.weightIH = p.weightIH
        c.weightHH = p.weightHH
        c.biasIH = p.biasIH
        c.biasHH = p.biasHH
        return c
    }

    /// One direction cell by cell with packed semantics: invalid steps keep the state and output 0.
    static func reference(
        _ cell: RecurrentCell, x: Variable, h0: Variable, c0: Variable, lengths: [Int]?, reverse: Bool
    ) throws -> (output: Variable, h: Variable, c: Variable) {
        let T = x.shape[0], B = x.shape[1]
        var h = h0, c = c0
        var outputs = [Variable?](repeating: nil, count: T)
        for t in reverse ? Array((0..<T).reversed()) : Array(0..<T) {
            let xt = try x.selecting(t)
            let m = Variable(try Tensor(shape: [B, 1], scalars: (0..<B).map { t < (lengths?[$0] ?? T) ? 1 : 0 }))
            let keep = try Variable(Tensor.ones([B, 1])) - m
            var hNew: Variable, cNew = c
            switch cell {
            case let cell as LSTMCell: (hNew, cNew) = try cell(xt, (h, c))
            case let cell as GRUCell: hNew = try cell(xt, h)
            case let cell as SimpleRNNCell: hNew = try cell(xt, h)
            default: fatalError()
            }
            outputs[t] = try (try m * hNew).reshaped([1, B, 4])
            h = try (try m * hNew) + (try keep * h)
            c = try (try m * cNew) + (try keep * c)
        }
        return (try Variable.concatenate(outputs.map { $0! }, axis: 0), h, c)
    }

    @Test(arguments: Kind.allCases, [false, true])
    func fusedEqualsCellByCell(kind: Kind, variableLengths: Bool) throws {
        for bidirectional in kind == .gruResetBefore ? [false] : [false, true] {
            let layer = Self.layer(kind, bidirectional: bidirectional)
            let D = bidirectional ? 2 : 1, T = 5, B = 3
            let lengths = variableLengths ? [5, 2, 4] : nil
            let xT = random([T, B, 3], seed: 2, low: -2, high: 2)
            let h0T = random([D, B, 4], seed: 3), c0T = random([D, B, 4], seed: 4)
            let weightsOut = random([T, B, 4 * D], seed: 5), weightsH = random([D, B, 4], seed: 6)
            let weightsC = random([D, B, 4], seed: 7)

            // Fused.
            let x = Variable(xT, requiresGrad: true), h0 = Variable(h0T, requiresGrad: true)
            let c0 = Variable(c0T, requiresGrad: true)
            let isLSTM = kind == .lstm
            let saved = layer.batchFirst
            let input = saved ? try x.swappingFirstTwoAxes() : x
            let r = try layer.run(
                input, initialState: (h0, isLSTM ? c0 : nil), mask: lengths.map { .lengths($0) })
            let out = saved ? try r.output.swappingFirstTwoAxes() : r.output
            var loss = try (try out * Variable(weightsOut)).sum() + (try r.h * Variable(weightsH)).sum()
            if let c = r.c { loss = try loss + (try c * Variable(weightsC)).sum() }
            try loss.backward()

            // Cell by cell, same parameters (fresh leaves so gradients do not mix).
            let xR = Variable(xT, requiresGrad: true), h0R = Variable(h0T, requiresGrad: true)
            let c0R = Variable(c0T, requiresGrad: true)
            var outputs: [Variable] = [], hs: [Variable] = [], cs: [Variable] = []
            var cells: [RecurrentCell] = []
            for d in 0..<D {
                let p = layer.layers[0][d]
                let copy = DirectionParameters(
                    weightIH: Variable(p.weightIH.value, requiresGrad: true),
                    weightHH: Variable(p.weightHH.value, requiresGrad: true),
                    biasIH: p.biasIH.map { Variable($0.value, requiresGrad: true) },
                    biasHH: p.biasHH.map { Variable($0.value, requiresGrad: true) }, weightHR: nil)
                let cell = Self.cell(kind, copy)
                cells.append(cell)
                let run = try Self.reference(
                    cell, x: xR, h0: try h0R.selecting(d), c0: try c0R.selecting(d), lengths: lengths,
                    reverse: d == 1)
                outputs.append(run.output)
                hs.append(try run.h.reshaped([1, B, 4]))
                cs.append(try run.c.reshaped([1, B, 4]))
            }
            let outR = try Variable.concatenate(outputs, axis: 2)
            let hR = try Variable.concatenate(hs, axis: 0), cR = try Variable.concatenate(cs, axis: 0)
            var lossR = try (try outR * Variable(weightsOut)).sum() + (try hR * Variable(weightsH)).sum()
            if isLSTM { lossR = try lossR + (try cR * Variable(weightsC)).sum() }
            try lossR.backward()

            let what = "\(kind) bi=\(bidirectional) lengths=\(variableLengths)"
            expectClose(out.value, outR.value, atol: 1e-5, rtol: 1e-4, "\(what) output")
            expectClose(r.h.value, hR.value, atol: 1e-5, rtol: 1e-4, "\(what) h_n")
            expectClose(x.grad!, xR.grad!, atol: 1e-5, rtol: 1e-4, "\(what) d input")
            expectClose(h0.grad!, h0R.grad!, atol: 1e-5, rtol: 1e-4, "\(what) d h0")
            if isLSTM { expectClose(c0.grad!, c0R.grad!, atol: 1e-5, rtol: 1e-4, "\(what) d c0") }
            for d in 0..<D {
                let fused = layer.layers[0][d], cell = cells[d]
                expectClose(fused.weightIH.grad!, cell.weightIH.grad!, atol: 1e-5, rtol: 1e-4, "\(what) dW_ih")
                expectClose(fused.weightHH.grad!, cell.weightHH.grad!, atol: 1e-5, rtol: 1e-4, "\(what) dW_hh")
                if let b = fused.biasIH { expectClose(b.grad!, cell.biasIH!.grad!, atol: 1e-5, rtol: 1e-4, "\(what) db_ih") }
                if let b = fused.biasHH { expectClose(b.grad!, cell.biasHH!.grad!, atol: 1e-5, rtol: 1e-4, "\(what) db_hh") }
            }
        }
    }
}
