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

/// A tensor whose elements are not initialised: for buffers the caller overwrites entirely
/// (a product with beta 0, a copy), which saves a pass over memory.
func uninitializedTensor(_ shape: [Int]) -> Tensor {
    Tensor(storage: TensorStorage(count: Shape.count(shape)), shape: shape)
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
    // Every element is written: by the bias rows and the product, or by the product alone.
    var out = masks == nil ? uninitializedTensor([x.shape[0], x.shape[1], gates]) : Tensor.zeros([x.shape[0], x.shape[1], gates])
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

/// The unmasked input projection X·W_ihᵀ into `o` ([T·B, G], every element written): for the
/// fast path, which keeps it in a reusable workspace when no backward pass will need it, and
/// which with `reuse` (inference) takes W_ihᵀ packed from `PackedWeightCache`.
func projectInputs(_ x: Tensor, weight: Tensor, into o: UnsafeMutablePointer<Float>, reuse: Bool) {
    let rows = x.shape[0] * x.shape[1], gates = weight.shape[0], inputSize = x.shape[2]
    guard reuse else {
        gemm(x.pointer, weight.pointer, o, m: rows, n: gates, k: inputSize, transposeB: true)
        return
    }
    let layout = PackedWeightCache.Layout(kind: .transposed, shape: weight.shape, ranges: [])
    let packed = PackedWeightCache.shared.packed(weight, layout: layout) {
        [pack(weight.pointer, rows: gates, columns: inputSize, transposed: true)]
    }
    gemm(x.pointer, packed[0], o, m: rows)
}

/// Runs `body` with a [T·B, G] buffer for the input projection: a tensor kept for the
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

/// Weight and input gradients from the pre-activation gradients of all steps at once:
/// dW_ih = dAᵀ·X, db = Σ dA, dX = dA·W_ih (per gate through its input mask when masked).
/// Without `needsInputGradient` (x is data, not a variable) dX is skipped and returned empty.
func inputSideGradients(
    _ dA: Tensor, x: Tensor, weight: Tensor, masks: Tensor? = nil, needsInputGradient: Bool = true
) -> (dX: Tensor, dWeight: Tensor, dBias: Tensor) {
    guard let masks else {
        return inputSideGradients(dA.pointer, x: x, weight: weight, needsInputGradient: needsInputGradient)
    }
    let rows = x.shape[0] * x.shape[1], gates = weight.shape[0], inputSize = x.shape[2]
    var dWeight = Tensor.zeros([gates, inputSize])
    let dBias = columnSums(dA, rows: rows, columns: gates)
    var dX = Tensor.zeros(x.shape)
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

/// The unmasked input-side gradients from dA [T·B, G] behind a pointer (a reused workspace).
func inputSideGradients(
    _ dA: UnsafePointer<Float>, x: Tensor, weight: Tensor, needsInputGradient: Bool
) -> (dX: Tensor, dWeight: Tensor, dBias: Tensor) {
    let rows = x.shape[0] * x.shape[1], gates = weight.shape[0], inputSize = x.shape[2]
    var dWeight = uninitializedTensor([gates, inputSize])
    let dBias = columnSums(dA, rows: rows, columns: gates)
    gemm(dA, x.pointer, dWeight.mutablePointer(), m: gates, n: inputSize, k: rows, transposeA: true)
    guard needsInputGradient else { return (Tensor.zeros([0]), dWeight, dBias) }
    var dX = uninitializedTensor(x.shape)
    gemm(dA, weight.pointer, dX.mutablePointer(), m: rows, n: inputSize, k: gates)
    return (dX, dWeight, dBias)
}

/// Σ over rows of a [rows, columns] buffer.
func columnSums(_ t: Tensor, rows: Int, columns: Int) -> Tensor {
    columnSums(t.pointer, rows: rows, columns: columns)
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

// MARK: The fast path: whole sequences, standard activations, split across threads

extension SequenceInput {
    /// Whether the cell-specific fast path applies: no dropout masks, no projection, and the
    /// standard activations (sigmoid gates, tanh candidate; tanh or relu for SimpleRNN).
    func allowsFastPath(_ kind: CellKind, projected: Bool) -> Bool {
        guard inputMasks == nil, recurrentMasks == nil, !projected else { return false }
        switch kind {
        case .simpleRNN: return activation == .tanh || activation == .relu
        case .lstm, .gru(resetAfter: true): return activation == .tanh && recurrentActivation == .sigmoid
        case .gru(resetAfter: false): return false
        }
    }
}

/// How the time loop of a fast-path op is cut: each step's hidden units are split into parts
/// (one per thread), and part p computes the recurrent product and the gates of its units for
/// every batch row; `GEMMThreads.runSteps` puts one barrier between steps. Small steps stay on
/// one thread (batch-1 streaming with a small layer).
struct StepPlan {
    /// Hidden-unit ranges, one per part.
    let ranges: [Range<Int>]
    let threads: Int

    /// Multiply-adds per step below which the loop stays on one thread.
    static let parallelThreshold = 48 * 1024

    init(hidden: Int, stateSize: Int, batch: Int, gates: Int) {
        let threads = gemmMaxThreads
        let work = batch * gates * hidden * stateSize
        if threads >= 2 && hidden >= 32 && work >= Self.parallelThreshold {
            // Two parts cut at a multiple of 16 (the widest vector) for aligned gate slices.
            let half = min(hidden - 16, max(16, (hidden / 2 + 8) / 16 * 16))
            ranges = [0..<half, half..<hidden]
            self.threads = 2
        } else {
            ranges = [0..<hidden]
            self.threads = 1
        }
    }

    var parts: Int { ranges.count }

    /// Batch rows per product inside a step: small chunks keep the product's output hot
    /// between the product and the gate kernel when the part's weights stay in L2 anyway;
    /// larger weights are streamed once per step over the whole batch.
    static func rowChunk(batch: Int, partWeightFloats: Int) -> Int {
        partWeightFloats * 4 <= 640 * 1024 ? min(batch, 24) : batch
    }

    /// Runs `body(step, part)` over `steps` steps.
    func run(steps: Int, _ body: (_ step: Int, _ part: Int) -> Void) {
        GEMMThreads.shared.runSteps(steps: steps, parts: parts, threads: threads, body)
    }
}

/// Rows {g·H + range} of a gate-stacked weight [gates·H, columns], packed as the right operand
/// of h·Wᵀ: k = columns, n = gates·|range| (gate-major).
func packGateRows(
    _ w: UnsafePointer<Float>, hidden H: Int, columns: Int, gates: Int, range: Range<Int>
) -> PackedMatrix {
    let width = range.count
    if gates == 1 || width == H {
        return pack(w + range.lowerBound * columns, rows: gates * width, columns: columns, transposed: true)
    }
    var gathered = Tensor.zeros([gates * width, columns])
    let g = gathered.mutablePointer()
    for gate in 0..<gates {
        (g + gate * width * columns).update(from: w + (gate * H + range.lowerBound) * columns, count: width * columns)
    }
    return pack(g, rows: gates * width, columns: columns, transposed: true)
}

/// Each part's rows of a gate-stacked W_hh [gates·H, H], packed for h·W_hhᵀ. Inference calls
/// (`reuse`) take them from `PackedWeightCache` while the weight is unchanged; training calls
/// pack afresh, since their weights change at every optimizer step.
func packedGateRows(_ weightHH: Tensor, plan: StepPlan, gates: Int, reuse: Bool) -> [PackedMatrix] {
    let H = weightHH.shape[1]
    let make = { plan.ranges.map { packGateRows(weightHH.pointer, hidden: H, columns: H, gates: gates, range: $0) } }
    guard reuse else { return make() }
    let layout = PackedWeightCache.Layout(kind: .gateRows(gates: gates), shape: weightHH.shape, ranges: plan.ranges)
    return PackedWeightCache.shared.packed(weightHH, layout: layout, make: make)
}

/// Columns `range` of a weight [rows, columns], packed as the right operand of dA·W
/// (k = rows, n = |range|).
func packColumns(_ w: UnsafePointer<Float>, rows: Int, columns: Int, range: Range<Int>) -> PackedMatrix {
    try! PackedMatrix(w + range.lowerBound, k: rows, n: range.count, ldb: columns, transposed: false)
}

/// Per-part buffers of a fast-path loop, allocated once per call (nothing is allocated inside
/// the time loop): the part's slice of the recurrent product and the A-packing scratch.
struct PartBuffers {
    private var storage: [Tensor]
    let product: [UnsafeMutablePointer<Float>]
    let scratch: [UnsafeMutablePointer<Float>]

    init(_ plan: StepPlan, batch: Int, productWidth: (Range<Int>) -> Int, weights: [PackedMatrix]) {
        var storage: [Tensor] = []
        for (range, w) in zip(plan.ranges, weights) {
            storage.append(Tensor.zeros([max(1, batch * productWidth(range))]))
            storage.append(Tensor.zeros([w.scratchCount(m: batch)]))
        }
        self.storage = storage
        product = stride(from: 0, to: storage.count, by: 2).map { storage[$0].pointer.mutable }
        scratch = stride(from: 1, to: storage.count, by: 2).map { storage[$0].pointer.mutable }
    }
}

/// The gradients after a fast backward sweep whose one dA [T, B, G] feeds both the recurrent
/// and the input side (LSTM, SimpleRNN): dh_0 = dA of the first processed step · W_hh (plus what
/// padded rows carried through), dW_hh from the saved states `y` and h0, dW_ih, the bias gradient (the same for b_ih and b_hh),
/// and dX when x needs one.
func sweepGradients(
    _ dA: UnsafePointer<Float>, sweep: BackwardSweep, input: SequenceInput, weights w: SequenceWeights,
    y: Tensor, dh: inout Tensor, dc: Tensor?, needsInputGradient: Bool
) -> SequenceGradients {
    let G = w.weightHH.shape[0], H = w.weightHH.shape[1]
    sweep.initialStateGradient(dA: dA, weightHH: w.weightHH, dh: dh.mutablePointer())
    var dWeightHH = uninitializedTensor([G, H])
    PreviousStates(y: y, h0: input.h0, reverse: input.reverse).weightGradient(dA, gates: G, into: dWeightHH.mutablePointer())
    let (dX, dWeightIH, dBias) = inputSideGradients(
        dA, x: input.x, weight: w.weightIH, needsInputGradient: needsInputGradient)
    return SequenceGradients(
        x: dX, h0: dh, c0: dc, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBias, biasHH: w.biasHH == nil ? nil : dBias)
}

extension UnsafePointer {
    /// For buffers this op owns and has made unique.
    var mutable: UnsafeMutablePointer<Pointee> { UnsafeMutablePointer(mutating: self) }
}

/// h entering each step, read from the outputs y [T, B, H] and h0 [B, H] without copying them
/// into a [T, B, H] tensor of their own: it is y of the step processed before, or h0 for the
/// first processed step. The fast paths save y in place of h_{t−1} and read it through this.
struct PreviousStates {
    let y: UnsafePointer<Float>, h0: UnsafePointer<Float>
    let steps: Int, batch: Int, width: Int, reverse: Bool

    /// The [B, H] block of h entering time t.
    func block(_ t: Int) -> UnsafePointer<Float> {
        if t == (reverse ? steps - 1 : 0) { return h0 }
        return y + (reverse ? t + 1 : t - 1) * batch * width
    }

    /// dW = Σ_t dA_tᵀ · h_{t−1} for dA [T, B, G] (row stride G), into dW [G, H]: one product
    /// over the steps whose h is an output, one over the first processed step's h0.
    func weightGradient(_ dA: UnsafePointer<Float>, gates G: Int, into dW: UnsafeMutablePointer<Float>) {
        let rows = (steps - 1) * batch, first = reverse ? steps - 1 : 0
        if rows > 0 {
            // Forward order: times 1… pair with y of times 0…; reverse: times 0… with y of 1….
            let dAStart = reverse ? 0 : batch, yStart = reverse ? batch : 0
            gemm(dA + dAStart * G, y + yStart * width, dW, m: G, n: width, k: rows, transposeA: true)
        }
        gemm(dA + first * batch * G, h0, dW, m: G, n: width, k: batch, transposeA: true, beta: rows > 0 ? 1 : 0)
    }
}

extension PreviousStates {
    init(y: Tensor, h0: Tensor, reverse: Bool) {
        self.init(y: y.pointer, h0: h0.pointer, steps: y.shape[0], batch: y.shape[1], width: y.shape[2], reverse: reverse)
    }
}

/// The real rows of each step, `rows[t]` in batch order, when some step has padding (nil when
/// every step is real): the sweeps multiply only these rows, gathered into a contiguous block.
func realRows(_ valid: [Bool]?, steps: Int, batch: Int) -> [[Int]]? {
    guard let valid, valid.contains(false) else { return nil }
    return (0..<steps).map { t in (0..<batch).filter { valid[t * batch + $0] } }
}

/// One buffer of `count` floats per part, for the gathered rows of padded steps.
private func partBlocks(_ parts: Int, count: Int) -> (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>]) {
    let storage = (0..<parts).map { _ in Tensor.zeros([max(1, count)]) }
    return (storage, storage.map { $0.pointer.mutable })
}

/// The frame every fast forward pass shares: the step plan, each part's rows of W_hh packed
/// (kept across inference calls), the per-part product buffers, the order of steps and the
/// padding. At each step part p multiplies h_{t−1} — the state of the step processed before, or
/// h0 — by its rows of W_hh, a chunk of batch rows at a time while the part's weights stay in
/// cache, and hands every real row's slice of the product to the cell's gate kernel. A padded
/// row keeps its state (h_t = h_{t−1}; the cell's other state, c, is simply not touched).
struct ForwardSweep {
    let plan: StepPlan
    private let weights: [PackedMatrix]
    private let buffers: PartBuffers
    private let chunk: Int
    private let steps: Int, batch: Int, hidden: Int, gates: Int, reverse: Bool
    private let valid: [Bool]?, copiesState: [Bool]?
    private let rows: [[Int]]?
    private let gathered: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])

    init(_ input: SequenceInput, weightHH: Tensor, gates: Int, reuse: Bool) {
        let H = weightHH.shape[1]
        plan = StepPlan(hidden: H, stateSize: H, batch: input.batch, gates: gates)
        weights = packedGateRows(weightHH, plan: plan, gates: gates, reuse: reuse)
        chunk = StepPlan.rowChunk(batch: input.batch, partWeightFloats: gates * plan.ranges[0].count * H)
        buffers = PartBuffers(plan, batch: chunk, productWidth: { gates * $0.count }, weights: weights)
        (steps, batch, hidden, self.gates, reverse) = (input.steps, input.batch, H, gates, input.reverse)
        (valid, copiesState) = (input.valid, input.copiesState)
        rows = realRows(input.valid, steps: input.steps, batch: input.batch)
        gathered = partBlocks(rows == nil ? 0 : plan.parts, count: chunk * H)
    }

    /// Runs `body(time, row, units, product, hPrev)` for every step, part and real batch row,
    /// where the states h_t [T, B, H] are written by the body (and by the sweep for padded
    /// rows): `product` is the row's slice of h_{t−1}·W_hhᵀ for `units`, gate g at
    /// `g · units.count`, and `hPrev` the row of h_{t−1}.
    func run(
        h0: UnsafePointer<Float>, states: UnsafeMutablePointer<Float>,
        _ body: (_ time: Int, _ row: Int, _ units: Range<Int>, _ product: UnsafePointer<Float>,
                 _ hPrev: UnsafePointer<Float>) -> Void
    ) {
        let (T, B, H) = (steps, batch, hidden)
        let previous = PreviousStates(y: states, h0: h0, steps: T, batch: B, width: H, reverse: reverse)
        plan.run(steps: T) { s, p in
            let t = reverse ? T - 1 - s : s
            let prev = previous.block(t)
            let range = plan.ranges[p], rowWidth = gates * range.count
            let product = buffers.product[p]
            if let valid, let real = rows?[t], real.count < B {
                // Padded rows keep their state; the real ones are gathered for the product.
                for b in 0..<B where !valid[t * B + b] {
                    (states + (t * B + b) * H + range.lowerBound).update(from: prev + b * H + range.lowerBound, count: range.count)
                }
                let block = gathered.pointers[p]
                var i0 = 0
                while i0 < real.count {
                    let n = min(chunk, real.count - i0)
                    for k in 0..<n { (block + k * H).update(from: prev + real[i0 + k] * H, count: H) }
                    weights[p].multiply(
                        m: n, a: block, lda: H, beta: 0, c: product, ldc: rowWidth, scratch: buffers.scratch[p])
                    for k in 0..<n {
                        let b = real[i0 + k]
                        body(t, b, range, product + k * rowWidth, prev + b * H)
                    }
                    i0 += n
                }
                return
            }
            var r0 = 0
            while r0 < B {
                let n = min(chunk, B - r0)
                weights[p].multiply(
                    m: n, a: prev + r0 * H, lda: H, beta: 0, c: product, ldc: rowWidth, scratch: buffers.scratch[p])
                for b in r0..<(r0 + n) {
                    body(t, b, range, product + (b - r0) * rowWidth, prev + b * H)
                }
                r0 += n
            }
        }
    }

    /// h_T: the states of the last processed step, [B, H].
    func finalState(_ states: Tensor) -> Tensor {
        var hN = uninitializedTensor([batch, hidden])
        hN.mutablePointer().update(from: states.pointer + (reverse ? 0 : steps - 1) * batch * hidden, count: batch * hidden)
        return hN
    }

    /// The layer's outputs from its states: the states themselves without padding; with it, a
    /// padded step outputs zero (PyTorch packed sequences) or, under Keras masking once a real
    /// step has been seen, the state it carries.
    func outputs(_ states: Tensor) -> Tensor {
        guard let valid else { return states }
        var y = uninitializedTensor(states.shape)
        let o = y.mutablePointer(), h = states.pointer, H = hidden
        for r in 0..<(steps * batch) {
            if valid[r] || (copiesState?[r] ?? false) {
                (o + r * H).update(from: h + r * H, count: H)
            } else {
                (o + r * H).update(repeating: 0, count: H)
            }
        }
        return y
    }
}

/// The frame every fast backward pass shares: the step plan, each part's packed columns of
/// W_hh, the order of steps (backward step s handles time `time(s)`, the reverse of the forward
/// order) and the padding. At each step part p adds to its slice of dh the previous step's gate
/// gradients times its columns of W_hh (past the first step) and the step's output gradient,
/// then runs the cell's gradient kernel on every real row. The cell leaves in dh the part of
/// dh_{t−1} that does not pass through W_hh (zero for LSTM and SimpleRNN, dh·z for GRU). A
/// padded row keeps dh as it is (h_t was h_{t−1}) and gets zero gate gradients.
struct BackwardSweep {
    let plan: StepPlan
    private let weights: [PackedMatrix]
    private let buffers: PartBuffers
    private let steps: Int, batch: Int, hidden: Int, gateWidth: Int, reverse: Bool
    private let valid: [Bool]?, copiesState: [Bool]?
    private let rows: [[Int]]?
    private let gathered: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])

    init(_ input: SequenceInput, weightHH: Tensor, gates: Int) {
        let H = weightHH.shape[1], G = weightHH.shape[0]
        plan = StepPlan(hidden: H, stateSize: H, batch: input.batch, gates: gates)
        let weights = plan.ranges.map { packColumns(weightHH.pointer, rows: G, columns: H, range: $0) }
        self.weights = weights
        let rows = realRows(input.valid, steps: input.steps, batch: input.batch)
        self.rows = rows
        // With padding, the product of the gathered rows lands in `buffers.product` first.
        buffers = PartBuffers(plan, batch: input.batch, productWidth: { rows == nil ? 0 : $0.count }, weights: weights)
        gathered = partBlocks(rows == nil ? 0 : plan.parts, count: input.batch * G)
        (steps, batch, hidden, gateWidth, reverse) = (input.steps, input.batch, H, G, input.reverse)
        (valid, copiesState) = (input.valid, input.copiesState)
    }

    func time(_ s: Int) -> Int { reverse ? s : steps - 1 - s }

    /// Runs `body(step, time, units, row)` for every step, part and real row; `dA` is the
    /// [T, B, G] buffer of gate gradients whose product with W_hh feeds `dh` [B, H], `dY`
    /// [T, B, H] the gradient of the outputs. Padded rows get zeros in `dA` and in `alsoZeroed`
    /// (another [T, B, G] buffer the body writes, or nil).
    func run(
        dA: UnsafeMutablePointer<Float>, alsoZeroed: UnsafeMutablePointer<Float>? = nil,
        dh: UnsafeMutablePointer<Float>, dY: UnsafePointer<Float>,
        _ body: (_ step: Int, _ time: Int, _ units: Range<Int>, _ row: Int) -> Void
    ) {
        let G = gateWidth, H = hidden, B = batch
        plan.run(steps: steps) { s, p in
            let range = plan.ranges[p], t = time(s)
            if s > 0, let real = rows?[time(s - 1)], real.count < B {
                // Only the rows that were real have gate gradients: gathered, multiplied, added.
                let block = gathered.pointers[p], product = buffers.product[p], width = range.count
                let previous = dA + time(s - 1) * B * G
                for (k, b) in real.enumerated() { (block + k * G).update(from: previous + b * G, count: G) }
                weights[p].multiply(
                    m: real.count, a: block, lda: G, beta: 0, c: product, ldc: width, scratch: buffers.scratch[p])
                for (k, b) in real.enumerated() {
                    let dhb = dh + b * H + range.lowerBound, pk = product + k * width
                    for j in 0..<width { dhb[j] += pk[j] }
                }
            } else if s > 0 {
                weights[p].multiply(
                    m: B, a: dA + time(s - 1) * B * G, lda: G, beta: 1,
                    c: dh + range.lowerBound, ldc: H, scratch: buffers.scratch[p])
            }
            for b in 0..<B {
                let r = t * B + b
                if valid?[r] ?? true || copiesState?[r] ?? false {
                    let dhb = dh + b * H + range.lowerBound, dy = dY + r * H + range.lowerBound
                    for j in 0..<range.count { dhb[j] += dy[j] }
                }
                if valid?[r] ?? true {
                    body(s, t, range, b)
                    continue
                }
                for buffer in [dA, alsoZeroed].compactMap({ $0 }) {
                    for g in 0..<(G / H) {
                        (buffer + r * G + g * H + range.lowerBound).update(repeating: 0, count: range.count)
                    }
                }
            }
        }
    }

    /// dh_0: what the cells left in dh plus dA of the first processed step · W_hh.
    func initialStateGradient(dA: UnsafePointer<Float>, weightHH: Tensor, dh: UnsafeMutablePointer<Float>) {
        gemm(dA + time(steps - 1) * batch * gateWidth, weightHH.pointer, dh, m: batch, n: hidden, k: gateWidth, beta: 1)
    }
}
