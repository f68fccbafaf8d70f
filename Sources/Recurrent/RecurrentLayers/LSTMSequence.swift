import CRecurrentKernels

// LSTM over a whole sequence: forward, then its backpropagation through time.
//
//   a = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh
//   i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
//   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')          (with a projection: h' = (o ⊙ tanh c')·W_hrᵀ)
//
// The input projection of every step is one product before the loop; inside the loop only
// h·W_hhᵀ (and the projection) remains. Weight gradients are one product each over all steps.

/// What the LSTM backward pass needs from its forward pass.
struct LSTMSaved {
    var gates: Tensor     // [T, B, 4H] activated i, f, g, o; the real rows' [N, 4H] on the fast path
    var cPrev: Tensor     // [T, B, H] cell state entering step t
    var tanhC: Tensor     // [T, B, H] activation (tanh) of the cell state leaving step t
    var hPrev: Tensor     // [T, B, P] h entering step t (P = H without projection); the states on the fast path
    var hRaw: Tensor?     // [T, B, H] o ⊙ tanh(c') before the projection
}

func lstmForward(
    _ input: SequenceInput, _ w: SequenceWeights
) -> (y: Tensor, hN: Tensor, cN: Tensor, saved: LSTMSaved) {
    let T = input.steps, B = input.batch, H = w.weightIH.shape[0] / 4, G = 4 * H
    let P = w.weightHR?.shape[0] ?? H
    var gates = projectInputs(input.x, weight: w.weightIH, bias: w.combinedBias, masks: input.inputMasks)
    var cPrevAll = Tensor.zeros([T, B, H]), tanhCAll = Tensor.zeros([T, B, H]), hPrevAll = Tensor.zeros([T, B, P])
    var hRawAll: Tensor? = w.weightHR == nil ? nil : Tensor.zeros([T, B, H])
    var projected = Tensor.zeros([B, P])
    var y = Tensor.zeros([T, B, P])
    var h = input.h0, c = input.c0 ?? Tensor.zeros([B, H])
    let gp = gates.mutablePointer(), yp = y.mutablePointer(), hp = h.mutablePointer(), cp = c.mutablePointer()
    let cPrev = cPrevAll.mutablePointer(), tanhC = tanhCAll.mutablePointer(), hPrev = hPrevAll.mutablePointer()
    let hRaw = hRawAll?.mutablePointer(), proj = projected.mutablePointer()
    var recurrent = RecurrentProduct(
        weight: w.weightHH.pointer, gates: 4, blockRows: H, stateSize: P, batch: B, masks: input.recurrentMasks)
    let projection = w.weightHR.map { pack($0.pointer, rows: P, columns: H, transposed: true) }

    for t in input.order {
        let step = gp + t * B * G
        (hPrev + t * B * P).update(from: hp, count: B * P)
        (cPrev + t * B * H).update(from: cp, count: B * H)
        recurrent.forward(hp, into: step, ldc: G, beta: 1)
        for b in 0..<B {
            let a = step + b * G, cb = cp + b * H, tc = tanhC + (t * B + b) * H
            guard input.isValid(t, b) else {
                a.update(repeating: 0, count: G)
                tc.update(repeating: 0, count: H)
                hRaw?.advanced(by: (t * B + b) * H).update(repeating: 0, count: H)
                continue
            }
            input.recurrentActivation.apply(a, count: 2 * H)
            input.activation.apply(a + 2 * H, count: H)
            input.recurrentActivation.apply(a + 3 * H, count: H)
            for j in 0..<H { cb[j] = a[H + j] * cb[j] + a[j] * a[2 * H + j] }
            tc.update(from: cb, count: H)
            input.activation.apply(tc, count: H)
            let raw = hRaw.map { $0 + (t * B + b) * H } ?? proj + b * H
            for j in 0..<H { raw[j] = a[3 * H + j] * tc[j] }
        }
        if let hRaw, let projection {
            gemm(hRaw + t * B * H, projection, proj, m: B)
        }
        for b in 0..<B {
            let hb = hp + b * P, out = yp + (t * B + b) * P
            if input.isValid(t, b) {
                hb.update(from: proj + b * P, count: P)
                out.update(from: hb, count: P)
            } else if input.copiesState(t, b) {
                out.update(from: hb, count: P)
            }
        }
    }
    let saved = LSTMSaved(gates: gates, cPrev: cPrevAll, tanhC: tanhCAll, hPrev: hPrevAll, hRaw: hRawAll)
    return (y, h, c, saved)
}

func lstmBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: LSTMSaved,
    dY: Tensor, dHN: Tensor, dCN: Tensor
) -> SequenceGradients {
    let T = input.steps, B = input.batch, H = w.weightIH.shape[0] / 4, G = 4 * H
    let P = w.weightHR?.shape[0] ?? H
    var dA = Tensor.zeros([T, B, G])
    var dProjected: Tensor? = w.weightHR == nil ? nil : Tensor.zeros([T, B, P])
    var dh = dHN, dc = dCN
    var dhRaw = Tensor.zeros([B, H]), dhRecurrent = Tensor.zeros([B, P])
    let dap = dA.mutablePointer(), dhp = dh.mutablePointer(), dcp = dc.mutablePointer()
    let dRaw = dhRaw.mutablePointer(), dhr = dhRecurrent.mutablePointer(), dyp = dY.pointer
    let dProj = dProjected?.mutablePointer()
    let gates = saved.gates.pointer, cPrev = saved.cPrev.pointer, tanhC = saved.tanhC.pointer
    let act = input.activation, gate = input.recurrentActivation
    var recurrent = RecurrentProduct(
        weight: w.weightHH.pointer, gates: 4, blockRows: H, stateSize: P, batch: B, masks: input.recurrentMasks)
    let projection = w.weightHR.map { pack($0.pointer, rows: P, columns: H, transposed: false) }

    for t in input.order.reversed() {
        let stepGrad = dap + t * B * G
        for b in 0..<B where input.isValid(t, b) || input.copiesState(t, b) {
            let dhb = dhp + b * P, dy = dyp + (t * B + b) * P
            for j in 0..<P { dhb[j] += dy[j] }
        }
        // Through the projection: dh_raw = dh · W_hr for the valid rows.
        if let dProj, let projection {
            for b in 0..<B where input.isValid(t, b) {
                (dProj + (t * B + b) * P).update(from: dhp + b * P, count: P)
            }
            gemm(dProj + t * B * P, projection, dRaw, m: B)
        }
        for b in 0..<B where input.isValid(t, b) {
            let dcb = dcp + b * H, dhb = dProj == nil ? dhp + b * H : dRaw + b * H
            let a = gates + (t * B + b) * G, da = stepGrad + b * G
            let tc = tanhC + (t * B + b) * H, cp = cPrev + (t * B + b) * H
            for j in 0..<H {
                let i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j]
                let dcTotal = dcb[j] + dhb[j] * o * act.derivative(output: tc[j])
                da[j] = dcTotal * g * gate.derivative(output: i)
                da[H + j] = dcTotal * cp[j] * gate.derivative(output: f)
                da[2 * H + j] = dcTotal * i * act.derivative(output: g)
                da[3 * H + j] = dhb[j] * tc[j] * gate.derivative(output: o)
                dcb[j] = dcTotal * f
            }
        }
        // dh_{t−1} = dA_t · W_hh for valid rows; the others pass dh (and dc) through unchanged.
        recurrent.backward(stepGrad, lda: G, into: dhr)
        for b in 0..<B where input.isValid(t, b) {
            (dhp + b * P).update(from: dhr + b * P, count: P)
        }
    }

    let rows = T * B
    let dWeightHH = recurrent.weightGradient(dA.pointer, lda: G, hPrev: saved.hPrev.pointer, rows: rows)
    var dWeightHR: Tensor? = nil
    if let dProjected, let hRaw = saved.hRaw {
        var d = Tensor.zeros([P, H])
        gemm(dProjected.pointer, hRaw.pointer, d.mutablePointer(), m: P, n: H, k: rows, transposeA: true)
        dWeightHR = d
    }
    let (dX, dWeightIH, dBias) = inputSideGradients(dA, x: input.x, weight: w.weightIH, masks: input.inputMasks)
    return SequenceGradients(
        x: dX, h0: dh, c0: dc, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBias, biasHH: w.biasHH == nil ? nil : dBias, weightHR: dWeightHR)
}

// MARK: Fast path (sigmoid / tanh; padding, dropout and projection either way)
//
// The same equations, with the hidden units split across threads (`StepPlan`): part p owns
// units `range` of every gate, multiplies h_{t−1} by its rows of W_hh (packed once per call)
// and runs the fused gate kernel (`rk_lstm_forward`) on them, one barrier per step (two with
// a projection, which the sweep applies); padded rows are the sweep's business. Without
// gradients (`saving` false) nothing but the outputs and final states is kept.

func lstmForwardFast(
    _ input: SequenceInput, _ w: SequenceWeights, saving: Bool
) -> (y: Tensor, hN: Tensor, cN: Tensor, saved: LSTMSaved) {
    let T = input.steps, B = input.batch, H = w.weightIH.shape[0] / 4, G = 4 * H
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
                cp + b * H + j0, saving ? cPrev + row : nil, saving ? tanhC + row : nil, hOut + j0, saving ? 1 : 0)
        }
    }
    let hN = sweep.finalState(states), y = sweep.outputs(states)
    withExtendedLifetime(bias) {}
    guard saving else { return (y, hN, c, LSTMSaved(gates: gates, cPrev: gates, tanhC: gates, hPrev: gates, hRaw: nil)) }
    return (y, hN, c, LSTMSaved(gates: gates, cPrev: cPrevAll, tanhC: tanhCAll, hPrev: states, hRaw: sweep.unprojected))
}

/// BPTT of the fast path. Part p owns units `range`: at each step (in reverse processing
/// order) the sweep forms dh for its units from the previous step's dA (dA·W_hh[:, range]) and
/// dY (and with a projection passes it through W_hr), then the gate gradients of its units
/// (`rk_lstm_backward`); all of dh_{t−1} goes through W_hh, so the row's dh is cleared for the
/// next step's product.
func lstmBackwardFast(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: LSTMSaved,
    dY: Tensor, dHN: Tensor, dCN: Tensor, needsInputGradient: Bool
) -> SequenceGradients {
    let B = input.batch, H = w.weightIH.shape[0] / 4, G = 4 * H
    let sweep = BackwardSweep(input, weightHH: w.weightHH, gates: 4, weightHR: w.weightHR), rows = sweep.rows
    // dA of the real rows [rows.count, G], written in full by the sweep.
    return withWorkspace(count: rows.count * G) { dap in
    var dh = dHN, dc = dCN
    let dhp = dh.mutablePointer(), dcp = dc.mutablePointer()
    let gates = saved.gates.pointer, cPrev = saved.cPrev.pointer, tanhC = saved.tanhC.pointer

    sweep.run(dA: dap, dh: dhp, dY: dY.pointer) { _, t, range, b, dhRow in
        let width = range.count, j0 = range.lowerBound, row = (t * B + b) * H + j0, r = rows.index(t, b)
        rk_lstm_backward(
            width, gates + r * G + j0, H, cPrev + row, tanhC + row, dhRow + j0, dcp + b * H + j0, dap + r * G + j0, H)
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
