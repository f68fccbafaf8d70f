/// One direction of one recurrent layer over a whole sequence as a single autograd op.
///
/// Inputs: x [T, B, I] (time-major), h0 [B, P], c0 [B, H] for LSTM, and the direction's
/// weights. Its results — the outputs of every step [T, B, P], the final hidden state [B, P]
/// (and cell state [B, H]) — are each a variable over one hub node, which collects their
/// gradients and runs the hand-written BPTT once.
func recordSequence(
    kind: CellKind, x: Variable, h0: Variable, c0: Variable?,
    weightIH: Variable, weightHH: Variable, biasIH: Variable?, biasHH: Variable?, weightHR: Variable? = nil,
    valid: [Bool]?, reverse: Bool, kerasMasking: Bool, dropoutMasks: (input: Tensor?, recurrent: Tensor?) = (nil, nil),
    activation: ActivationFunction? = nil, recurrentActivation: ActivationFunction = .sigmoid
) throws -> (output: Variable, hN: Variable, cN: Variable?) {
    let steps = x.shape[0], batch = x.shape[1]
    let copies = kerasMasking ? valid.map {
        SequenceInput.carriedOutputs(valid: $0, steps: steps, batch: batch, reverse: reverse)
    } : nil
    let input = SequenceInput(
        x: x.value, h0: h0.value, c0: c0?.value, valid: valid, reverse: reverse, copiesState: copies,
        activation: activation ?? (kind == .simpleRNN(relu: true) ? .relu : .tanh),
        recurrentActivation: recurrentActivation,
        inputMasks: dropoutMasks.input, recurrentMasks: dropoutMasks.recurrent)
    let weights = SequenceWeights(
        weightIH: weightIH.value, weightHH: weightHH.value, biasIH: biasIH?.value, biasHH: biasHH?.value,
        weightHR: weightHR?.value)

    // Whether a backward pass can follow: otherwise nothing is saved for it.
    let optional = [c0, biasIH, biasHH, weightHR]
    let inputs = [x, h0, weightIH, weightHH] + optional.compactMap { $0 }
    let saving = GradientMode.isEnabled && inputs.contains { $0.requiresGrad }
    let fast = !SequencePath.generalOnly && input.allowsFastPath(kind, projected: weightHR != nil)
    let needsDX = x.requiresGrad

    let results: [Tensor]
    let backward: ([Tensor]) -> SequenceGradients
    switch kind {
    case .lstm where fast:
        let r = lstmForwardFast(input, weights, saving: saving)
        results = [r.y, r.hN, r.cN]
        backward = { g in
            lstmBackwardFast(input, weights, r.saved, dY: g[0], dHN: g[1], dCN: g[2], needsInputGradient: needsDX)
        }
    case .gru(resetAfter: true) where fast:
        let r = gruForwardFast(input, weights, saving: saving)
        results = [r.y, r.hN]
        backward = { g in gruBackwardFast(input, weights, r.saved, dY: g[0], dHN: g[1], needsInputGradient: needsDX) }
    case .simpleRNN where fast:
        let r = simpleRNNForwardFast(input, weights, saving: saving)
        results = [r.y, r.hN]
        backward = { g in simpleRNNBackwardFast(input, weights, r.saved, dY: g[0], dHN: g[1], needsInputGradient: needsDX) }
    case .lstm:
        let r = lstmForward(input, weights)
        results = [r.y, r.hN, r.cN]
        backward = { g in lstmBackward(input, weights, r.saved, dY: g[0], dHN: g[1], dCN: g[2]) }
    case .gru(let resetAfter):
        let r = gruForward(input, weights, resetAfter: resetAfter)
        results = [r.y, r.hN]
        backward = { g in gruBackward(input, weights, r.saved, resetAfter: resetAfter, dY: g[0], dHN: g[1]) }
    case .simpleRNN:
        let r = simpleRNNForward(input, weights)
        results = [r.y, r.hN]
        backward = { g in simpleRNNBackward(input, weights, r.saved, dY: g[0], dHN: g[1]) }
    }

    guard saving else {
        // Nothing to differentiate: the results as constants.
        return (Variable(results[0]), Variable(results[1]), results.count > 2 ? Variable(results[2]) : nil)
    }
    // One hub node runs the BPTT; each result is its own node over the hub that only hands its
    // gradient to the hub (no flattening of the results, no splitting of their gradients). The
    // hub's backward runs after every result's (it is their input), and each pass clears the box.
    let box = SequenceGradientBox(count: results.count), shapes = results.map(\.shape)
    let hub = Variable.record(Tensor.zeros([1]), inputs: inputs) { _ in
        let g = shapes.indices.map { box.gradients[$0] ?? Tensor.zeros(shapes[$0]) }
        box.gradients = Array(repeating: nil, count: shapes.count)
        let d = backward(g)
        let optionalGrads = [d.c0, d.biasIH, d.biasHH, d.weightHR]
        var grads: [Tensor?] = [d.x, d.h0, d.weightIH, d.weightHH]
        for (variable, grad) in zip(optional, optionalGrads) where variable != nil { grads.append(grad) }
        return grads
    }
    let pieces = results.indices.map { i in
        Variable.record(results[i], inputs: [hub]) { g in
            box.gradients[i] = g
            return [Tensor.zeros([1])]
        }
    }
    return (pieces[0], pieces[1], pieces.count > 2 ? pieces[2] : nil)
}

/// Which implementation a sequence op may take: tests set `generalOnly` to compare the fast
/// sweep against the general path on the same layer.
enum SequencePath {
    @TaskLocal static var generalOnly = false
}

/// The results' gradients of one recorded sequence op, handed to its hub node.
private final class SequenceGradientBox {
    var gradients: [Tensor?]
    init(count: Int) { gradients = Array(repeating: nil, count: count) }
}
