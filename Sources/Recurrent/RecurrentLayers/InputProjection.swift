// The input side of a recurrent layer, shared by every cell: the projection x·W_ihᵀ of all
// steps as one product before the time loop, and after BPTT the weight, bias and input
// gradients from the gate gradients of all steps as one product each. With padding the
// sweep keeps only the real rows (`SequenceRows`), so no padded row enters these products.

/// The input projection X·W_ihᵀ of the real rows into `o` ([rows.count, G], every element
/// written): for the sweep, which keeps it in a reusable workspace when no backward pass
/// will need it, and which with `reuse` (inference) takes W_ihᵀ packed from
/// `PackedWeightCache`. With Keras's per-gate input dropout (`masks` [gates, B, I]) gate g
/// projects X ⊙ d_g.
func projectInputs(
    _ x: Tensor, rows: SequenceRows, weight: Tensor, masks: Tensor? = nil, into o: UnsafeMutablePointer<Float>,
    reuse: Bool
) {
    let gates = weight.shape[0], inputSize = x.shape[2]
    let xs = rows.gather(x)
    if let masks {
        let blocks = masks.shape[0], block = gates / blocks
        var xg = uninitializedTensor([rows.count, inputSize])
        for g in 0..<blocks {
            rows.masked(xs.pointer, masks: masks, gate: g, width: inputSize, into: xg.mutablePointer())
            gemm(xg.pointer, weight.pointer + g * block * inputSize, o + g * block, m: rows.count, n: block,
                 k: inputSize, transposeB: true, ldc: gates)
        }
        return
    }
    guard reuse else {
        gemm(xs.pointer, weight.pointer, o, m: rows.count, n: gates, k: inputSize, transposeB: true)
        return
    }
    let layout = PackedWeightCache.Layout(kind: .transposed, shape: weight.shape, ranges: [])
    let packed = PackedWeightCache.shared.packed(weight, layout: layout) {
        [pack(weight.pointer, rows: gates, columns: inputSize, transposed: true)]
    }
    gemm(xs.pointer, packed[0], o, m: rows.count)
}

/// Runs `body` with a buffer of `count` floats for the input projection: a tensor kept for the
/// backward pass when `saving`, else a workspace reused across calls (no page faults from
/// fresh multi-megabyte allocations on every inference call).
func withProjectionBuffer(
    count: Int, saving: Bool, _ body: (UnsafeMutablePointer<Float>) -> Void
) -> Tensor {
    guard saving else {
        GEMMScratch.shared.withBuffer(count: count) { body($0) }
        return Tensor.zeros([0])
    }
    var t = uninitializedTensor([count])
    body(t.mutablePointer())
    return t
}

/// The input-side gradients from the gate gradients of the real rows, dA [rows.count, G]
/// behind a pointer (a reused workspace), through the per-gate input masks when given; dX has
/// zeros in padded rows.
func inputSideGradients(
    _ dA: UnsafePointer<Float>, rows: SequenceRows, x: Tensor, weight: Tensor, masks: Tensor? = nil,
    needsInputGradient: Bool
) -> (dX: Tensor, dWeight: Tensor, dBias: Tensor) {
    let gates = weight.shape[0], inputSize = x.shape[2]
    let xs = rows.gather(x)
    var dWeight = uninitializedTensor([gates, inputSize])
    let dBias = columnSums(dA, rows: rows.count, columns: gates)
    var dXs = uninitializedTensor(needsInputGradient ? [rows.count, inputSize] : [0])
    guard let masks else {
        gemm(dA, xs.pointer, dWeight.mutablePointer(), m: gates, n: inputSize, k: rows.count, transposeA: true)
        guard needsInputGradient else { return (Tensor.zeros([0]), dWeight, dBias) }
        gemm(dA, weight.pointer, dXs.mutablePointer(), m: rows.count, n: inputSize, k: gates)
        return (rows.scatter(dXs), dWeight, dBias)
    }
    let blocks = masks.shape[0], block = gates / blocks
    var xg = uninitializedTensor([rows.count, inputSize]), part = uninitializedTensor([rows.count, inputSize])
    if needsInputGradient { dXs = Tensor.zeros([rows.count, inputSize]) }
    for g in 0..<blocks {
        rows.masked(xs.pointer, masks: masks, gate: g, width: inputSize, into: xg.mutablePointer())
        gemm(dA + g * block, xg.pointer, dWeight.mutablePointer() + g * block * inputSize, m: block, n: inputSize,
             k: rows.count, transposeA: true, lda: gates)
        guard needsInputGradient else { continue }
        // dX += (dA_g · W_g) ⊙ d_g.
        gemm(dA + g * block, weight.pointer + g * block * inputSize, part.mutablePointer(), m: rows.count, n: inputSize,
             k: block, lda: gates)
        rows.masked(part.pointer, masks: masks, gate: g, width: inputSize, into: part.mutablePointer())
        let d = dXs.mutablePointer(), q = part.pointer
        for i in 0..<(rows.count * inputSize) { d[i] += q[i] }
    }
    guard needsInputGradient else { return (Tensor.zeros([0]), dWeight, dBias) }
    return (rows.scatter(dXs), dWeight, dBias)
}

/// Σ over rows of a [rows, columns] buffer behind a pointer.
func columnSums(_ p: UnsafePointer<Float>, rows: Int, columns: Int) -> Tensor {
    var out = Tensor.zeros([columns])
    let o = out.mutablePointer()
    for r in 0..<rows {
        let row = p + r * columns
        for j in 0..<columns { o[j] += row[j] }
    }
    return out
}
