// Shared plumbing of the fused sequence ops: one direction of one layer over a whole
// sequence, time-major. Each cell's forward and BPTT live in its own file.

/// The cell computed at every step.
public enum CellKind: Sendable, Equatable, Codable {
    /// h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) with tanh or relu.
    case simpleRNN(relu: Bool)
    /// Gates i, f, g, o (PyTorch order).
    case lstm
    /// Gates r, z, n. `resetAfter` true is PyTorch's and Keras's default (r multiplies
    /// h·W_hnᵀ + b_hn); false is the classic form (r multiplies h before the product).
    case gru(resetAfter: Bool)

    public var gateCount: Int {
        switch self {
        case .simpleRNN: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    public var hasCellState: Bool { self == .lstm }
}

/// Weights of one direction of one layer, PyTorch layout.
struct SequenceWeights {
    var weightIH: Tensor  // [G·H, I]
    var weightHH: Tensor  // [G·H, H]
    var biasIH: Tensor?   // [G·H]
    var biasHH: Tensor?   // [G·H]
    var weightHR: Tensor? // [P, H], LSTM projection

    /// b_ih + b_hh, for cells where both biases simply add before the activation.
    var combinedBias: Tensor? {
        switch (biasIH, biasHH) {
        case let (i?, h?): return try! i + h
        case let (i?, nil): return i
        case let (nil, h?): return h
        case (nil, nil): return nil
        }
    }
}

/// The per-call inputs of one direction, time-major.
struct SequenceInput {
    var x: Tensor               // [T, B, I]
    var h0: Tensor              // [B, H]
    var c0: Tensor?             // [B, H], LSTM only
    /// Whether step t of example b is real (`valid[t * B + b]`); nil when every step is.
    var valid: [Bool]?
    /// Process t = T−1 … 0 (outputs stay aligned with the input's time axis).
    var reverse: Bool
    /// Whether an invalid step's output repeats the carried state (Keras mask semantics, once a
    /// valid step has been seen) instead of being zero (PyTorch packed semantics).
    var copiesState: [Bool]?
    /// The candidate / cell activation (tanh) and the gates' activation (sigmoid); SimpleRNN
    /// uses only `activation`.
    var activation: ActivationFunction = .tanh
    var recurrentActivation: ActivationFunction = .sigmoid
    /// Keras dropout with recurrent dropout on: one input mask per gate, [G, B, I].
    var inputMasks: Tensor? = nil
    /// Keras recurrent dropout: one mask per gate on h before its product, [G, B, P].
    var recurrentMasks: Tensor? = nil

    var steps: Int { x.shape[0] }
    var batch: Int { x.shape[1] }
    var inputSize: Int { x.shape[2] }

    func isValid(_ t: Int, _ b: Int) -> Bool { valid?[t * batch + b] ?? true }
    func copiesState(_ t: Int, _ b: Int) -> Bool { copiesState?[t * batch + b] ?? false }

    /// Keras mask semantics: an invalid step outputs the previous output, which is the carried
    /// state once a valid step has been processed and zero before that.
    static func carriedOutputs(valid: [Bool], steps: Int, batch: Int, reverse: Bool) -> [Bool] {
        var copies = [Bool](repeating: false, count: steps * batch)
        for b in 0..<batch {
            var seen = false
            for t in (reverse ? Array((0..<steps).reversed()) : Array(0..<steps)) {
                if valid[t * batch + b] { seen = true } else { copies[t * batch + b] = seen }
            }
        }
        return copies
    }

    /// Time indices in processing order.
    var order: [Int] { reverse ? Array((0..<steps).reversed()) : Array(0..<steps) }
}

/// Gradients of one direction; nil where the forward had no such input.
struct SequenceGradients {
    var x: Tensor
    var h0: Tensor
    var c0: Tensor?
    var weightIH: Tensor
    var weightHH: Tensor
    var biasIH: Tensor?
    var biasHH: Tensor?
    var weightHR: Tensor? = nil
}

/// Raw-pointer matrix product on tensors: C = alpha·op(A)·op(B) + beta·C, 2-D views.
@inline(__always)
func gemm(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, beta: Float = 0,
    lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
) {
    let ldc = ldc ?? n
    guard m > 0, n > 0, k > 0 else {
        if beta == 0 {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
        }
        return
    }
    // Dimensions are positive and leading dimensions fit, so the engine cannot throw.
    try! GEMM.sgemm(
        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
        a: a, lda: lda ?? (transposeA ? m : k), b: b, ldb: ldb ?? (transposeB ? k : n), beta: beta, c: c, ldc: ldc)
}

extension Tensor {
    /// A mutable pointer to this tensor's elements, made unique first. Valid while the tensor
    /// (which owns the storage) is alive and not reassigned: the fused ops use it for buffers
    /// they own for the duration of one call.
    mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        withUnsafeMutableBufferPointer { $0.baseAddress! }
    }

    /// A read-only pointer, with the same lifetime rule as `mutablePointer()`.
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
}

/// X ⊙ d_g for gate g's input mask: [T·B, I], row r belonging to example r mod B.
func maskedInput(_ x: Tensor, masks: Tensor, gate: Int) -> Tensor {
    let batch = x.shape[1], width = x.shape[2], rows = x.shape[0] * batch
    var out = Tensor.zeros([rows, width])
    let o = out.mutablePointer(), p = x.pointer, m = masks.pointer + gate * batch * width
    for r in 0..<rows {
        for j in 0..<width { o[r * width + j] = p[r * width + j] * m[(r % batch) * width + j] }
    }
    return out
}

/// The input projection of all steps at once: [T·B, I] · W_ihᵀ + bias → [T, B, G·H]; with
/// per-gate input masks, gate g projects X ⊙ d_g.
func projectInputs(_ x: Tensor, weight: Tensor, bias: Tensor?, masks: Tensor? = nil) -> Tensor {
    let rows = x.shape[0] * x.shape[1], gates = weight.shape[0], inputSize = x.shape[2]
    var out = Tensor.zeros([x.shape[0], x.shape[1], gates])
    let o = out.mutablePointer()
    if let bias {
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { (o + r * gates).update(from: b.baseAddress!, count: gates) }
        }
    }
    let beta: Float = bias == nil ? 0 : 1
    guard let masks else {
        gemm(x.pointer, weight.pointer, o, m: rows, n: gates, k: inputSize, transposeB: true, beta: beta)
        return out
    }
    let blocks = masks.shape[0], block = gates / blocks
    for g in 0..<blocks {
        let xg = maskedInput(x, masks: masks, gate: g)
        gemm(xg.pointer, weight.pointer + g * block * inputSize, o + g * block, m: rows, n: block, k: inputSize,
             transposeB: true, beta: beta, ldc: gates)
    }
    return out
}

/// Weight and input gradients from the pre-activation gradients of all steps at once:
/// dW_ih = dAᵀ·X, db = Σ dA, dX = dA·W_ih (per gate through its input mask when masked).
func inputSideGradients(
    _ dA: Tensor, x: Tensor, weight: Tensor, masks: Tensor? = nil
) -> (dX: Tensor, dWeight: Tensor, dBias: Tensor) {
    let rows = x.shape[0] * x.shape[1], gates = weight.shape[0], inputSize = x.shape[2]
    var dWeight = Tensor.zeros([gates, inputSize])
    var dX = Tensor.zeros(x.shape)
    let dBias = columnSums(dA, rows: rows, columns: gates)
    guard let masks else {
        gemm(dA.pointer, x.pointer, dWeight.mutablePointer(), m: gates, n: inputSize, k: rows, transposeA: true)
        gemm(dA.pointer, weight.pointer, dX.mutablePointer(), m: rows, n: inputSize, k: gates)
        return (dX, dWeight, dBias)
    }
    let blocks = masks.shape[0], block = gates / blocks, batch = x.shape[1]
    var partial = Tensor.zeros([rows, inputSize])
    let dw = dWeight.mutablePointer(), dx = dX.mutablePointer(), tmp = partial.mutablePointer()
    for g in 0..<blocks {
        let xg = maskedInput(x, masks: masks, gate: g)
        gemm(dA.pointer + g * block, xg.pointer, dw + g * block * inputSize, m: block, n: inputSize, k: rows,
             transposeA: true, lda: gates)
        gemm(dA.pointer + g * block, weight.pointer + g * block * inputSize, tmp, m: rows, n: inputSize, k: block,
             lda: gates)
        let m = masks.pointer + g * batch * inputSize
        for r in 0..<rows {
            for j in 0..<inputSize { dx[r * inputSize + j] += tmp[r * inputSize + j] * m[(r % batch) * inputSize + j] }
        }
    }
    return (dX, dWeight, dBias)
}

/// Σ over rows of a [rows, columns] buffer.
func columnSums(_ t: Tensor, rows: Int, columns: Int) -> Tensor {
    var out = Tensor.zeros([columns])
    let o = out.mutablePointer(), p = t.pointer
    for r in 0..<rows {
        let row = p + r * columns
        for j in 0..<columns { o[j] += row[j] }
    }
    return out
}

/// A weight block packed once per call for the products inside the time loop. `w` is
/// row-major [rows, columns]; with `transposed` the product uses wᵀ (k = columns, n = rows).
func pack(_ w: UnsafePointer<Float>, rows: Int, columns: Int, transposed: Bool) -> PackedMatrix {
    // Sizes are positive for every built layer, so packing cannot throw.
    try! PackedMatrix(w, k: transposed ? columns : rows, n: transposed ? rows : columns,
                      ldb: columns, transposed: transposed)
}

/// C = A·B + beta·C with B pre-packed; A is m×k with row stride `lda`.
@inline(__always)
func gemm(
    _ a: UnsafePointer<Float>, _ b: PackedMatrix, _ c: UnsafeMutablePointer<Float>,
    m: Int, beta: Float = 0, lda: Int? = nil, ldc: Int? = nil
) {
    guard m > 0 else { return }
    try! GEMM.sgemm(m: m, a: a, lda: lda ?? b.k, packedB: b, beta: beta, c: c, ldc: ldc ?? b.n)
}
