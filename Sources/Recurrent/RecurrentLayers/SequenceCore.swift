// The types every fused sequence op shares (one direction of one layer over a whole sequence,
// time-major) and their raw-pointer helpers. The time loop is in SequenceSweep.swift, the input
// side in InputProjection.swift, each cell's forward and BPTT in its own file.

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
    /// Threads the sweep may split a step across (nil: `gemmMaxThreads`).
    var sweepThreads: Int? = nil

    var steps: Int { x.shape[0] }
    var batch: Int { x.shape[1] }
    var inputSize: Int { x.shape[2] }

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

extension UnsafePointer {
    /// For buffers this op owns and has made unique.
    var mutable: UnsafeMutablePointer<Pointee> { UnsafeMutablePointer(mutating: self) }
}

extension Tensor {
    /// A mutable pointer to this tensor's elements, made unique first: the storage's own
    /// allocation (not a pointer lent by a closure), valid while the tensor holds that storage
    /// (it is alive and not reassigned). The fused ops use it for buffers they own for the
    /// duration of one call.
    mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return storage.pointer
    }

    /// A read-only pointer, with the same lifetime rule as `mutablePointer()`.
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
}

/// A tensor whose elements are not initialised: for buffers the caller overwrites entirely
/// (a product with beta 0, a copy), which saves a pass over memory.
func uninitializedTensor(_ shape: [Int]) -> Tensor {
    Tensor(storage: TensorStorage(count: Shape.count(shape)), shape: shape)
}

/// Runs `body` with a buffer of `count` floats (contents undefined) reused across calls: for
/// the backward passes' all-step gradient buffers, which do not outlive the call (no page
/// faults from fresh multi-megabyte allocations on every training step).
func withWorkspace<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    GEMMScratch.shared.withBuffer(count: count, body)
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
