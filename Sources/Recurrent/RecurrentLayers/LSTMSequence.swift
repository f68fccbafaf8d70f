import CRecurrentKernels

// LSTM over a whole sequence: forward, then its backpropagation through time.
//
//   a = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh
//   i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)      (σ and tanh: the layer's activations)
//   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')          (with a projection: h' = (o ⊙ tanh c')·W_hrᵀ)
//
// The input projection of every step is one product before the loop; inside the loop only
// h·W_hhᵀ (and the projection) remains. Weight gradients are one product each over all steps.
// The hidden units are split across threads (`StepPlan`): part p owns units `range` of every
// gate, multiplies h_{t−1} by its rows of W_hh (packed once per call) and runs the fused gate
// kernel (`rk_lstm_forward`) on them, one barrier per step (two with a projection, which the
// sweep applies); padded rows are the sweep's business. Without gradients (`saving` false)
// nothing but the outputs and final states is kept.

/// What the LSTM backward pass needs from its forward pass.
struct LSTMSaved {
    var gates: Tensor     // [N, 4H] activated i, f, g, o of the N real rows
    var cPrev: Tensor     // [T, B, H] cell state entering step t
    var tanhC: Tensor     // [T, B, H] activation (tanh) of the cell state leaving step t
    var hPrev: Tensor     // [T, B, P] the states h_t (P = H without projection)
    var hRaw: Tensor?     // [N, H] o ⊙ tanh(c') before the projection, real rows
}

func lstmForward(
    _ input: SequenceInput, _ w: SequenceWeights, saving: Bool
) -> (y: Tensor, hN: Tensor, cN: Tensor, saved: LSTMSaved) {
    let T = input.steps, B = input.batch, H = w.weightIH.shape[0] / 4, G = 4 * H
    let (act, gate) = (input.activation.kernelCode, input.recurrentActivation.kernelCode)
    let P = w.weightHR?.shape[0] ?? H
    // h_t of every step, written in full by the sweep.
    var states = uninitializedTensor([T, B, P])
    var c = input.c0 ?? Tensor.zeros([B, H])
    var cPrevAll = uninitializedTensor(saving ? [T, B, H] : [1])
    var tanhCAll = uninitializedTensor(saving ? [T, B, H] : [1])
    let hp = states.mutablePointer(), cp = c.mutablePointer(), h0 = input.h0.pointer
    let cPrev = cPrevAll.mutablePointer(), tanhC = tanhCAll.mutablePointer()
    let sweep = ForwardSweep(input, weightHH: w.weightHH, gates: 4, reuse: !saving, weightHR: w.weightHR, saving: saving)
    let rows = sweep.rows
    // The bias is added by the gate kernel rather than in a pass over the projection.
    let bias = w.combinedBias
    let bp = bias?.pointer

    // The gates of the real rows, [rows.count, G].
    let gates = withProjectionBuffer(count: rows.count * G, saving: saving) { gp in
        projectInputs(input.x, rows: rows, weight: w.weightIH, masks: input.inputMasks, into: gp, reuse: !saving)
        sweep.run(h0: h0, states: hp) { t, b, range, product, _, hOut in
            let j0 = range.lowerBound, row = (t * B + b) * H + j0
            rk_lstm_forward(
                range.count, gp + rows.index(t, b) * G + j0, H, bp.map { $0 + j0 }, product, range.count,
                cp + b * H + j0, saving ? cPrev + row : nil, saving ? tanhC + row : nil, hOut + j0, saving ? 1 : 0, act, gate)
        }
    }
    let hN = sweep.finalState(states), y = sweep.outputs(states)
    withExtendedLifetime(bias) {}
    guard saving else { return (y, hN, c, LSTMSaved(gates: gates, cPrev: gates, tanhC: gates, hPrev: gates, hRaw: nil)) }
    return (y, hN, c, LSTMSaved(gates: gates, cPrev: cPrevAll, tanhC: tanhCAll, hPrev: states, hRaw: sweep.unprojected))
}

/// BPTT. Part p owns units `range`: at each step (in reverse processing
/// order) the sweep forms dh for its units from the previous step's dA (dA·W_hh[:, range]) and
/// dY (and with a projection passes it through W_hr), then the gate gradients of its units
/// (`rk_lstm_backward`); all of dh_{t−1} goes through W_hh, so the row's dh is cleared for the
/// next step's product.
func lstmBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: LSTMSaved,
    dY: Tensor, dHN: Tensor, dCN: Tensor, needsInputGradient: Bool
) -> SequenceGradients {
    let B = input.batch, H = w.weightIH.shape[0] / 4, G = 4 * H
    let (act, gate) = (input.activation.kernelCode, input.recurrentActivation.kernelCode)
    let sweep = BackwardSweep(input, weightHH: w.weightHH, gates: 4, weightHR: w.weightHR), rows = sweep.rows
    // dA of the real rows [rows.count, G], written in full by the sweep.
    return withWorkspace(count: rows.count * G) { dap in
    var dh = dHN, dc = dCN
    let dhp = dh.mutablePointer(), dcp = dc.mutablePointer()
    let gates = saved.gates.pointer, cPrev = saved.cPrev.pointer, tanhC = saved.tanhC.pointer

    sweep.run(dA: dap, dh: dhp, dY: dY.pointer) { _, t, range, b, dhRow in
        let width = range.count, j0 = range.lowerBound, row = (t * B + b) * H + j0, r = rows.index(t, b)
        rk_lstm_backward(
            width, gates + r * G + j0, H, cPrev + row, tanhC + row, dhRow + j0, dcp + b * H + j0, dap + r * G + j0, H,
            act, gate)
        (dhRow + j0).update(repeating: 0, count: width)
    }
    var gradients = sweepGradients(
        dap, sweep: sweep, input: input, weights: w, states: saved.hPrev, dh: &dh, dc: dc,
        needsInputGradient: needsInputGradient)
    if let dProjected = sweep.projectedGradient, let hRaw = saved.hRaw, let weightHR = w.weightHR {
        // dW_hr = Σ dhᵀ · (o ⊙ tanh c) over the real rows.
        var d = uninitializedTensor(weightHR.shape)
        gemm(dProjected.pointer, hRaw.pointer, d.mutablePointer(), m: weightHR.shape[0], n: H, k: rows.count, transposeA: true)
        gradients.weightHR = d
    }
    return gradients
    }
}
