import CRecurrentKernels

// Simple (Elman) RNN over a whole sequence: forward, then its backpropagation through time.
//
//   h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh),   act = tanh (default), relu, …

/// What the SimpleRNN backward pass needs from its forward pass.
struct SimpleRNNSaved {
    var activations: Tensor  // [T, B, H] h leaving step t (zero rows at invalid steps); [N, H] real rows on the fast path
    var hPrev: Tensor        // [T, B, H] h entering step t; the states on the fast path
}

func simpleRNNForward(
    _ input: SequenceInput, _ w: SequenceWeights
) -> (y: Tensor, hN: Tensor, saved: SimpleRNNSaved) {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1]
    var a = projectInputs(input.x, weight: w.weightIH, bias: w.combinedBias, masks: input.inputMasks)
    var hPrevAll = Tensor.zeros([T, B, H]), y = Tensor.zeros([T, B, H])
    var h = input.h0
    let ap = a.mutablePointer(), yp = y.mutablePointer(), hp = h.mutablePointer(), hPrev = hPrevAll.mutablePointer()
    var recurrent = RecurrentProduct(
        weight: w.weightHH.pointer, gates: 1, blockRows: H, stateSize: H, batch: B, masks: input.recurrentMasks)

    for t in input.order {
        let step = ap + t * B * H
        (hPrev + t * B * H).update(from: hp, count: B * H)
        recurrent.forward(hp, into: step, ldc: H, beta: 1)
        for b in 0..<B {
            let row = step + b * H, hb = hp + b * H, out = yp + (t * B + b) * H
            guard input.isValid(t, b) else {
                row.update(repeating: 0, count: H)
                for j in 0..<H { out[j] = input.copiesState(t, b) ? hb[j] : 0 }
                continue
            }
            input.activation.apply(row, count: H)
            hb.update(from: row, count: H)
            out.update(from: row, count: H)
        }
    }
    return (y, h, SimpleRNNSaved(activations: a, hPrev: hPrevAll))
}

func simpleRNNBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: SimpleRNNSaved,
    dY: Tensor, dHN: Tensor
) -> SequenceGradients {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1]
    var dA = Tensor.zeros([T, B, H]), dh = dHN, back = Tensor.zeros([B, H])
    let dap = dA.mutablePointer(), dhp = dh.mutablePointer(), backp = back.mutablePointer(), dyp = dY.pointer
    let act = saved.activations.pointer
    var recurrent = RecurrentProduct(
        weight: w.weightHH.pointer, gates: 1, blockRows: H, stateSize: H, batch: B, masks: input.recurrentMasks)

    for t in input.order.reversed() {
        let stepGrad = dap + t * B * H
        for b in 0..<B {
            let dhb = dhp + b * H, dy = dyp + (t * B + b) * H
            let valid = input.isValid(t, b)
            if valid || input.copiesState(t, b) {
                for j in 0..<H { dhb[j] += dy[j] }
            }
            guard valid else { continue }
            let y = act + (t * B + b) * H, da = stepGrad + b * H
            for j in 0..<H {
                da[j] = dhb[j] * input.activation.derivative(output: y[j])
            }
        }
        recurrent.backward(stepGrad, lda: H, into: backp)
        for b in 0..<B where input.isValid(t, b) {
            (dhp + b * H).update(from: backp + b * H, count: H)
        }
    }

    let dWeightHH = recurrent.weightGradient(dA.pointer, lda: H, hPrev: saved.hPrev.pointer, rows: T * B)
    let (dX, dWeightIH, dBias) = inputSideGradients(dA, x: input.x, weight: w.weightIH, masks: input.inputMasks)
    return SequenceGradients(
        x: dX, h0: dh, c0: nil, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBias, biasHH: w.biasHH == nil ? nil : dBias)
}

// MARK: Fast path (tanh or relu; padding and dropout either way)

func simpleRNNForwardFast(
    _ input: SequenceInput, _ w: SequenceWeights, saving: Bool
) -> (y: Tensor, hN: Tensor, saved: SimpleRNNSaved) {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1]
    var states = uninitializedTensor([T, B, H])  // h_t of every step, written in full by the sweep
    let hp = states.mutablePointer(), h0 = input.h0.pointer
    let relu: Int32 = input.activation == .relu ? 1 : 0
    let sweep = ForwardSweep(input, weightHH: w.weightHH, gates: 1, reuse: !saving), rows = sweep.rows
    let bias = w.combinedBias  // added by the step kernel
    let bp = bias?.pointer

    // The activations of the real rows, [rows.count, H].
    let a = withProjectionBuffer(count: rows.count * H, saving: saving) { ap in
        projectInputs(input.x, rows: rows, weight: w.weightIH, masks: input.inputMasks, into: ap, reuse: !saving)
        sweep.run(h0: h0, states: hp) { t, b, range, product, _, hOut in
            let j0 = range.lowerBound
            rk_rnn_forward(range.count, ap + rows.index(t, b) * H + j0, bp.map { $0 + j0 }, product, hOut + j0, relu)
        }
    }
    let hN = sweep.finalState(states), y = sweep.outputs(states)
    withExtendedLifetime(bias) {}
    guard saving else { return (y, hN, SimpleRNNSaved(activations: a, hPrev: a)) }
    return (y, hN, SimpleRNNSaved(activations: a, hPrev: states))
}

func simpleRNNBackwardFast(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: SimpleRNNSaved,
    dY: Tensor, dHN: Tensor, needsInputGradient: Bool
) -> SequenceGradients {
    let H = w.weightHH.shape[1]
    let sweep = BackwardSweep(input, weightHH: w.weightHH, gates: 1), rows = sweep.rows
    // dA of the real rows [rows.count, H], written in full by the sweep.
    return withWorkspace(count: rows.count * H) { dap in
    var dh = dHN
    let dhp = dh.mutablePointer(), act = saved.activations.pointer
    let relu: Int32 = input.activation == .relu ? 1 : 0

    sweep.run(dA: dap, dh: dhp, dY: dY.pointer) { _, t, range, b, dhRow in
        let row = rows.index(t, b) * H + range.lowerBound, dhb = dhRow + range.lowerBound
        rk_rnn_backward(range.count, act + row, dhb, dap + row, relu)
        dhb.update(repeating: 0, count: range.count)  // all of dh_{t−1} goes through W_hh
    }
    return sweepGradients(
        dap, sweep: sweep, input: input, weights: w, states: saved.hPrev, dh: &dh, dc: nil,
        needsInputGradient: needsInputGradient)
    }
}
