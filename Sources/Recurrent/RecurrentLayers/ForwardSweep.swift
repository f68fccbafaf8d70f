/// The frame every forward pass shares: the step plan, each part's rows of W_hh packed
/// (kept across inference calls), the per-part product buffers, the order of steps and the
/// padding. At each step part p multiplies h_{t−1} — the state of the step processed before,
/// or h0 — by its rows of W_hh, a chunk of batch rows at a time while the part's weights stay
/// in cache, and hands every real row's slice of the product to the cell's gate kernel. A
/// padded row keeps its state (h_t = h_{t−1}; the cell's other state, c, is simply not
/// touched) and is left out of the product (the real rows are gathered first).
///
/// A step may have a second phase after a barrier (the first phase's results of all units are
/// its operand): with an LSTM projection (`SweepProjection`) the kernels write the cell's
/// output o ⊙ tanh(c) of all H units, then part p forms its columns of h_t = that · W_hrᵀ (h
/// has P < H columns); a classic GRU's candidate product is the cell's own second phase.
final class ForwardSweep {
    let plan: StepPlan
    let rows: SequenceRows
    private let weights: [PackedMatrix]
    private let buffers: PartBuffers
    private let chunk: Int
    /// State columns S (P with a projection, else H).
    private let steps: Int, batch: Int, width: Int, gates: Int, reverse: Bool
    private let copiesState: [Bool]?
    private let gathered: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    /// Keras recurrent dropout: masks [gates, B, S], and per part each gate's rows of W_hh
    /// packed on their own (gate g multiplies h ⊙ d_g).
    private let masks: Tensor?
    private let gateWeights: [[PackedMatrix]]
    /// Every batch row, for steps without padding that still gather (dropout masks).
    private let allRows: [Int]
    private let projection: SweepProjection?

    /// The product uses the first `gates` gate blocks of W_hh [·, S], each `hidden` rows
    /// (default: all of them).
    init(
        _ input: SequenceInput, weightHH: Tensor, gates: Int, hidden: Int? = nil, reuse: Bool,
        weightHR: Tensor? = nil, saving: Bool = false
    ) {
        let H = hidden ?? weightHH.shape[0] / gates, S = weightHH.shape[1]
        plan = StepPlan(hidden: H, stateSize: S, batch: input.batch, gates: gates, threads: input.sweepThreads)
        rows = SequenceRows(input)
        masks = input.recurrentMasks
        weights = masks == nil ? packedGateRows(weightHH, plan: plan, gates: gates, hidden: H, reuse: reuse) : []
        gateWeights = masks == nil ? [] : plan.ranges.map { range in
            (0..<gates).map { g in
                pack(weightHH.pointer + (g * H + range.lowerBound) * S, rows: range.count, columns: S, transposed: true)
            }
        }
        chunk = StepPlan.rowChunk(batch: input.batch, partWeightFloats: gates * plan.ranges[0].count * S)
        buffers = PartBuffers(plan, batch: chunk, productWidth: { gates * $0.count }, weights: weights + gateWeights.map { $0[0] })
        (steps, batch, width, self.gates, reverse) = (input.steps, input.batch, S, gates, input.reverse)
        copiesState = input.copiesState
        gathered = partBlocks(rows.isPadded || masks != nil ? plan.parts : 0, count: chunk * S)
        allRows = Array(0..<input.batch)
        let (plan, rows) = (plan, rows)
        projection = weightHR.map { SweepProjection(weightHR: $0, plan: plan, rows: rows, saving: saving) }
    }

    /// The cell outputs o ⊙ tanh(c) before the projection, [rows.count, H] (saved for the
    /// backward pass); nil without a projection or when nothing is saved.
    var unprojected: Tensor? { projection?.outputs.saved }

    /// Runs `body(time, row, units, product, hPrev, hOut)` for every step, part and real batch
    /// row: `product` is the row's slice of h_{t−1}·W_hhᵀ for `units`, gate g at
    /// `g · units.count`, `hPrev` the row of h_{t−1} and `hOut` where the row's new h (all H
    /// units; the kernel writes `units`) goes. The states h_t [T, B, S] are written by the body
    /// (or by the projection, or by `second`) and by the sweep for padded rows. `second(time,
    /// part, hPrev block)`, when given, is a second phase of every step.
    func run(
        h0: UnsafePointer<Float>, states: UnsafeMutablePointer<Float>,
        _ body: (_ time: Int, _ row: Int, _ units: Range<Int>, _ product: UnsafePointer<Float>,
                 _ hPrev: UnsafePointer<Float>, _ hOut: UnsafeMutablePointer<Float>) -> Void,
        then second: ((_ time: Int, _ part: Int, _ previous: UnsafePointer<Float>) -> Void)? = nil
    ) {
        let (T, B, S) = (steps, batch, width)
        let previous = PreviousStates(states: states, h0: h0, steps: T, batch: B, width: S, reverse: reverse)
        let phases = projection == nil && second == nil ? 1 : 2
        plan.run(steps: T, phases: phases) { s, phase, p in
            let t = reverse ? T - 1 - s : s, prev = previous.block(t)
            if phase == 0 {
                cellPhase(t, p, prev) { b, units, product, hPrev in
                    body(t, b, units, product, hPrev, projection?.output(time: t, row: b) ?? states + (t * B + b) * S)
                }
            } else if let projection {
                projection.project(time: t, part: p, states: states, previous: prev, width: S)
                return
            } else {
                second?(t, p, prev)
            }
            guard phase == phases - 1 else { return }
            let range = plan.ranges[p]
            for b in 0..<B where !rows.isReal(t, b) {
                (states + (t * B + b) * S + range.lowerBound).update(from: prev + b * S + range.lowerBound, count: range.count)
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

