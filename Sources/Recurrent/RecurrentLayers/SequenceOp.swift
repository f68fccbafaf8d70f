/// One direction of one recurrent layer over a whole sequence, computed: its results and the
/// BPTT that turns their gradients into its inputs' (`record` puts it on the tape).
///
/// Inputs: x [T, B, I] (time-major), h0 [B, P], c0 [B, H] for LSTM, and the direction's
/// weights. Results: the outputs of every step [T, B, P], the final hidden state [B, P] (and
/// cell state [B, H]).
struct SequenceComputation {
    /// The op's inputs in gradient order: x, h0, W_ih, W_hh, then those of c0, b_ih, b_hh and
    /// W_hr that exist.
    let inputs: [Variable]
    let optional: [Variable?]
    let results: [Tensor]
    /// Whether a backward pass can follow (otherwise nothing was saved for it).
    let saving: Bool
    let backward: ([Tensor]) -> SequenceGradients

    /// The gradients of `inputs` from those of `results`.
    func inputGradients(_ g: [Tensor]) -> [Tensor?] {
        let d = backward(g)
        var grads: [Tensor?] = [d.x, d.h0, d.weightIH, d.weightHH]
        for (variable, grad) in zip(optional, [d.c0, d.biasIH, d.biasHH, d.weightHR]) where variable != nil {
            grads.append(grad)
        }
        return grads
    }
}

/// Runs the forward pass of one direction of a layer of `configuration` (its cell, activations
/// and mask semantics) with parameters `p`: the sweep, or with `unrolled` (which the caller
/// reads from `SequencePath` on its own thread) the autograd cells step by step.
/// `sweepThreads` caps the threads of the sweep (1 when directions run side by side).
func computeSequence(
    _ configuration: RecurrentConfiguration, _ p: DirectionParameters, x: Variable, h0: Variable, c0: Variable?,
    valid: [Bool]?, reverse: Bool, dropoutMasks: (input: Tensor?, recurrent: Tensor?) = (nil, nil),
    saving: Bool, unrolled: Bool = false, sweepThreads: Int? = nil
) -> SequenceComputation {
    if unrolled {
        return unrolledComputation(
            configuration, p, x: x, h0: h0, c0: c0, valid: valid, reverse: reverse, dropoutMasks: dropoutMasks,
            saving: saving)
    }
    let kerasMasking = configuration.maskSemantics == .keras
    let (weightIH, weightHH, biasIH, biasHH, weightHR) = (p.weightIH, p.weightHH, p.biasIH, p.biasHH, p.weightHR)
    let steps = x.shape[0], batch = x.shape[1]
    let copies = kerasMasking ? valid.map {
        SequenceInput.carriedOutputs(valid: $0, steps: steps, batch: batch, reverse: reverse)
    } : nil
    let input = SequenceInput(
        x: x.value, h0: h0.value, c0: c0?.value, valid: valid, reverse: reverse, copiesState: copies,
        activation: configuration.activation, recurrentActivation: configuration.recurrentActivation,
        inputMasks: dropoutMasks.input, recurrentMasks: dropoutMasks.recurrent, sweepThreads: sweepThreads)
    let weights = SequenceWeights(
        weightIH: weightIH.value, weightHH: weightHH.value, biasIH: biasIH?.value, biasHH: biasHH?.value,
        weightHR: weightHR?.value)
    let optional = [c0, biasIH, biasHH, weightHR]
    let inputs = [x, h0, weightIH, weightHH] + optional.compactMap { $0 }
    let needsDX = x.requiresGrad
    let results: [Tensor]
    let backward: ([Tensor]) -> SequenceGradients
    switch configuration.kind {
    case .lstm:
        let r = lstmForward(input, weights, saving: saving)
        results = [r.y, r.hN, r.cN]
        backward = { g in
            lstmBackward(input, weights, r.saved, dY: g[0], dHN: g[1], dCN: g[2], needsInputGradient: needsDX)
        }
    case .gru(resetAfter: true):
        let r = gruForward(input, weights, saving: saving)
        results = [r.y, r.hN]
        backward = { g in gruBackward(input, weights, r.saved, dY: g[0], dHN: g[1], needsInputGradient: needsDX) }
    case .gru(resetAfter: false):
        let r = gruResetBeforeForward(input, weights, saving: saving)
        results = [r.y, r.hN]
        backward = { g in
            gruResetBeforeBackward(input, weights, r.saved, dY: g[0], dHN: g[1], needsInputGradient: needsDX)
        }
    case .simpleRNN:
        let r = simpleRNNForward(input, weights, saving: saving)
        results = [r.y, r.hN]
        backward = { g in simpleRNNBackward(input, weights, r.saved, dY: g[0], dHN: g[1], needsInputGradient: needsDX) }
    }
    return SequenceComputation(inputs: inputs, optional: optional, results: results, saving: saving, backward: backward)
}

/// Runs the computations of a layer's directions: with `sideBySide` (two of them) on the
/// calling thread and a helper at once, else one after the other.
func computeSideBySide(_ computations: [() -> SequenceComputation], _ sideBySide: Bool) -> [SequenceComputation] {
    guard sideBySide && computations.count == 2 else { return computations.map { $0() } }
    let slots = SequenceSlots<SequenceComputation>(2)
    GEMMThreads.shared.run(chunks: 2, threads: 2) { d in slots[d] = computations[d]() }
    return [slots[0]!, slots[1]!]
}

/// Whether a backward pass can follow an op on `inputs` (so its forward must save for it).
func needsSaving(_ inputs: [Variable?]) -> Bool {
    GradientMode.isEnabled && inputs.contains { $0?.requiresGrad ?? false }
}

/// Puts computed directions on the tape as one op with several results (each direction's
/// outputs and final states), whose backward runs the BPTT of every direction once — side by
/// side on two threads when there are two (`concurrently`), one after the other otherwise.
/// Returns (output, hN, cN) per direction.
func record(
    _ ops: [SequenceComputation], concurrently: Bool = false
) -> [(output: Variable, hN: Variable, cN: Variable?)] {
    let counts = ops.map(\.results.count), offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
    let shapes = ops.flatMap { $0.results.map(\.shape) }
    let results = Variable.record(ops.flatMap(\.results), inputs: ops.flatMap(\.inputs)) { g in
        // A result that got no gradient (an unused final state) counts as zero.
        let given = g.enumerated().map { $1 ?? Tensor.zeros(shapes[$0]) }
        let grads = SequenceSlots<[Tensor?]>(ops.count)
        let run = { (d: Int) in
            // A direction none of whose inputs needs a gradient saved nothing to run backward on.
            grads[d] = ops[d].saving
                ? ops[d].inputGradients(Array(given[offsets[d]..<(offsets[d] + counts[d])]))
                : Array(repeating: nil, count: ops[d].inputs.count)
        }
        if concurrently && ops.count == 2 {
            GEMMThreads.shared.run(chunks: 2, threads: 2, run)
        } else {
            for d in ops.indices { run(d) }
        }
        return ops.indices.flatMap { grads[$0]! }
    }
    return ops.indices.map { d in
        let r = Array(results[offsets[d]..<(offsets[d] + counts[d])])
        return (r[0], r[1], r.count > 2 ? r[2] : nil)
    }
}

/// `computeSequence` and `record` for one direction.
func recordSequence(
    _ configuration: RecurrentConfiguration, _ p: DirectionParameters, x: Variable, h0: Variable, c0: Variable?,
    valid: [Bool]?, reverse: Bool, dropoutMasks: (input: Tensor?, recurrent: Tensor?) = (nil, nil)
) throws -> (output: Variable, hN: Variable, cN: Variable?) {
    let saving = needsSaving([x, h0, c0, p.weightIH, p.weightHH, p.biasIH, p.biasHH, p.weightHR])
    let op = computeSequence(
        configuration, p, x: x, h0: h0, c0: c0, valid: valid, reverse: reverse, dropoutMasks: dropoutMasks,
        saving: saving, unrolled: SequencePath.unrolled)
    return record([op])[0]
}

/// Which implementation a sequence op takes: tests set `unrolled` to hold the sweep to the
/// autograd cells unrolled over time on the same layer. A task-local value: read it on the
/// calling thread, never on a helper.
enum SequencePath {
    @TaskLocal static var unrolled = false
}

/// One slot per direction, each written by the thread that computes that direction.
final class SequenceSlots<Value>: @unchecked Sendable {  // threads write distinct slots only
    private let storage: UnsafeMutablePointer<Value?>
    private let count: Int
    init(_ count: Int) {
        self.count = count
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil, count: count)
    }
    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }
    subscript(_ i: Int) -> Value? {
        get { storage[i] }
        set { storage[i] = newValue }
    }
}
