// The one sequence sweep every cell's fast path runs: the hidden units split across threads
// (`StepPlan`), W_hh packed per part, time reversal, padded rows under both mask semantics,
// and the products over all steps. Each cell (LSTMSequence.swift, GRUSequence.swift,
// SimpleRNNSequence.swift) supplies only its gate kernel, forward and backward, per row.

extension SequenceInput {
    /// Whether the cell-specific fast path applies: no projection, and the standard
    /// activations (sigmoid gates, tanh candidate; tanh or relu for SimpleRNN).
    func allowsFastPath(_ kind: CellKind, projected: Bool) -> Bool {
        guard !projected else { return false }
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

    /// `threads` caps the split (default `gemmMaxThreads`): 1 when the two directions of a
    /// layer run side by side, one thread each.
    init(hidden: Int, stateSize: Int, batch: Int, gates: Int, threads: Int? = nil) {
        let threads = threads ?? gemmMaxThreads
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
struct ForwardSweep {
    let plan: StepPlan
    let rows: SequenceRows
    private let weights: [PackedMatrix]
    private let buffers: PartBuffers
    private let chunk: Int
    private let steps: Int, batch: Int, hidden: Int, gates: Int, reverse: Bool
    private let copiesState: [Bool]?
    private let gathered: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    /// Keras recurrent dropout: masks [gates, B, H], and per part each gate's rows of W_hh
    /// packed on their own (gate g multiplies h ⊙ d_g).
    private let masks: Tensor?
    private let gateWeights: [[PackedMatrix]]
    /// Every batch row, for steps without padding that still gather (dropout masks).
    private let allRows: [Int]

    init(_ input: SequenceInput, weightHH: Tensor, gates: Int, reuse: Bool) {
        let H = weightHH.shape[1]
        plan = StepPlan(hidden: H, stateSize: H, batch: input.batch, gates: gates, threads: input.sweepThreads)
        rows = SequenceRows(input)
        masks = input.recurrentMasks
        weights = masks == nil ? packedGateRows(weightHH, plan: plan, gates: gates, reuse: reuse) : []
        gateWeights = masks == nil ? [] : plan.ranges.map { range in
            (0..<gates).map { g in
                pack(weightHH.pointer + (g * H + range.lowerBound) * H, rows: range.count, columns: H, transposed: true)
            }
        }
        chunk = StepPlan.rowChunk(batch: input.batch, partWeightFloats: gates * plan.ranges[0].count * H)
        buffers = PartBuffers(plan, batch: chunk, productWidth: { gates * $0.count }, weights: weights + gateWeights.map { $0[0] })
        (steps, batch, hidden, self.gates, reverse) = (input.steps, input.batch, H, gates, input.reverse)
        copiesState = input.copiesState
        gathered = partBlocks(rows.isPadded || masks != nil ? plan.parts : 0, count: chunk * H)
        allRows = Array(0..<input.batch)
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
        let previous = PreviousStates(states: states, h0: h0, steps: T, batch: B, width: H, reverse: reverse)
        plan.run(steps: T) { s, p in
            let t = reverse ? T - 1 - s : s
            let prev = previous.block(t), range = plan.ranges[p], rowWidth = gates * range.count
            let product = buffers.product[p]
            let real = rows.step(t).examples
            // Without padding or masks the rows of h_{t−1} are the product's operand as they are.
            guard real != nil || masks != nil else {
                var r0 = 0
                while r0 < B {
                    let n = min(chunk, B - r0)
                    weights[p].multiply(
                        m: n, a: prev + r0 * H, lda: H, beta: 0, c: product, ldc: rowWidth, scratch: buffers.scratch[p])
                    for b in r0..<(r0 + n) { body(t, b, range, product + (b - r0) * rowWidth, prev + b * H) }
                    r0 += n
                }
                return
            }
            for b in 0..<B where !rows.isReal(t, b) {
                (states + (t * B + b) * H + range.lowerBound).update(from: prev + b * H + range.lowerBound, count: range.count)
            }
            let list = real ?? allRows, block = gathered.pointers[p]
            var i0 = 0
            while i0 < list.count {
                let n = min(chunk, list.count - i0)
                if let masks {
                    // Gate g multiplies h ⊙ d_g with its own rows of W_hh.
                    for g in 0..<gates {
                        let d = masks.pointer + g * B * H
                        for k in 0..<n {
                            let b = list[i0 + k], o = block + k * H, h = prev + b * H, m = d + b * H
                            for j in 0..<H { o[j] = h[j] * m[j] }
                        }
                        gateWeights[p][g].multiply(
                            m: n, a: block, lda: H, beta: 0, c: product + g * range.count, ldc: rowWidth,
                            scratch: buffers.scratch[p])
                    }
                } else {
                    for k in 0..<n { (block + k * H).update(from: prev + list[i0 + k] * H, count: H) }
                    weights[p].multiply(m: n, a: block, lda: H, beta: 0, c: product, ldc: rowWidth, scratch: buffers.scratch[p])
                }
                for k in 0..<n { body(t, list[i0 + k], range, product + k * rowWidth, prev + list[i0 + k] * H) }
                i0 += n
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
        guard rows.isPadded else { return states }
        var y = uninitializedTensor(states.shape)
        let o = y.mutablePointer(), h = states.pointer, H = hidden
        for t in 0..<steps {
            for b in 0..<batch {
                let r = t * batch + b
                if rows.isReal(t, b) || (copiesState?[r] ?? false) {
                    (o + r * H).update(from: h + r * H, count: H)
                } else {
                    (o + r * H).update(repeating: 0, count: H)
                }
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
/// padded row has no gate gradients and keeps dh as it is (h_t was h_{t−1}).
struct BackwardSweep {
    let plan: StepPlan
    let rows: SequenceRows
    private let weights: [PackedMatrix]
    private let buffers: PartBuffers
    private let steps: Int, batch: Int, hidden: Int, gateWidth: Int, reverse: Bool
    private let copiesState: [Bool]?
    /// Keras recurrent dropout: masks [gates, B, H], and per part each gate's columns of W_hh
    /// (dh_{t−1} = Σ_g (dA_g·W_g) ⊙ d_g).
    let masks: Tensor?
    private let gateWeights: [[PackedMatrix]]
    /// Every batch row, for steps without padding that still go row by row (dropout masks).
    private let allRows: [Int]

    init(_ input: SequenceInput, weightHH: Tensor, gates: Int) {
        let H = weightHH.shape[1], G = weightHH.shape[0]
        plan = StepPlan(hidden: H, stateSize: H, batch: input.batch, gates: gates, threads: input.sweepThreads)
        let rows = SequenceRows(input), masks = input.recurrentMasks
        (self.rows, self.masks) = (rows, masks)
        let weights = plan.ranges.map { packColumns(weightHH.pointer, rows: G, columns: H, range: $0) }
        self.weights = weights
        gateWeights = masks == nil ? [] : plan.ranges.map { range in
            (0..<gates).map { g in packColumns(weightHH.pointer + g * H * H, rows: H, columns: H, range: range) }
        }
        // With padding or masks, a step's product lands in `buffers.product` before it is added to dh.
        buffers = PartBuffers(
            plan, batch: input.batch, productWidth: { rows.isPadded || masks != nil ? $0.count : 0 }, weights: weights)
        (steps, batch, hidden, gateWidth, reverse) = (input.steps, input.batch, H, G, input.reverse)
        copiesState = input.copiesState
        allRows = Array(0..<input.batch)
    }

    func time(_ s: Int) -> Int { reverse ? s : steps - 1 - s }

    /// Runs `body(step, time, units, row)` for every step, part and real row; `dA` holds the
    /// gate gradients of the real rows ([rows.count, G], row `rows.index(t, b)`), whose product
    /// with W_hh feeds `dh` [B, H]; `dY` [T, B, H] is the gradient of the outputs.
    func run(
        dA: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>, dY: UnsafePointer<Float>,
        _ body: (_ step: Int, _ time: Int, _ units: Range<Int>, _ row: Int) -> Void
    ) {
        let B = batch, H = hidden
        plan.run(steps: steps) { s, p in
            let range = plan.ranges[p], t = time(s)
            if s > 0 { addRecurrentGradient(dA: dA, time: time(s - 1), part: p, dh: dh) }
            for b in 0..<B {
                let r = t * B + b, real = rows.isReal(t, b)
                if real || (copiesState?[r] ?? false) {
                    let dhb = dh + b * H + range.lowerBound, dy = dY + r * H + range.lowerBound
                    for j in 0..<range.count { dhb[j] += dy[j] }
                }
                if real { body(s, t, range, b) }
            }
        }
    }

    /// dh[:, part's units] += dA_t · W_hh[:, units] over the real rows of time t (with masks,
    /// Σ_g (dA_g · W_g[:, units]) ⊙ d_g).
    private func addRecurrentGradient(dA: UnsafePointer<Float>, time t: Int, part p: Int, dh: UnsafeMutablePointer<Float>) {
        let range = plan.ranges[p], G = gateWidth, H = hidden
        let (start, examples) = rows.step(t)
        guard examples != nil || masks != nil else {
            weights[p].multiply(
                m: batch, a: dA + start * G, lda: G, beta: 1, c: dh + range.lowerBound, ldc: H, scratch: buffers.scratch[p])
            return
        }
        let list = examples ?? allRows, product = buffers.product[p], width = range.count
        guard let masks else {
            weights[p].multiply(
                m: list.count, a: dA + start * G, lda: G, beta: 0, c: product, ldc: width, scratch: buffers.scratch[p])
            for (k, b) in list.enumerated() {
                let dhb = dh + b * H + range.lowerBound, pk = product + k * width
                for j in 0..<width { dhb[j] += pk[j] }
            }
            return
        }
        for g in 0..<(G / H) {
            gateWeights[p][g].multiply(
                m: list.count, a: dA + start * G + g * H, lda: G, beta: 0, c: product, ldc: width, scratch: buffers.scratch[p])
            let d = masks.pointer + g * batch * H + range.lowerBound
            for (k, b) in list.enumerated() {
                let dhb = dh + b * H + range.lowerBound, pk = product + k * width, m = d + b * H
                for j in 0..<width { dhb[j] += pk[j] * m[j] }
            }
        }
    }

    /// dh_0: what the cells left in dh plus dA of the first processed step · W_hh (through the
    /// masks, as in the steps).
    func initialStateGradient(dA: UnsafePointer<Float>, weightHH: Tensor, dh: UnsafeMutablePointer<Float>) {
        let (start, examples) = rows.step(time(steps - 1)), G = gateWidth, H = hidden
        guard examples != nil || masks != nil else {
            gemm(dA + start * G, weightHH.pointer, dh, m: batch, n: H, k: G, beta: 1)
            return
        }
        let list = examples ?? allRows
        var product = uninitializedTensor([max(1, list.count), H])
        let pp = product.mutablePointer()
        for g in 0..<(masks == nil ? 1 : G / H) {
            // Without masks one product over all gates; with them one per gate, masked.
            let k = masks == nil ? G : H
            gemm(dA + start * G + g * H, weightHH.pointer + g * H * H, pp, m: list.count, n: H, k: k, lda: G)
            let d = masks.map { $0.pointer + g * batch * H }
            for (r, b) in list.enumerated() {
                for j in 0..<H { dh[b * H + j] += pp[r * H + j] * (d?[b * H + j] ?? 1) }
            }
        }
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
