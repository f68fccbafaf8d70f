/// One direction of one recurrent layer over a whole sequence as a single autograd op.
///
/// Inputs: x [T, B, I] (time-major), h0 [B, H], c0 [B, H] for LSTM, and the direction's weights.
/// The result is [T + 1, B, H] (or [T + 2, B, H] for LSTM): the outputs of every step followed
/// by the final hidden state (and cell state). `split` separates them; autograd routes their
/// gradients back into this op's hand-written BPTT.
func recordSequence(
    kind: CellKind, x: Variable, h0: Variable, c0: Variable?,
    weightIH: Variable, weightHH: Variable, biasIH: Variable?, biasHH: Variable?,
    valid: [Bool]?, reverse: Bool, kerasMasking: Bool
) throws -> (output: Variable, hN: Variable, cN: Variable?) {
    let steps = x.shape[0], batch = x.shape[1]
    let copies = kerasMasking ? valid.map {
        SequenceInput.carriedOutputs(valid: $0, steps: steps, batch: batch, reverse: reverse)
    } : nil
    let input = SequenceInput(
        x: x.value, h0: h0.value, c0: c0?.value, valid: valid, reverse: reverse, copiesState: copies)
    let weights = SequenceWeights(
        weightIH: weightIH.value, weightHH: weightHH.value, biasIH: biasIH?.value, biasHH: biasHH?.value)
    let T = input.steps
    let parts: [Tensor]
    let backward: (Tensor) -> SequenceGradients
    switch kind {
    case .lstm:
        let r = lstmForward(input, weights)
        parts = [r.y, try r.hN.reshaped([1] + r.hN.shape), try r.cN.reshaped([1] + r.cN.shape)]
        backward = { g in
            let pieces = try! g.split(sizes: [T, 1, 1], axis: 0)
            return lstmBackward(
                input, weights, r.saved, dY: pieces[0], dHN: try! pieces[1].reshaped(r.hN.shape),
                dCN: try! pieces[2].reshaped(r.cN.shape))
        }
    case .gru(let resetAfter):
        let r = gruForward(input, weights, resetAfter: resetAfter)
        parts = [r.y, try r.hN.reshaped([1] + r.hN.shape)]
        backward = { g in
            let pieces = try! g.split(sizes: [T, 1], axis: 0)
            return gruBackward(
                input, weights, r.saved, resetAfter: resetAfter, dY: pieces[0],
                dHN: try! pieces[1].reshaped(r.hN.shape))
        }
    case .simpleRNN(let relu):
        let r = simpleRNNForward(input, weights, relu: relu)
        parts = [r.y, try r.hN.reshaped([1] + r.hN.shape)]
        backward = { g in
            let pieces = try! g.split(sizes: [T, 1], axis: 0)
            return simpleRNNBackward(
                input, weights, r.saved, relu: relu, dY: pieces[0], dHN: try! pieces[1].reshaped(r.hN.shape))
        }
    }

    var inputs = [x, h0, weightIH, weightHH]
    if let c0 { inputs.append(c0) }
    if let biasIH { inputs.append(biasIH) }
    if let biasHH { inputs.append(biasHH) }
    let combined = Variable.record(try Tensor.concatenate(parts, axis: 0), inputs: inputs) { g in
        let d = backward(g)
        var grads: [Tensor?] = [d.x, d.h0, d.weightIH, d.weightHH]
        if c0 != nil { grads.append(d.c0) }
        if biasIH != nil { grads.append(d.biasIH) }
        if biasHH != nil { grads.append(d.biasHH) }
        return grads
    }
    let pieces = try combined.split(sizes: kind.hasCellState ? [T, 1, 1] : [T, 1], axis: 0)
    let state = h0.shape
    return (pieces[0], try pieces[1].reshaped(state), kind.hasCellState ? try pieces[2].reshaped(state) : nil)
}
