/// The frame every backward pass shares: the step plan, each part's packed columns of
/// W_hh, the order of steps (backward step s handles time `time(s)`, the reverse of the forward
/// order) and the padding. At each step part p adds to its slice of dh the previous step's gate
/// gradients times its columns of W_hh (past the first step) and the step's output gradient,
/// then runs the cell's gradient kernel on every real row. The cell leaves in dh the part of
/// dh_{t−1} that does not pass through W_hh (zero for LSTM and SimpleRNN, dh·z for GRU). A
/// padded row has no gate gradients and keeps dh as it is (h_t was h_{t−1}).
///
/// A step may have a second phase: with an LSTM projection part p forms its columns of dh
/// (width P), which are kept for dW_hr and cleared, then the gradient of the cell's output for
/// its units, dh · W_hr[:, units], which its kernel takes as dh; a classic GRU's candidate
/// gradient is the cell's own second phase.
final class BackwardSweep {
    let plan: StepPlan
    let rows: SequenceRows
    private let weights: [PackedMatrix?]
    private let buffers: PartBuffers
    /// State columns S (P with a projection, else H); the gate rows G of W_hh the product uses
    /// and the row stride of dA.
    private let steps: Int, batch: Int, width: Int, gateWidth: Int, stride: Int, gates: Int, reverse: Bool
    private let copiesState: [Bool]?
    /// Keras recurrent dropout: masks [gates, B, S], and per part each gate's columns of W_hh
    /// (dh_{t−1} = Σ_g (dA_g·W_g) ⊙ d_g).
    let masks: Tensor?
    private let gateWeights: [[PackedMatrix]]
    /// Every batch row, for steps without padding that still go row by row (dropout masks).
    private let allRows: [Int]
    private let projection: BackwardProjection?

    /// The product uses the first `gates` gate blocks of W_hh [·, S], each `hidden` rows (default:
    /// all of them), and dA rows `dAStride` apart (default: those gates' rows).
    init(_ input: SequenceInput, weightHH: Tensor, gates: Int, hidden: Int? = nil, dAStride: Int? = nil, weightHR: Tensor? = nil) {
        let H = hidden ?? weightHH.shape[0] / gates, G = gates * H, S = weightHH.shape[1]
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
        (steps, batch, width, gateWidth, stride, self.gates, reverse) =
            (input.steps, input.batch, S, G, dAStride ?? G, gates, input.reverse)
        copiesState = input.copiesState
        allRows = Array(0..<input.batch)
        let plan = plan
        projection = weightHR.map { BackwardProjection(weightHR: $0, plan: plan, rows: rows) }
    }

    func time(_ s: Int) -> Int { reverse ? s : steps - 1 - s }

    /// With a projection: dh at every real row, [rows.count, P], for dW_hr.
    var projectedGradient: Tensor? { projection?.dh }

    /// Runs `body(step, time, units, row, dh)` for every step, part and real row; `dA` holds
    /// the gate gradients of the real rows ([rows.count, ·], row `rows.index(t, b)`), whose
    /// product with W_hh feeds `dh` [B, S]; `dY` [T, B, S] is the gradient of the outputs. The
    /// body's `dh` is the row's gradient of the cell's output (all H units; `dh` + b·S without
    /// a projection). `second(step, time, part)`, when given, is a second phase of every step.
    func run(
        dA: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>, dY: UnsafePointer<Float>,
        _ body: (_ step: Int, _ time: Int, _ units: Range<Int>, _ row: Int, _ dh: UnsafeMutablePointer<Float>) -> Void,
        then second: ((_ step: Int, _ time: Int, _ part: Int) -> Void)? = nil
    ) {
        let B = batch, S = width
        plan.run(steps: steps, phases: projection == nil && second == nil ? 1 : 2) { s, phase, p in
            let t = time(s)
            if phase == 1 {
                if let projection {
                    projection.cellGradients(time: t, part: p) { b, dhRow in body(s, t, plan.ranges[p], b, dhRow) }
                } else {
                    second?(s, t, p)
                }
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
        let range = plan.stateRanges[p], L = stride, S = width
        let (start, examples) = rows.step(t)
        guard examples != nil || masks != nil else {
            w.multiply(m: batch, a: dA + start * L, lda: L, beta: 1, c: dh + range.lowerBound, ldc: S, scratch: buffers.scratch[p])
            return
        }
        let list = examples ?? allRows, product = buffers.product[p], n = range.count
        if list.isEmpty { return }
        guard let masks else {
            w.multiply(m: list.count, a: dA + start * L, lda: L, beta: 0, c: product, ldc: n, scratch: buffers.scratch[p])
            for (k, b) in list.enumerated() {
                let dhb = dh + b * S + range.lowerBound, pk = product + k * n
                for j in 0..<n { dhb[j] += pk[j] }
            }
            return
        }
        let H = gateWidth / gates
        for g in 0..<gates {
            gateWeights[p][g].multiply(
                m: list.count, a: dA + start * L + g * H, lda: L, beta: 0, c: product, ldc: n, scratch: buffers.scratch[p])
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
        let (start, examples) = rows.step(time(steps - 1)), G = gateWidth, L = stride, S = width
        guard examples != nil || masks != nil else {
            gemm(dA + start * L, weightHH.pointer, dh, m: batch, n: S, k: G, beta: 1, lda: L)
            return
        }
        let list = examples ?? allRows
        var product = uninitializedTensor([max(1, list.count), S])
        let pp = product.mutablePointer()
        let blocks = masks == nil ? 1 : gates, H = G / blocks
        for g in 0..<blocks {
            // Without masks one product over all gates; with them one per gate, masked.
            gemm(dA + start * L + g * H, weightHH.pointer + g * H * S, pp, m: list.count, n: S, k: H, lda: L)
            let d = masks.map { $0.pointer + g * batch * S }
            for (r, b) in list.enumerated() {
                for j in 0..<S { dh[b * S + j] += pp[r * S + j] * (d?[b * S + j] ?? 1) }
            }
        }
    }
}

