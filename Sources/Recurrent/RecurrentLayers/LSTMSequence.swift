// LSTM over a whole sequence: forward, then its backpropagation through time.
//
//   a = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh
//   i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
//   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
//
// The input projection of every step is one product before the loop; inside the loop only
// h̃·W_hhᵀ remains. Weight gradients are one product each over all steps after the loop.

/// What the LSTM backward pass needs from its forward pass.
struct LSTMSaved {
    var gates: Tensor     // [T, B, 4H] activated i, f, g, o
    var cPrev: Tensor     // [T, B, H] cell state entering step t
    var tanhC: Tensor     // [T, B, H] tanh of the cell state leaving step t
    var hPrev: Tensor     // [T, B, H] h entering step t
}

func lstmForward(
    _ input: SequenceInput, _ w: SequenceWeights
) -> (y: Tensor, hN: Tensor, cN: Tensor, saved: LSTMSaved) {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1], G = 4 * H
    let bias: Tensor? = switch (w.biasIH, w.biasHH) {
    case let (i?, h?): try! i + h
    case let (i?, nil): i
    case let (nil, h?): h
    case (nil, nil): nil
    }
    var gates = projectInputs(input.x, weight: w.weightIH, bias: bias)
    var saved = LSTMSaved(gates: Tensor.zeros([]), cPrev: .zeros([T, B, H]), tanhC: .zeros([T, B, H]), hPrev: .zeros([T, B, H]))
    var y = Tensor.zeros([T, B, H])
    var h = input.h0, c = input.c0 ?? Tensor.zeros([B, H])
    let gp = gates.mutablePointer(), yp = y.mutablePointer(), hp = h.mutablePointer(), cp = c.mutablePointer()
    let cPrev = saved.cPrev.mutablePointer(), tanhC = saved.tanhC.mutablePointer()
    let hPrev = saved.hPrev.mutablePointer()

    for t in input.order {
        let step = gp + t * B * G
        (hPrev + t * B * H).update(from: hp, count: B * H)
        (cPrev + t * B * H).update(from: cp, count: B * H)
        gemm(hp, w.weightHH.pointer, step, m: B, n: G, k: H, transposeB: true, beta: 1)
        for b in 0..<B {
            let a = step + b * G, hb = hp + b * H, cb = cp + b * H
            let out = yp + (t * B + b) * H, tc = tanhC + (t * B + b) * H
            guard input.isValid(t, b) else {
                (a).update(repeating: 0, count: G)
                for j in 0..<H {
                    out[j] = input.copiesState(t, b) ? hb[j] : 0
                    tc[j] = 0
                }
                continue
            }
            Pointwise.sigmoid(a, a, count: 2 * H)
            Pointwise.tanh(a + 2 * H, a + 2 * H, count: H)
            Pointwise.sigmoid(a + 3 * H, a + 3 * H, count: H)
            for j in 0..<H {
                cb[j] = a[H + j] * cb[j] + a[j] * a[2 * H + j]
            }
            Pointwise.tanh(cb, tc, count: H)
            for j in 0..<H {
                hb[j] = a[3 * H + j] * tc[j]
                out[j] = hb[j]
            }
        }
    }
    saved.gates = gates
    return (y, h, c, saved)
}

func lstmBackward(
    _ input: SequenceInput, _ w: SequenceWeights, _ saved: LSTMSaved,
    dY: Tensor, dHN: Tensor, dCN: Tensor
) -> SequenceGradients {
    let T = input.steps, B = input.batch, H = w.weightHH.shape[1], G = 4 * H
    var dA = Tensor.zeros([T, B, G])
    var dh = dHN, dc = dCN
    var dhRecurrent = Tensor.zeros([B, H])
    let dap = dA.mutablePointer(), dhp = dh.mutablePointer(), dcp = dc.mutablePointer()
    let dhr = dhRecurrent.mutablePointer(), dyp = dY.pointer
    let gates = saved.gates.pointer, cPrev = saved.cPrev.pointer, tanhC = saved.tanhC.pointer

    for t in input.order.reversed() {
        let stepGrad = dap + t * B * G
        for b in 0..<B {
            let dhb = dhp + b * H, dcb = dcp + b * H, dy = dyp + (t * B + b) * H
            let valid = input.isValid(t, b)
            if valid || input.copiesState(t, b) {
                for j in 0..<H { dhb[j] += dy[j] }
            }
            guard valid else { continue }  // state passed through unchanged; dA row stays 0
            let a = gates + (t * B + b) * G, da = stepGrad + b * G
            let tc = tanhC + (t * B + b) * H, cp = cPrev + (t * B + b) * H
            for j in 0..<H {
                let i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j]
                let dcTotal = dcb[j] + dhb[j] * o * (1 - tc[j] * tc[j])
                da[j] = dcTotal * g * i * (1 - i)
                da[H + j] = dcTotal * cp[j] * f * (1 - f)
                da[2 * H + j] = dcTotal * i * (1 - g * g)
                da[3 * H + j] = dhb[j] * tc[j] * o * (1 - o)
                dcb[j] = dcTotal * f
            }
        }
        // dh_{t−1} = dA_t · W_hh for valid rows; the others pass dh through unchanged.
        gemm(stepGrad, w.weightHH.pointer, dhr, m: B, n: H, k: G)
        for b in 0..<B where input.isValid(t, b) {
            (dhp + b * H).update(from: dhr + b * H, count: H)
        }
    }

    let rows = T * B
    var dWeightHH = Tensor.zeros([G, H])
    gemm(dA.pointer, saved.hPrev.pointer, dWeightHH.mutablePointer(), m: G, n: H, k: rows, transposeA: true)
    let (dX, dWeightIH, dBias) = inputSideGradients(dA, x: input.x, weight: w.weightIH)
    return SequenceGradients(
        x: dX, h0: dh, c0: dc, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBias, biasHH: w.biasHH == nil ? nil : dBias)
}
