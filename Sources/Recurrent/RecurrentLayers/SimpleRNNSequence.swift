import CRecurrentKernels

// Simple (Elman) RNN over a whole sequence: forward, then its backpropagation through time.
//
//   h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh),   act = tanh (default), relu, sigmoid, …

/// What the SimpleRNN backward pass needs from its forward pass.
struct SimpleRNNSaved {
    var activations: Tensor  // [N, H] h leaving step t, real rows
    var hPrev: Tensor        // [T, B, H] the states h_t
}

func simpleRNNForward(
    _ input: SequenceInput, _ w: SequenceWeights, saving: Bool
) -> (y: Tensor, hN: Tensor, saved: SimpleRNNSaved) {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1]
    var states = uninitializedTensor([T, B, H])  // h_t of every step, written in full by the sweep
    let hp = states.mutablePointer(), h0 = input.h0.pointer
    let act = input.activation.kernelCode
    let sweep = ForwardSweep(input, weightHH: w.weightHH, gates: 1, reuse: !saving), rows = sweep.rows
    let bias = w.combinedBias  // added by the step kernel
    let bp = bias?.pointer

    // The activations of the real rows, [rows.count, H].
    let a = withProjectionBuffer(count: rows.count * H, saving: saving) { ap in
        projectInputs(input.x, rows: rows, weight: w.weightIH, masks: input.inputMasks, into: ap, reuse: !saving)
        sweep.run(h0: h0, states: hp) { t, b, range, product, _, hOut in
            let j0 = range.lowerBound
            rk_rnn_forward(range.count, ap + rows.index(t, b) * H + j0, bp.map { $0 + j0 }, product, hOut + j0, act)
        }
    }
    let hN = sweep.finalState(states), y = sweep.outputs(states)
    withExtendedLifetime(bias) {}
    guard saving else { return (y, hN, SimpleRNNSaved(activations: a, hPrev: a)) }
    return (y, hN, SimpleRNNSaved(activations: a, hPrev: states))
}

func simpleRNNBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: SimpleRNNSaved,
    dY: Tensor, dHN: Tensor, needsInputGradient: Bool
) -> SequenceGradients {
    let H = w.weightHH.shape[1]
    let sweep = BackwardSweep(input, weightHH: w.weightHH, gates: 1), rows = sweep.rows
    // dA of the real rows [rows.count, H], written in full by the sweep.
    return withWorkspace(count: rows.count * H) { dap in
    var dh = dHN
    let dhp = dh.mutablePointer(), act = saved.activations.pointer
    let code = input.activation.kernelCode

    sweep.run(dA: dap, dh: dhp, dY: dY.pointer) { _, t, range, b, dhRow in
        let row = rows.index(t, b) * H + range.lowerBound, dhb = dhRow + range.lowerBound
        rk_rnn_backward(range.count, act + row, dhb, dap + row, code)
        dhb.update(repeating: 0, count: range.count)  // all of dh_{t−1} goes through W_hh
    }
    return sweepGradients(
        dap, sweep: sweep, input: input, weights: w, states: saved.hPrev, dh: &dh, dc: nil,
        needsInputGradient: needsInputGradient)
    }
}
