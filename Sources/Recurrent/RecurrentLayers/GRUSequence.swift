import CRecurrentKernels

// GRU over a whole sequence: forward, then its backpropagation through time.
//
//   r = σ(x·W_irᵀ + b_ir + h·W_hrᵀ + b_hr)
//   z = σ(x·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
//   n = tanh(x·W_inᵀ + b_in + r ⊙ (h·W_hnᵀ + b_hn))     reset after (PyTorch, Keras default)
//   n = tanh(x·W_inᵀ + b_in + (r ⊙ h)·W_hnᵀ + b_hn)     reset before (classic Keras)
//   h' = (1 − z) ⊙ n + z ⊙ h                              (σ and tanh: the layer's activations)

/// What the GRU backward pass needs from its forward pass.
struct GRUSaved {
    var gates: Tensor      // [N, 3H] activated r, z, n of the N real rows
    var hPrev: Tensor      // [T, B, H] the states h_t
    /// Reset after: h·W_hnᵀ + b_hn, [T, B, H]. Reset before: r ⊙ h (masked), [N, H] real rows.
    var candidateInput: Tensor
}

// MARK: Reset after (PyTorch; Keras's default)
//
// As for the LSTM: part p owns units `range` of r, z and n, multiplies h_{t−1} by its rows of
// W_hh and runs `rk_gru_forward` on them; one barrier per step.

func gruForward(
    _ input: SequenceInput, _ w: SequenceWeights, saving: Bool
) -> (y: Tensor, hN: Tensor, saved: GRUSaved) {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1], G = 3 * H
    let (act, gate) = (input.activation.kernelCode, input.recurrentActivation.kernelCode)
    var states = uninitializedTensor([T, B, H])  // h_t of every step, written in full by the sweep
    var candidate = uninitializedTensor(saving ? [T, B, H] : [1])
    let hp = states.mutablePointer(), cand = candidate.mutablePointer()
    let h0 = input.h0.pointer, bih = w.biasIH?.pointer, bhh = w.biasHH?.pointer
    let sweep = ForwardSweep(input, weightHH: w.weightHH, gates: 3, reuse: !saving), rows = sweep.rows

    // The gates of the real rows, [rows.count, G].
    let gates = withProjectionBuffer(count: rows.count * G, saving: saving) { gp in
        projectInputs(input.x, rows: rows, weight: w.weightIH, masks: input.inputMasks, into: gp, reuse: !saving)  // b_ih: in the kernel
        sweep.run(h0: h0, states: hp) { t, b, range, product, hPrev, hOut in
            let j0 = range.lowerBound, row = (t * B + b) * H + j0
            rk_gru_forward(
                range.count, gp + rows.index(t, b) * G + j0, H, bih.map { $0 + j0 }, product, range.count,
                bhh.map { $0 + j0 }, H, hPrev + j0, saving ? cand + row : nil, hOut + j0, act, gate)
        }
    }
    let hN = sweep.finalState(states), y = sweep.outputs(states)
    guard saving else { return (y, hN, GRUSaved(gates: gates, hPrev: gates, candidateInput: gates)) }
    return (y, hN, GRUSaved(gates: gates, hPrev: states, candidateInput: candidate))
}

/// BPTT: per step and part, the sweep forms dh = dh·z of the step before
/// (left in dh by the kernel: h_{t−1}'s direct path through z) + dR·W_hh[:, range] + dY, then
/// `rk_gru_backward` computes the part's gate gradients.
func gruBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: GRUSaved,
    dY: Tensor, dHN: Tensor, needsInputGradient: Bool
) -> SequenceGradients {
    let B = input.batch, H = w.weightHH.shape[1], G = 3 * H
    let (act, gate) = (input.activation.kernelCode, input.recurrentActivation.kernelCode)
    let sweep = BackwardSweep(input, weightHH: w.weightHH, gates: 3), rows = sweep.rows
    // dInput and dRecurrent of the real rows, [rows.count, G] each, written in full by the sweep.
    return withWorkspace(count: 2 * rows.count * G) { dip in
    let drp = dip + rows.count * G
    var dh = dHN
    let dhp = dh.mutablePointer()
    let gates = saved.gates.pointer, cand = saved.candidateInput.pointer
    let previous = PreviousStates(states: saved.hPrev, h0: input.h0, reverse: input.reverse)

    sweep.run(dA: drp, dh: dhp, dY: dY.pointer) { _, t, range, b, dhRow in
        let j0 = range.lowerBound, dhb = dhRow + j0, r = rows.index(t, b)
        // dh in, dh·z out (the kernel reads each element before it writes it).
        rk_gru_backward(
            range.count, gates + r * G + j0, H, previous.block(t) + b * H + j0, cand + (t * B + b) * H + j0,
            dhb, dhb, dip + r * G + j0, H, drp + r * G + j0, H, act, gate)
    }
    sweep.initialStateGradient(dA: drp, weightHH: w.weightHH, dh: dhp)

    var dWeightHH = uninitializedTensor([G, H])
    previous.weightGradient(drp, rows: rows, gates: G, masks: input.recurrentMasks, into: dWeightHH.mutablePointer())
    let (dX, dWeightIH, dBiasIH) = inputSideGradients(
        dip, rows: rows, x: input.x, weight: w.weightIH, masks: input.inputMasks, needsInputGradient: needsInputGradient)
    return SequenceGradients(
        x: dX, h0: dh, c0: nil, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBiasIH,
        biasHH: w.biasHH == nil ? nil : columnSums(drp, rows: rows.count, columns: G))
    }
}

// MARK: Reset before (Keras's `reset_after=False`)
//
// Two phases per step. First, part p multiplies h_{t−1} by its rows of W_hr and W_hz and runs
// `rk_gru_reset_forward`: r, z and r ⊙ h_{t−1} (⊙ gate n's dropout mask) for its units. Then,
// once every unit's r ⊙ h is there, it multiplies those rows by its rows of W_hn and runs
// `rk_gru_candidate_forward`: n and h_t. Backward mirrors it: dz, dn and dh·z first
// (`rk_gru_candidate_backward`), then d(r ⊙ h) = dn · W_hn for its units and dr, dh +=
// d(r ⊙ h) ⊙ r (`rk_gru_reset_backward`); one dA [r, z, n] serves the input side, the biases
// and both recurrent products.

func gruResetBeforeForward(
    _ input: SequenceInput, _ w: SequenceWeights, saving: Bool
) -> (y: Tensor, hN: Tensor, saved: GRUSaved) {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1], G = 3 * H
    let (act, gate) = (input.activation.kernelCode, input.recurrentActivation.kernelCode)
    var states = uninitializedTensor([T, B, H])  // h_t of every step, written in full by the sweep
    let hp = states.mutablePointer(), h0 = input.h0.pointer, bih = w.biasIH?.pointer, bhh = w.biasHH?.pointer
    let sweep = ForwardSweep(input, weightHH: w.weightHH, gates: 2, hidden: H, reuse: !saving), rows = sweep.rows
    let resetStates = StepRows(rows: rows, width: H, saving: saving)  // r ⊙ h (⊙ mask)
    let candidate = PartProducts(sweep.plan.ranges.map {
        pack(w.weightHH.pointer + (2 * H + $0.lowerBound) * H, rows: $0.count, columns: H, transposed: true)
    }, batch: B)
    let candidateMask = input.recurrentMasks.map { $0.pointer + 2 * B * H }

    // The gates of the real rows, [rows.count, G].
    let gates = withProjectionBuffer(count: rows.count * G, saving: saving) { gp in
        projectInputs(input.x, rows: rows, weight: w.weightIH, masks: input.inputMasks, into: gp, reuse: !saving)  // b_ih: in the kernels
        sweep.run(h0: h0, states: hp) { t, b, range, product, hPrev, _ in
            let j0 = range.lowerBound
            rk_gru_reset_forward(
                range.count, gp + rows.index(t, b) * G + j0, H, bih.map { $0 + j0 }, product, range.count,
                bhh.map { $0 + j0 }, H, hPrev + j0, candidateMask.map { $0 + b * H + j0 },
                resetStates.row(time: t, row: b) + j0, gate)
        } then: { t, p, previous in
            let range = sweep.plan.ranges[p], j0 = range.lowerBound
            let (start, examples) = rows.step(t), count = examples?.count ?? B
            guard count > 0, let q = candidate.multiply(part: p, m: count, a: resetStates.first(time: t), lda: H) else { return }
            for k in 0..<count {
                let b = examples?[k] ?? k
                rk_gru_candidate_forward(
                    range.count, gp + (start + k) * G + j0, H, bih.map { $0 + j0 }, q + k * range.count,
                    bhh.map { $0 + j0 }, H, previous + b * H + j0, hp + (t * B + b) * H + j0, act)
            }
        }
    }
    let hN = sweep.finalState(states), y = sweep.outputs(states)
    guard saving else { return (y, hN, GRUSaved(gates: gates, hPrev: gates, candidateInput: gates)) }
    return (y, hN, GRUSaved(gates: gates, hPrev: states, candidateInput: resetStates.saved!))
}

func gruResetBeforeBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: GRUSaved,
    dY: Tensor, dHN: Tensor, needsInputGradient: Bool
) -> SequenceGradients {
    let B = input.batch, H = w.weightHH.shape[1], G = 3 * H
    let (act, gate) = (input.activation.kernelCode, input.recurrentActivation.kernelCode)
    // Only W_hr and W_hz multiply h itself; dA rows hold r, z and n.
    let sweep = BackwardSweep(input, weightHH: w.weightHH, gates: 2, hidden: H, dAStride: G), rows = sweep.rows
    let candidate = PartProducts(sweep.plan.ranges.map {
        packColumns(w.weightHH.pointer + 2 * H * H, rows: H, columns: H, range: $0)
    }, batch: B)
    let candidateMask = input.recurrentMasks.map { $0.pointer + 2 * B * H }
    // dA of the real rows [rows.count, G], written in full by the sweep.
    return withWorkspace(count: rows.count * G) { dap in
    var dh = dHN
    let dhp = dh.mutablePointer(), gates = saved.gates.pointer
    let previous = PreviousStates(states: saved.hPrev, h0: input.h0, reverse: input.reverse)

    sweep.run(dA: dap, dh: dhp, dY: dY.pointer) { _, t, range, b, dhRow in
        let j0 = range.lowerBound, r = rows.index(t, b)
        rk_gru_candidate_backward(
            range.count, gates + r * G + j0, H, previous.block(t) + b * H + j0, dhRow + j0, dhRow + j0, dap + r * G + j0, H,
            act, gate)
    } then: { _, t, p in
        let range = sweep.plan.ranges[p], j0 = range.lowerBound
        let (start, examples) = rows.step(t), count = examples?.count ?? B
        guard count > 0, let dReset = candidate.multiply(part: p, m: count, a: dap + start * G + 2 * H, lda: G) else { return }
        for k in 0..<count {
            let b = examples?[k] ?? k, r = start + k
            rk_gru_reset_backward(
                range.count, gates + r * G + j0, previous.block(t) + b * H + j0, candidateMask.map { $0 + b * H + j0 },
                dReset + k * range.count, dhp + b * H + j0, dap + r * G + j0, gate)
        }
    }
    sweep.initialStateGradient(dA: dap, weightHH: w.weightHH, dh: dhp)

    var dWeightHH = uninitializedTensor([G, H])
    let dW = dWeightHH.mutablePointer()
    previous.weightGradient(
        dap, lda: G, rows: rows, gates: 2 * H, masks: input.recurrentMasks, maskedGates: 2, into: dW)
    // W_hn multiplied r ⊙ h (masked), saved per real row.
    gemm(dap + 2 * H, saved.candidateInput.pointer, dW + 2 * H * H, m: H, n: H, k: rows.count, transposeA: true, lda: G)
    let (dX, dWeightIH, dBias) = inputSideGradients(
        dap, rows: rows, x: input.x, weight: w.weightIH, masks: input.inputMasks, needsInputGradient: needsInputGradient)
    return SequenceGradients(
        x: dX, h0: dh, c0: nil, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBias, biasHH: w.biasHH == nil ? nil : dBias)
    }
}
