// The one sequence sweep every cell runs: the hidden units split across threads
// (`StepPlan`), W_hh packed per part, time reversal, padded rows under both mask semantics,
// and the products over all steps. Its two frames are ForwardSweep.swift and
// BackwardSweep.swift, their second phases (an LSTM projection, a classic GRU's candidate
// product) SweepPhases.swift. Each cell (LSTMSequence.swift, GRUSequence.swift,
// SimpleRNNSequence.swift) supplies only its gate kernels, forward and backward, per row.

/// How the time loop of a sequence op is cut: each step's hidden units are split into parts
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

/// Each part's rows of the first `gates` gate blocks of W_hh [·H, S], packed for h·W_hhᵀ. Inference calls
/// (`reuse`) take them from `PackedWeightCache` while the weight is unchanged; training calls
/// pack afresh, since their weights change at every optimizer step.
func packedGateRows(_ weightHH: Tensor, plan: StepPlan, gates: Int, hidden H: Int, reuse: Bool) -> [PackedMatrix] {
    let S = weightHH.shape[1]
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

/// Per-part buffers of a sweep, allocated once per call (nothing is allocated inside
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

/// The real rows of a [T, B, ·] sequence as the sweep stores them: without padding every
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

    /// Where step t's real rows start in the compact buffers.
    func start(_ t: Int) -> Int { starts?[t] ?? t * batch }

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
    /// With recurrent dropout masks [gates, B, H], gate g's block pairs with h_{t−1} ⊙ d_g (the
    /// first `maskedGates` masks, default all). dA's rows are `lda` apart (default G).
    func weightGradient(
        _ dA: UnsafePointer<Float>, lda: Int? = nil, rows: SequenceRows, gates G: Int, masks: Tensor? = nil,
        maskedGates: Int? = nil, into dW: UnsafeMutablePointer<Float>
    ) {
        let L = lda ?? G
        if rows.isPadded || masks != nil {
            var gathered = uninitializedTensor([rows.count, width])
            let g = gathered.mutablePointer()
            for t in 0..<steps {
                for b in 0..<batch where rows.isReal(t, b) {
                    (g + rows.index(t, b) * width).update(from: block(t) + b * width, count: width)
                }
            }
            guard let masks else {
                gemm(dA, g, dW, m: G, n: width, k: rows.count, transposeA: true, lda: L)
                return
            }
            let blocks = maskedGates ?? masks.shape[0], blockRows = G / blocks
            var maskedRows = uninitializedTensor([rows.count, width])
            for gate in 0..<blocks {
                rows.masked(g, masks: masks, gate: gate, width: width, into: maskedRows.mutablePointer())
                gemm(dA + gate * blockRows, maskedRows.pointer, dW + gate * blockRows * width,
                     m: blockRows, n: width, k: rows.count, transposeA: true, lda: L)
            }
            return
        }
        let later = (steps - 1) * batch, first = reverse ? steps - 1 : 0
        if later > 0 {
            // Forward order: times 1… pair with states of times 0…; reverse: times 0… with 1….
            let dAStart = reverse ? 0 : batch, hStart = reverse ? batch : 0
            gemm(dA + dAStart * L, states + hStart * width, dW, m: G, n: width, k: later, transposeA: true, lda: L)
        }
        gemm(dA + first * batch * L, h0, dW, m: G, n: width, k: batch, transposeA: true, beta: later > 0 ? 1 : 0, lda: L)
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
func partBlocks(_ parts: Int, count: Int) -> (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>]) {
    let storage = (0..<parts).map { _ in Tensor.zeros([max(1, count)]) }
    return (storage, storage.map { $0.pointer.mutable })
}

/// The gradients after a backward sweep whose one dA [rows.count, G] feeds both the
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

