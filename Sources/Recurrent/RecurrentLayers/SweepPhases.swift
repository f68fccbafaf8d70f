// The second phase of a sweep step, for what needs all units of the first phase: rows one
// phase writes and the next multiplies (`StepRows`), per part a weight slice packed for a
// product over one step's real rows (`PartProducts`), and from them an LSTM projection forward
// (`SweepProjection`) and backward (`BackwardProjection`). A classic GRU's candidate product
// is built from the same two (GRUSequence.swift).

/// Rows of `width` floats that one phase of a step writes for the next (and, when saving, for
/// the backward pass): the real rows of every step in compact order, or of the step at hand.
struct StepRows {
    let rows: SequenceRows
    let width: Int
    /// [rows.count, width] when saving.
    let saved: Tensor?
    private let base: UnsafeMutablePointer<Float>
    private let storage: Tensor

    init(rows: SequenceRows, width: Int, saving: Bool) {
        var storage = uninitializedTensor([max(1, saving ? rows.count : rows.batch), width])
        base = storage.mutablePointer()
        (self.rows, self.width, self.storage) = (rows, width, storage)
        saved = saving ? storage : nil
    }

    /// Real row b of step t.
    func row(time t: Int, row b: Int) -> UnsafeMutablePointer<Float> {
        let index = rows.index(t, b)
        return base + (saved == nil ? index - rows.start(t) : index) * width
    }

    /// Step t's real rows, contiguous.
    func first(time t: Int) -> UnsafeMutablePointer<Float> {
        base + (saved == nil ? 0 : rows.start(t)) * width
    }
}

/// Per part a packed weight slice (nil for a part with no columns), the right operand of a
/// product over one step's real rows, with the part's A-packing scratch and product buffer.
struct PartProducts {
    private let weights: [PackedMatrix?]
    private let scratch: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])
    private let product: (storage: [Tensor], pointers: [UnsafeMutablePointer<Float>])

    init(_ weights: [PackedMatrix?], batch: Int) {
        self.weights = weights
        scratch = partBlocks(weights.count, count: weights.compactMap { $0?.scratchCount(m: batch) }.max() ?? 1)
        product = partBlocks(weights.count, count: batch * (weights.compactMap { $0?.n }.max() ?? 1))
    }

    /// a [m, k] (row stride lda) times part p's slice [k, n], into c (row stride ldc) or by
    /// default the part's product buffer (row stride n); returns where it went (nil: no columns).
    @discardableResult
    func multiply(
        part p: Int, m: Int, a: UnsafePointer<Float>, lda: Int, into c: UnsafeMutablePointer<Float>? = nil, ldc: Int? = nil
    ) -> UnsafeMutablePointer<Float>? {
        guard let w = weights[p] else { return nil }
        let out = c ?? product.pointers[p]
        if m > 0 { w.multiply(m: m, a: a, lda: lda, beta: 0, c: out, ldc: ldc ?? w.n, scratch: scratch.pointers[p]) }
        return out
    }
}

/// An LSTM projection in the forward sweep: the cell outputs o ⊙ tanh(c) of a step's real rows
/// (of every step when saving), and per part its rows of W_hr [P, H] for the second phase,
/// h_t[:, part's columns] = outputs · W_hr[columns]ᵀ.
struct SweepProjection {
    let outputs: StepRows
    private let products: PartProducts
    private let ranges: [Range<Int>]

    init(weightHR: Tensor, plan: StepPlan, rows: SequenceRows, saving: Bool) {
        let H = weightHR.shape[1]
        ranges = plan.stateRanges
        outputs = StepRows(rows: rows, width: H, saving: saving)
        products = PartProducts(ranges.map {
            $0.isEmpty ? nil : pack(weightHR.pointer + $0.lowerBound * H, rows: $0.count, columns: H, transposed: true)
        }, batch: rows.batch)
    }

    /// Where the cell output of real row b at time t goes.
    func output(time t: Int, row b: Int) -> UnsafeMutablePointer<Float> { outputs.row(time: t, row: b) }

    /// Part p's columns of h_t: the real rows' projection, the padded rows' h_{t−1}.
    func project(
        time t: Int, part p: Int, states: UnsafeMutablePointer<Float>, previous: UnsafePointer<Float>, width S: Int
    ) {
        let range = ranges[p], rows = outputs.rows, B = rows.batch, H = outputs.width
        guard !range.isEmpty else { return }
        guard let examples = rows.step(t).examples else {
            products.multiply(part: p, m: B, a: outputs.first(time: t), lda: H, into: states + t * B * S + range.lowerBound, ldc: S)
            return
        }
        if let c = products.multiply(part: p, m: examples.count, a: outputs.first(time: t), lda: H) {
            for (k, b) in examples.enumerated() {
                (states + (t * B + b) * S + range.lowerBound).update(from: c + k * range.count, count: range.count)
            }
        }
        for b in 0..<B where !rows.isReal(t, b) {
            (states + (t * B + b) * S + range.lowerBound).update(from: previous + b * S + range.lowerBound, count: range.count)
        }
    }
}

/// An LSTM projection in the backward sweep: dh of every real row kept ([rows.count, P], for
/// dW_hr = dhᵀ · outputs), and per part its columns of W_hr [P, H] for the cell outputs'
/// gradient dh · W_hr[:, units] of a step's real rows.
struct BackwardProjection {
    let kept: StepRows
    private let products: PartProducts
    private let ranges: [Range<Int>]
    /// One step's cell-output gradients, [B, H].
    private let cell: UnsafeMutablePointer<Float>
    private let cellStorage: Tensor

    init(weightHR: Tensor, plan: StepPlan, rows: SequenceRows) {
        let P = weightHR.shape[0], H = weightHR.shape[1]
        ranges = plan.ranges
        kept = StepRows(rows: rows, width: P, saving: true)
        products = PartProducts(ranges.map { packColumns(weightHR.pointer, rows: P, columns: H, range: $0) }, batch: rows.batch)
        var cell = uninitializedTensor([rows.batch, H])
        self.cell = cell.mutablePointer()
        cellStorage = cell
    }

    /// dh at every real row, [rows.count, P].
    var dh: Tensor { kept.saved! }

    /// Keeps a real row's dh columns and clears them (all of dh_{t−1} goes through W_hh).
    func keep(_ dhRow: UnsafeMutablePointer<Float>, time t: Int, row b: Int, columns: Range<Int>) {
        let o = kept.row(time: t, row: b) + columns.lowerBound, d = dhRow + columns.lowerBound
        o.update(from: d, count: columns.count)
        d.update(repeating: 0, count: columns.count)
    }

    /// The cell-output gradient of part p's units for step t's real rows, then `body(row, dh)`.
    func cellGradients(time t: Int, part p: Int, _ body: (_ row: Int, _ dh: UnsafeMutablePointer<Float>) -> Void) {
        let rows = kept.rows, examples = rows.step(t).examples, H = cellStorage.shape[1]
        let count = examples?.count ?? rows.batch
        products.multiply(
            part: p, m: count, a: kept.first(time: t), lda: kept.width, into: cell + ranges[p].lowerBound, ldc: H)
        for k in 0..<count { body(examples?[k] ?? k, cell + k * H) }
    }
}
