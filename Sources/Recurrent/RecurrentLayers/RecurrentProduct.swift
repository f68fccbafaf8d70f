/// The recurrent product of one step, h·W_hhᵀ over a range of gate blocks, with the weights
/// packed once per call — and Keras's variational recurrent dropout when `masks` are given:
/// gate g then multiplies h ⊙ m_g, one fixed mask per gate and sequence ([gates, B, P]).
struct RecurrentProduct {
    let gates: Int
    let blockRows: Int    // H: rows of W_hh per gate
    let stateSize: Int    // P: columns of W_hh
    let batch: Int
    let weight: UnsafePointer<Float>
    let masks: Tensor?
    private let forwardWeights: [PackedMatrix]
    private let backwardWeights: [PackedMatrix]
    private var scratch: Tensor

    /// `weight` points at `gates` consecutive blocks of W_hh, each [H, P].
    init(weight: UnsafePointer<Float>, gates: Int, blockRows: Int, stateSize: Int, batch: Int, masks: Tensor?) {
        self.gates = gates
        self.blockRows = blockRows
        self.stateSize = stateSize
        self.batch = batch
        self.weight = weight
        self.masks = masks
        // Without masks all gates share one product; with them, each gate has its own.
        let blocks = masks == nil ? [(weight, gates * blockRows)]
            : (0..<gates).map { (weight + $0 * blockRows * stateSize, blockRows) }
        forwardWeights = blocks.map { pack($0.0, rows: $0.1, columns: stateSize, transposed: true) }
        backwardWeights = blocks.map { pack($0.0, rows: $0.1, columns: stateSize, transposed: false) }
        scratch = Tensor.zeros([batch, max(stateSize, blockRows)])
    }

    /// c[:, 0..<gates·H] = (h ⊙ m_g)·W_gᵀ + beta·c, row stride `ldc`.
    mutating func forward(_ h: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
        guard let masks else {
            gemm(h, forwardWeights[0], c, m: batch, beta: beta, ldc: ldc)
            return
        }
        let s = scratch.mutablePointer(), m = masks.pointer, n = batch * stateSize
        for g in 0..<gates {
            for i in 0..<n { s[i] = h[i] * m[g * n + i] }
            gemm(s, forwardWeights[g], c + g * blockRows, m: batch, beta: beta, ldc: ldc)
        }
    }

    /// dh = Σ_g (dA_g · W_g) ⊙ m_g, with dA of row stride `lda`.
    mutating func backward(_ dA: UnsafePointer<Float>, lda: Int, into dh: UnsafeMutablePointer<Float>) {
        guard let masks else {
            gemm(dA, backwardWeights[0], dh, m: batch, lda: lda)
            return
        }
        let s = scratch.mutablePointer(), m = masks.pointer, n = batch * stateSize
        dh.update(repeating: 0, count: n)
        for g in 0..<gates {
            gemm(dA + g * blockRows, backwardWeights[g], s, m: batch, lda: lda)
            for i in 0..<n { dh[i] += s[i] * m[g * n + i] }
        }
    }

    /// dW = Σ over all steps of dA_gᵀ · (h_prev ⊙ m_g): [gates·H, P]. `hPrev` is [rows, P]
    /// time-major, so row r belongs to example r mod B.
    func weightGradient(_ dA: UnsafePointer<Float>, lda: Int, hPrev: UnsafePointer<Float>, rows: Int) -> Tensor {
        var result = Tensor.zeros([gates * blockRows, stateSize])
        let out = result.mutablePointer()
        guard let masks else {
            gemm(dA, hPrev, out, m: gates * blockRows, n: stateSize, k: rows, transposeA: true, lda: lda)
            return result
        }
        var masked = Tensor.zeros([rows, stateSize])
        let t = masked.mutablePointer(), m = masks.pointer, n = batch * stateSize
        for g in 0..<gates {
            for r in 0..<rows {
                let mask = m + g * n + (r % batch) * stateSize
                for j in 0..<stateSize { t[r * stateSize + j] = hPrev[r * stateSize + j] * mask[j] }
            }
            gemm(dA + g * blockRows, t, out + g * blockRows * stateSize, m: blockRows, n: stateSize, k: rows,
                 transposeA: true, lda: lda)
        }
        return result
    }
}
