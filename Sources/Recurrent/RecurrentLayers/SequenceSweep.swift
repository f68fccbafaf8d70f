// The one sequence sweep every cell's fast path runs: the hidden units split across threads
// (`StepPlan`), W_hh packed per part, time reversal, padded rows under both mask semantics,
// and the products over all steps. Each cell (LSTMSequence.swift, GRUSequence.swift,
// SimpleRNNSequence.swift) supplies only its gate kernel, forward and backward, per row.

extension SequenceInput {
    /// Whether the cell-specific fast path applies: the standard activations (sigmoid gates,
    /// tanh candidate; tanh or relu for SimpleRNN).
    func allowsFastPath(_ kind: CellKind) -> Bool {
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
    /// State columns, one range per part (the hidden-unit ranges unless an LSTM projection
    /// makes h narrower than the cell; a part's range may then be empty).
    let stateRanges: [Range<Int>]
    let threads: Int

    /// Multiply-adds per step below which the loop stays on one thread.
    static let parallelThreshold = 48 * 1024

    /// `threads` caps the split (default `gemmMaxThreads`): 1 when the two directions of a
    /// layer run side by side, one thread each.
    init(hidden: Int, stateSize: Int, batch: Int, gates: Int, threads: Int? = nil) {
        let threads = threads ?? gemmMaxThreads
        let work = batch * gates * hidden * stateSize
        // Two parts cut at a multiple of 16 (the widest vector) for aligned gate slices.
        func halves(_ n: Int) -> [Range<Int>] {
            guard n >= 32 else { return [0..<n, n..<n] }
            let half = min(n - 16, max(16, (n / 2 + 8) / 16 * 16))
            return [0..<half, half..<n]
        }
        if threads >= 2 && hidden >= 32 && work >= Self.parallelThreshold {
            ranges = halves(hidden)
            stateRanges = stateSize == hidden ? ranges : halves(stateSize)
            self.threads = 2
        } else {
            ranges = [0..<hidden]
            stateRanges = [0..<stateSize]
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

    /// Runs `body(step, phase, part)` over `steps` steps of `phases` phases each, with a
    /// barrier between phases (a phase reads what every part wrote in the phase before).
    func run(steps: Int, phases: Int, _ body: (_ step: Int, _ phase: Int, _ part: Int) -> Void) {
        GEMMThreads.shared.runSteps(steps: steps * phases, parts: parts, threads: threads) { v, p in
            body(v / phases, v % phases, p)
        }
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

/// Each part's rows of a gate-stacked W_hh [gates·H, S], packed for h·W_hhᵀ. Inference calls
/// (`reuse`) take them from `PackedWeightCache` while the weight is unchanged; training calls
/// pack afresh, since their weights change at every optimizer step.
func packedGateRows(_ weightHH: Tensor, plan: StepPlan, gates: Int, reuse: Bool) -> [PackedMatrix] {
    let H = weightHH.shape[0] / gates, S = weightHH.shape[1]
    let make = { plan.ranges.map { packGateRows(weightHH.pointer, hidden: H, columns: S, gates: gates, range: $0) } }
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

/// The real rows of a [T, B, ·] sequence as the fast sweep stores them: without padding every
/// row in place (row t·B + b); with padding only the real ones, packed time-major, so that no
/// padded row enters the products over all steps (input projection, weight gradients) or a
/// step's recurrent product. `index(t, b)` is a real row's place in those buffers.
struct SequenceRows {
    let steps: Int, batch: Int
    /// Real rows in all: the height of the compact buffers.
    let count: Int
    /// t·B + b → compact row (−1 for padding); nil when every row is real (the identity).
    private let places: [Int]?
    /// Compact row → its example b (nil: row r is example r mod B).
    private let owners: [Int]?
    /// The compact row of step t's first real row (T + 1 entries); the real b of each step.
    private let starts: [Int]?, examples: [[Int]]?

    init(valid: [Bool]?, steps: Int, batch: Int) {
        (self.steps, self.batch) = (steps, batch)
        guard let valid, valid.contains(false) else {
            (count, places, owners, starts, examples) = (steps * batch, nil, nil, nil, nil)
            return
        }
        var places = [Int](repeating: -1, count: steps * batch), starts = [0], examples: [[Int]] = []
        for t in 0..<steps {
            let real = (0..<batch).filter { valid[t * batch + $0] }
            for (k, b) in real.enumerated() { places[t * batch + b] = starts[t] + k }
            examples.append(real)
            starts.append(starts[t] + real.count)
        }
        (count, self.places, self.starts, self.examples) = (starts[steps], places, starts, examples)
        owners = examples.flatMap { $0 }
    }

    init(_ input: SequenceInput) { self.init(valid: input.valid, steps: input.steps, batch: input.batch) }

    var isPadded: Bool { places != nil }
    func isReal(_ t: Int, _ b: Int) -> Bool { places.map { $0[t * batch + b] >= 0 } ?? true }
    func index(_ t: Int, _ b: Int) -> Int { places?[t * batch + b] ?? t * batch + b }
    /// The example (batch row) of compact row r.
    func example(_ r: Int) -> Int { owners?[r] ?? r % batch }

    /// Step t's real rows: where they start in the compact buffers, and which examples they
    /// are when some are padding (nil: all B in order).
    func step(_ t: Int) -> (start: Int, examples: [Int]?) {
        guard let starts, let examples else { return (t * batch, nil) }
        return (starts[t], examples[t].count < batch ? examples[t] : nil)
    }

    /// The real rows of x [T, B, w] as [count, w] (x itself without padding).
    func gather(_ x: Tensor) -> Tensor {
        guard let places else { return x }
        let w = x.shape[2]
        var out = uninitializedTensor([count, w])
        let o = out.mutablePointer(), p = x.pointer
        for (r, place) in places.enumerated() where place >= 0 { (o + place * w).update(from: p + r * w, count: w) }
        return out
    }

    /// rows ⊙ d_g: each compact row of `x` [count, w] times its example's row of gate g's
    /// dropout mask (`masks` [G, B, w]), into `out` [count, w].
    func masked(_ x: UnsafePointer<Float>, masks: Tensor, gate g: Int, width w: Int, into out: UnsafeMutablePointer<Float>) {
        let m = masks.pointer + g * batch * w
        for r in 0..<count {
            let o = out + r * w, p = x + r * w, d = m + example(r) * w
            for j in 0..<w { o[j] = p[j] * d[j] }
        }
    }

    /// Compact rows [count, w] back as [T, B, w], zero in padded rows.
    func scatter(_ compact: Tensor) -> Tensor {
        let w = compact.shape[compact.rank - 1]
        guard let places else { return try! compact.reshaped([steps, batch, w]) }
        var out = Tensor.zeros([steps, batch, w])
        let o = out.mutablePointer(), p = compact.pointer
        for (r, place) in places.enumerated() where place >= 0 { (o + r * w).update(from: p + place * w, count: w) }
        return out
    }
}

/// h entering each step, read from the states [T, B, H] and h0 [B, H] without copying them
/// into a [T, B, H] tensor of their own: the state of the step processed before, or h0 for
/// the first processed step.
struct PreviousStates {
    let states: UnsafePointer<Float>, h0: UnsafePointer<Float>
    let steps: Int, batch: Int, width: Int, reverse: Bool

    /// The [B, H] block of h entering time t.
    func block(_ t: Int) -> UnsafePointer<Float> {
        if t == (reverse ? steps - 1 : 0) { return h0 }
        return states + (reverse ? t + 1 : t - 1) * batch * width
    }

    /// dW = Σ_t dA_tᵀ · h_{t−1} for the real rows' dA [rows.count, G], into dW [G, H]. Without
    /// padding: one product over the steps whose h is a state, one over the first processed
    /// step's h0; with padding (or masks), one product over the real rows' h_{t−1} gathered.
    /// With recurrent dropout masks [gates, B, H], gate g's block pairs with h_{t−1} ⊙ d_g.
    func weightGradient(
        _ dA: UnsafePointer<Float>, rows: SequenceRows, gates G: Int, masks: Tensor? = nil,
        into dW: UnsafeMutablePointer<Float>
    ) {
        if rows.isPadded || masks != nil {
            var gathered = uninitializedTensor([rows.count, width])
            let g = gathered.mutablePointer()
            for t in 0..<steps {
                for b in 0..<batch where rows.isReal(t, b) {
                    (g + rows.index(t, b) * width).update(from: block(t) + b * width, count: width)
                }
            }
            guard let masks else {
                gemm(dA, g, dW, m: G, n: width, k: rows.count, transposeA: true)
                return
            }
            let blocks = masks.shape[0], blockRows = G / blocks
            var maskedRows = uninitializedTensor([rows.count, width])
            for gate in 0..<blocks {
                rows.masked(g, masks: masks, gate: gate, width: width, into: maskedRows.mutablePointer())
                gemm(dA + gate * blockRows, maskedRows.pointer, dW + gate * blockRows * width,
                     m: blockRows, n: width, k: rows.count, transposeA: true, lda: G)
            }
            return
        }
        let later = (steps - 1) * batch, first = reverse ? steps - 1 : 0
        if later > 0 {
            // Forward order: times 1… pair with states of times 0…; reverse: times 0… with 1….
            let dAStart = reverse ? 0 : batch, hStart = reverse ? batch : 0
            gemm(dA + dAStart * G, states + hStart * width, dW, m: G, n: width, k: later, transposeA: true)
        }
        gemm(dA + first * batch * G, h0, dW, m: G, n: width, k: batch, transposeA: true, beta: later > 0 ? 1 : 0)
    }
}

extension PreviousStates {
    init(states: Tensor, h0: Tensor, reverse: Bool) {
        self.init(
            states: states.pointer, h0: h0.pointer, steps: states.shape[0], batch: states.shape[1],
            width: states.shape[2], reverse: reverse)
    }
}

/// One buffer of `count` floats per part (none when `parts` is 0).
private func partBlocks(_ parts: Int, count: Int) -> (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>]) {
    let storage = (0..<parts).map { _ in Tensor.zeros([max(1, count)]) }
    return (storage, storage.map { $0.pointer.mutable })
}

/// The frame every fast forward pass shares: the step plan, each part's rows of W_hh packed
/// (kept across inference calls), the per-part product buffers, the order of steps and the
/// padding. At each step part p multiplies h_{t−1} — the state of the step processed before,
/// or h0 — by its rows of W_hh, a chunk of batch rows at a time while the part's weights stay
/// in cache, and hands every real row's slice of the product to the cell's gate kernel. A
/// padded row keeps its state (h_t = h_{t−1}; the cell's other state, c, is simply not
/// touched) and is left out of the product (the real rows are gathered first).
///
/// With an LSTM projection (`SweepProjection`) each step has a second phase: the kernels write
/// the cell's output o ⊙ tanh(c) of all H units, then part p forms its columns of
/// h_t = that · W_hrᵀ (h has P < H columns).
struct ForwardSweep {
    let plan: StepPlan
    let rows: SequenceRows
    private let weights: [PackedMatrix]
    private let buffers: PartBuffers
    private let chunk: Int
    /// Hidden units H and state columns S (S = P with a projection, else H).
    private let steps: Int, batch: Int, hidden: Int, width: Int, gates: Int, reverse: Bool
    private let copiesState: [Bool]?
    private let gathered: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    /// Keras recurrent dropout: masks [gates, B, S], and per part each gate's rows of W_hh
    /// packed on their own (gate g multiplies h ⊙ d_g).
    private let masks: Tensor?
    private let gateWeights: [[PackedMatrix]]
    /// Every batch row, for steps without padding that still gather (dropout masks).
    private let allRows: [Int]
    private let projection: SweepProjection?

    init(_ input: SequenceInput, weightHH: Tensor, gates: Int, reuse: Bool, weightHR: Tensor? = nil, saving: Bool = false) {
        let H = weightHH.shape[0] / gates, S = weightHH.shape[1]
        plan = StepPlan(hidden: H, stateSize: S, batch: input.batch, gates: gates, threads: input.sweepThreads)
        rows = SequenceRows(input)
        masks = input.recurrentMasks
        weights = masks == nil ? packedGateRows(weightHH, plan: plan, gates: gates, reuse: reuse) : []
        gateWeights = masks == nil ? [] : plan.ranges.map { range in
            (0..<gates).map { g in
                pack(weightHH.pointer + (g * H + range.lowerBound) * S, rows: range.count, columns: S, transposed: true)
            }
        }
        chunk = StepPlan.rowChunk(batch: input.batch, partWeightFloats: gates * plan.ranges[0].count * S)
        buffers = PartBuffers(plan, batch: chunk, productWidth: { gates * $0.count }, weights: weights + gateWeights.map { $0[0] })
        (steps, batch, hidden, width, self.gates, reverse) = (input.steps, input.batch, H, S, gates, input.reverse)
        copiesState = input.copiesState
        gathered = partBlocks(rows.isPadded || masks != nil ? plan.parts : 0, count: chunk * S)
        allRows = Array(0..<input.batch)
        let (plan, rows) = (plan, rows)
        projection = weightHR.map { SweepProjection(weightHR: $0, plan: plan, rows: rows, saving: saving) }
    }

    /// The cell outputs o ⊙ tanh(c) before the projection, [rows.count, H] (saved for the
    /// backward pass); nil without a projection or when nothing is saved.
    var unprojected: Tensor? { projection?.saved }

    /// Runs `body(time, row, units, product, hPrev, hOut)` for every step, part and real batch
    /// row: `product` is the row's slice of h_{t−1}·W_hhᵀ for `units`, gate g at
    /// `g · units.count`, `hPrev` the row of h_{t−1} and `hOut` where the row's new h (all H
    /// units; the kernel writes `units`) goes. The states h_t [T, B, S] are written by the body
    /// (or by the projection) and by the sweep for padded rows.
    func run(
        h0: UnsafePointer<Float>, states: UnsafeMutablePointer<Float>,
        _ body: (_ time: Int, _ row: Int, _ units: Range<Int>, _ product: UnsafePointer<Float>,
                 _ hPrev: UnsafePointer<Float>, _ hOut: UnsafeMutablePointer<Float>) -> Void
    ) {
        let (T, B, S) = (steps, batch, width)
        let previous = PreviousStates(states: states, h0: h0, steps: T, batch: B, width: S, reverse: reverse)
        plan.run(steps: T, phases: projection == nil ? 1 : 2) { s, phase, p in
            let t = reverse ? T - 1 - s : s, prev = previous.block(t)
            if let projection {
                guard phase == 0 else {
                    projection.project(time: t, part: p, states: states, prev: prev, width: S)
                    return
                }
                cellPhase(t, p, prev) { b, units, product, hPrev in
                    body(t, b, units, product, hPrev, projection.output(time: t, row: b))
                }
            } else {
                cellPhase(t, p, prev) { b, units, product, hPrev in
                    body(t, b, units, product, hPrev, states + (t * B + b) * S)
                }
                for b in 0..<B where !rows.isReal(t, b) {
                    let range = plan.ranges[p]
                    (states + (t * B + b) * S + range.lowerBound).update(from: prev + b * S + range.lowerBound, count: range.count)
                }
            }
        }
    }

    /// Part p of step t's recurrent product, and the cell's kernel on every real row.
    private func cellPhase(
        _ t: Int, _ p: Int, _ prev: UnsafePointer<Float>,
        _ cell: (_ row: Int, _ units: Range<Int>, _ product: UnsafePointer<Float>, _ hPrev: UnsafePointer<Float>) -> Void
    ) {
        let (B, S) = (batch, width)
        let range = plan.ranges[p], rowWidth = gates * range.count
        let product = buffers.product[p]
        let real = rows.step(t).examples
        // Without padding or masks the rows of h_{t−1} are the product's operand as they are.
        guard real != nil || masks != nil else {
            var r0 = 0
            while r0 < B {
                let n = min(chunk, B - r0)
                weights[p].multiply(
                    m: n, a: prev + r0 * S, lda: S, beta: 0, c: product, ldc: rowWidth, scratch: buffers.scratch[p])
                for b in r0..<(r0 + n) { cell(b, range, product + (b - r0) * rowWidth, prev + b * S) }
                r0 += n
            }
            return
        }
        let list = real ?? allRows, block = gathered.pointers[p]
        var i0 = 0
        while i0 < list.count {
            let n = min(chunk, list.count - i0)
            if let masks {
                // Gate g multiplies h ⊙ d_g with its own rows of W_hh.
                for g in 0..<gates {
                    let d = masks.pointer + g * B * S
                    for k in 0..<n {
                        let b = list[i0 + k], o = block + k * S, h = prev + b * S, m = d + b * S
                        for j in 0..<S { o[j] = h[j] * m[j] }
                    }
                    gateWeights[p][g].multiply(
                        m: n, a: block, lda: S, beta: 0, c: product + g * range.count, ldc: rowWidth,
                        scratch: buffers.scratch[p])
                }
            } else {
                for k in 0..<n { (block + k * S).update(from: prev + list[i0 + k] * S, count: S) }
                weights[p].multiply(m: n, a: block, lda: S, beta: 0, c: product, ldc: rowWidth, scratch: buffers.scratch[p])
            }
            for k in 0..<n { cell(list[i0 + k], range, product + k * rowWidth, prev + list[i0 + k] * S) }
            i0 += n
        }
    }

    /// h_T: the states of the last processed step, [B, S].
    func finalState(_ states: Tensor) -> Tensor {
        var hN = uninitializedTensor([batch, width])
        hN.mutablePointer().update(from: states.pointer + (reverse ? 0 : steps - 1) * batch * width, count: batch * width)
        return hN
    }

    /// The layer's outputs from its states: the states themselves without padding; with it, a
    /// padded step outputs zero (PyTorch packed sequences) or, under Keras masking once a real
    /// step has been seen, the state it carries.
    func outputs(_ states: Tensor) -> Tensor {
        guard rows.isPadded else { return states }
        var y = uninitializedTensor(states.shape)
        let o = y.mutablePointer(), h = states.pointer, S = width
        for t in 0..<steps {
            for b in 0..<batch {
                let r = t * batch + b
                if rows.isReal(t, b) || (copiesState?[r] ?? false) {
                    (o + r * S).update(from: h + r * S, count: S)
                } else {
                    (o + r * S).update(repeating: 0, count: S)
                }
            }
        }
        return y
    }
}

/// An LSTM projection in the forward sweep: the cell outputs of a step's real rows (kept for
/// every step when saving, else one step's worth), and per part its rows of W_hr [P, H] packed
/// for the second phase, h_t[:, part's columns] = outputs · W_hr[columns]ᵀ.
private struct SweepProjection {
    let rows: SequenceRows
    let hidden: Int
    let ranges: [Range<Int>]
    private let weights: [PackedMatrix?]
    private let scratch: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    private let product: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    /// [rows.count, H] when saving, else [B, H] for the step at hand.
    let saved: Tensor?
    private let outputs: UnsafeMutablePointer<Float>
    private let buffer: Tensor

    init(weightHR: Tensor, plan: StepPlan, rows: SequenceRows, saving: Bool) {
        let H = weightHR.shape[1]
        (self.rows, hidden, ranges) = (rows, H, plan.stateRanges)
        weights = ranges.map { $0.isEmpty ? nil : pack(weightHR.pointer + $0.lowerBound * H, rows: $0.count, columns: H, transposed: true) }
        scratch = partBlocks(ranges.count, count: weights.compactMap { $0?.scratchCount(m: rows.batch) }.max() ?? 1)
        product = partBlocks(ranges.count, count: rows.batch * (ranges.map(\.count).max() ?? 1))
        var buffer = uninitializedTensor([saving ? rows.count : rows.batch, H])
        outputs = buffer.mutablePointer()
        self.buffer = buffer
        saved = saving ? buffer : nil
    }

    /// Where the cell output of real row b at time t goes.
    func output(time t: Int, row b: Int) -> UnsafeMutablePointer<Float> {
        let index = rows.index(t, b)
        return outputs + (saved == nil ? index - rows.step(t).start : index) * hidden
    }

    /// Part p's columns of h_t: the real rows' projection, the padded rows' h_{t−1}.
    func project(time t: Int, part p: Int, states: UnsafeMutablePointer<Float>, prev: UnsafePointer<Float>, width S: Int) {
        let range = ranges[p], B = rows.batch
        guard let w = weights[p] else { return }
        let (start, examples) = rows.step(t)
        let a = outputs + (saved == nil ? 0 : start) * hidden
        guard let examples else {
            w.multiply(m: B, a: a, lda: hidden, beta: 0, c: states + t * B * S + range.lowerBound, ldc: S, scratch: scratch.pointers[p])
            return
        }
        let c = product.pointers[p], n = range.count
        if !examples.isEmpty {
            w.multiply(m: examples.count, a: a, lda: hidden, beta: 0, c: c, ldc: n, scratch: scratch.pointers[p])
        }
        for (k, b) in examples.enumerated() {
            (states + (t * B + b) * S + range.lowerBound).update(from: c + k * n, count: n)
        }
        for b in 0..<B where !rows.isReal(t, b) {
            (states + (t * B + b) * S + range.lowerBound).update(from: prev + b * S + range.lowerBound, count: n)
        }
    }
}

/// The frame every fast backward pass shares: the step plan, each part's packed columns of
/// W_hh, the order of steps (backward step s handles time `time(s)`, the reverse of the forward
/// order) and the padding. At each step part p adds to its slice of dh the previous step's gate
/// gradients times its columns of W_hh (past the first step) and the step's output gradient,
/// then runs the cell's gradient kernel on every real row. The cell leaves in dh the part of
/// dh_{t−1} that does not pass through W_hh (zero for LSTM and SimpleRNN, dh·z for GRU). A
/// padded row has no gate gradients and keeps dh as it is (h_t was h_{t−1}).
///
/// With an LSTM projection each step has two phases: part p forms its columns of dh (width P),
/// which are kept for dW_hr and cleared, then the gradient of the cell's output for its units,
/// dh · W_hr[:, units], which its kernel takes as dh.
struct BackwardSweep {
    let plan: StepPlan
    let rows: SequenceRows
    private let weights: [PackedMatrix?]
    private let buffers: PartBuffers
    /// State columns S (P with a projection, else H).
    private let steps: Int, batch: Int, width: Int, gateWidth: Int, reverse: Bool
    private let copiesState: [Bool]?
    /// Keras recurrent dropout: masks [gates, B, S], and per part each gate's columns of W_hh
    /// (dh_{t−1} = Σ_g (dA_g·W_g) ⊙ d_g).
    let masks: Tensor?
    private let gateWeights: [[PackedMatrix]]
    /// Every batch row, for steps without padding that still go row by row (dropout masks).
    private let allRows: [Int]
    private let projection: BackwardProjection?

    init(_ input: SequenceInput, weightHH: Tensor, gates: Int, weightHR: Tensor? = nil) {
        let G = weightHH.shape[0], H = G / gates, S = weightHH.shape[1]
        plan = StepPlan(hidden: H, stateSize: S, batch: input.batch, gates: gates, threads: input.sweepThreads)
        let rows = SequenceRows(input), masks = input.recurrentMasks
        (self.rows, self.masks) = (rows, masks)
        let weights = plan.stateRanges.map { $0.isEmpty ? nil : packColumns(weightHH.pointer, rows: G, columns: S, range: $0) }
        self.weights = weights
        gateWeights = masks == nil ? [] : plan.stateRanges.map { range in
            range.isEmpty ? [] : (0..<gates).map { g in packColumns(weightHH.pointer + g * H * S, rows: H, columns: S, range: range) }
        }
        // With padding or masks, a step's product lands in `buffers.product` before it is added to dh.
        let padded = rows.isPadded || masks != nil
        buffers = PartBuffers(
            plan, batch: input.batch, productWidth: { _ in padded ? S : 0 }, weights: weights.compactMap { $0 })
        (steps, batch, width, gateWidth, reverse) = (input.steps, input.batch, S, G, input.reverse)
        copiesState = input.copiesState
        allRows = Array(0..<input.batch)
        let plan = plan
        projection = weightHR.map { BackwardProjection(weightHR: $0, plan: plan, rows: rows) }
    }

    func time(_ s: Int) -> Int { reverse ? s : steps - 1 - s }

    /// With a projection: dh at every real row, [rows.count, P], for dW_hr.
    var projectedGradient: Tensor? { projection?.dh }

    /// Runs `body(step, time, units, row, dh)` for every step, part and real row; `dA` holds
    /// the gate gradients of the real rows ([rows.count, G], row `rows.index(t, b)`), whose
    /// product with W_hh feeds `dh` [B, S]; `dY` [T, B, S] is the gradient of the outputs. The
    /// body's `dh` is the row's gradient of the cell's output (all H units; `dh` + b·S without
    /// a projection).
    func run(
        dA: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>, dY: UnsafePointer<Float>,
        _ body: (_ step: Int, _ time: Int, _ units: Range<Int>, _ row: Int, _ dh: UnsafeMutablePointer<Float>) -> Void
    ) {
        let B = batch, S = width
        plan.run(steps: steps, phases: projection == nil ? 1 : 2) { s, phase, p in
            let t = time(s)
            if let projection, phase == 1 {
                projection.cellGradients(time: t, part: p) { b, dhRow in body(s, t, plan.ranges[p], b, dhRow) }
                return
            }
            let range = plan.stateRanges[p]
            if range.isEmpty { return }
            if s > 0 { addRecurrentGradient(dA: dA, time: time(s - 1), part: p, dh: dh) }
            for b in 0..<B {
                let r = t * B + b, real = rows.isReal(t, b)
                if real || (copiesState?[r] ?? false) {
                    let dhb = dh + b * S + range.lowerBound, dy = dY + r * S + range.lowerBound
                    for j in 0..<range.count { dhb[j] += dy[j] }
                }
                guard real else { continue }
                if let projection {
                    projection.keep(dh + b * S, time: t, row: b, columns: range)
                } else {
                    body(s, t, range, b, dh + b * S)
                }
            }
        }
    }

    /// dh[:, part's columns] += dA_t · W_hh[:, columns] over the real rows of time t (with masks,
    /// Σ_g (dA_g · W_g[:, columns]) ⊙ d_g).
    private func addRecurrentGradient(dA: UnsafePointer<Float>, time t: Int, part p: Int, dh: UnsafeMutablePointer<Float>) {
        guard let w = weights[p] else { return }
        let range = plan.stateRanges[p], G = gateWidth, S = width
        let (start, examples) = rows.step(t)
        guard examples != nil || masks != nil else {
            w.multiply(m: batch, a: dA + start * G, lda: G, beta: 1, c: dh + range.lowerBound, ldc: S, scratch: buffers.scratch[p])
            return
        }
        let list = examples ?? allRows, product = buffers.product[p], n = range.count
        if list.isEmpty { return }
        guard let masks else {
            w.multiply(m: list.count, a: dA + start * G, lda: G, beta: 0, c: product, ldc: n, scratch: buffers.scratch[p])
            for (k, b) in list.enumerated() {
                let dhb = dh + b * S + range.lowerBound, pk = product + k * n
                for j in 0..<n { dhb[j] += pk[j] }
            }
            return
        }
        let H = G / masks.shape[0]
        for g in 0..<masks.shape[0] {
            gateWeights[p][g].multiply(
                m: list.count, a: dA + start * G + g * H, lda: G, beta: 0, c: product, ldc: n, scratch: buffers.scratch[p])
            let d = masks.pointer + g * batch * S + range.lowerBound
            for (k, b) in list.enumerated() {
                let dhb = dh + b * S + range.lowerBound, pk = product + k * n, m = d + b * S
                for j in 0..<n { dhb[j] += pk[j] * m[j] }
            }
        }
    }

    /// dh_0: what the cells left in dh plus dA of the first processed step · W_hh (through the
    /// masks, as in the steps).
    func initialStateGradient(dA: UnsafePointer<Float>, weightHH: Tensor, dh: UnsafeMutablePointer<Float>) {
        let (start, examples) = rows.step(time(steps - 1)), G = gateWidth, S = width
        guard examples != nil || masks != nil else {
            gemm(dA + start * G, weightHH.pointer, dh, m: batch, n: S, k: G, beta: 1)
            return
        }
        let list = examples ?? allRows
        var product = uninitializedTensor([max(1, list.count), S])
        let pp = product.mutablePointer()
        let blocks = masks?.shape[0] ?? 1, H = G / blocks
        for g in 0..<blocks {
            // Without masks one product over all gates; with them one per gate, masked.
            gemm(dA + start * G + g * H, weightHH.pointer + g * H * S, pp, m: list.count, n: S, k: H, lda: G)
            let d = masks.map { $0.pointer + g * batch * S }
            for (r, b) in list.enumerated() {
                for j in 0..<S { dh[b * S + j] += pp[r * S + j] * (d?[b * S + j] ?? 1) }
            }
        }
    }
}

/// An LSTM projection in the backward sweep: dh of every real row kept ([rows.count, P], for
/// dW_hr = dhᵀ · outputs), and per part its columns of W_hr [P, H] packed for the cell
/// outputs' gradient dh · W_hr[:, units] of a step's real rows.
private struct BackwardProjection {
    let rows: SequenceRows
    let dh: Tensor
    private let kept: UnsafeMutablePointer<Float>
    private let width: Int, hidden: Int
    private let ranges: [Range<Int>]
    private let weights: [PackedMatrix]
    private let scratch: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    /// One step's cell-output gradients, [B, H].
    private let cell: UnsafeMutablePointer<Float>
    private let cellStorage: Tensor

    init(weightHR: Tensor, plan: StepPlan, rows: SequenceRows) {
        let P = weightHR.shape[0], H = weightHR.shape[1]
        (self.rows, width, hidden, ranges) = (rows, P, H, plan.ranges)
        var dh = Tensor.zeros([rows.count, P])
        kept = dh.mutablePointer()
        self.dh = dh
        weights = plan.ranges.map { packColumns(weightHR.pointer, rows: P, columns: H, range: $0) }
        scratch = partBlocks(plan.parts, count: weights.map { $0.scratchCount(m: rows.batch) }.max() ?? 1)
        var cell = uninitializedTensor([rows.batch, H])
        self.cell = cell.mutablePointer()
        cellStorage = cell
    }

    /// Keeps a real row's dh columns and clears them (all of dh_{t−1} goes through W_hh).
    func keep(_ dhRow: UnsafeMutablePointer<Float>, time t: Int, row b: Int, columns: Range<Int>) {
        let o = kept + rows.index(t, b) * width + columns.lowerBound, d = dhRow + columns.lowerBound
        o.update(from: d, count: columns.count)
        d.update(repeating: 0, count: columns.count)
    }

    /// The cell-output gradient of part p's units for step t's real rows, then `body(row, dh)`.
    func cellGradients(time t: Int, part p: Int, _ body: (_ row: Int, _ dh: UnsafeMutablePointer<Float>) -> Void) {
        let (start, examples) = rows.step(t), B = rows.batch, range = ranges[p]
        let count = examples?.count ?? B
        if count == 0 { return }
        weights[p].multiply(
            m: count, a: kept + start * width, lda: width, beta: 0, c: cell + range.lowerBound, ldc: hidden,
            scratch: scratch.pointers[p])
        for k in 0..<count { body(examples?[k] ?? k, cell + k * hidden) }
    }
}

/// The gradients after a fast backward sweep whose one dA [rows.count, G] feeds both the
/// recurrent and the input side (LSTM, SimpleRNN): dh_0 = dA of the first processed step · W_hh
/// plus what the sweep carried through padded rows, dW_hh from the saved states and h0, dW_ih,
/// the bias gradient (the same for b_ih and b_hh), and dX when x needs one.
func sweepGradients(
    _ dA: UnsafePointer<Float>, sweep: BackwardSweep, input: SequenceInput, weights w: SequenceWeights,
    states: Tensor, dh: inout Tensor, dc: Tensor?, needsInputGradient: Bool
) -> SequenceGradients {
    let G = w.weightHH.shape[0], H = w.weightHH.shape[1]
    sweep.initialStateGradient(dA: dA, weightHH: w.weightHH, dh: dh.mutablePointer())
    var dWeightHH = uninitializedTensor([G, H])
    PreviousStates(states: states, h0: input.h0, reverse: input.reverse)
        .weightGradient(dA, rows: sweep.rows, gates: G, masks: input.recurrentMasks, into: dWeightHH.mutablePointer())
    let (dX, dWeightIH, dBias) = inputSideGradients(
        dA, rows: sweep.rows, x: input.x, weight: w.weightIH, masks: input.inputMasks,
        needsInputGradient: needsInputGradient)
    return SequenceGradients(
        x: dX, h0: dh, c0: dc, weightIH: dWeightIH, weightHH: dWeightHH,
        biasIH: w.biasIH == nil ? nil : dBias, biasHH: w.biasHH == nil ? nil : dBias)
}
