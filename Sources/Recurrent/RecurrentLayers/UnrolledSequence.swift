// One direction of a layer as the autograd cells compute it, step by step (`CellStep`): the
// oracle the tests hold the sweep to (`SequencePath.unrolled`), gradients by the tape rather
// than by hand. Padding and dropout follow the sweep's rules: a padded step
// keeps the states and outputs zero (PyTorch packed) or, under Keras masking once a real step
// has been seen, repeats the state it carries.

/// The outputs [T, B, S] and final states of one direction, in autograd ops.
func unrolledSequence(
    _ configuration: RecurrentConfiguration, _ p: DirectionParameters, x: Variable, h0: Variable, c0: Variable?,
    valid: [Bool]?, reverse: Bool, dropoutMasks: (input: Tensor?, recurrent: Tensor?)
) throws -> (output: Variable, hN: Variable, cN: Variable?) {
    let (T, B) = (x.shape[0], x.shape[1])
    let perGate = { (t: Tensor?) in try t.map { m in try (0..<m.shape[0]).map { Variable(try m.selecting($0)) } } }
    let masks = GateMasks(input: try perGate(dropoutMasks.input), recurrent: try perGate(dropoutMasks.recurrent))
    let copies = configuration.maskSemantics == .keras
        ? valid.map { SequenceInput.carriedOutputs(valid: $0, steps: T, batch: B, reverse: reverse) } : nil
    /// Column [B, 1] of a per-step flag.
    func column(_ flags: [Bool], _ t: Int) throws -> Variable {
        Variable(try Tensor(shape: [B, 1], scalars: (0..<B).map { flags[t * B + $0] ? 1 : 0 }))
    }
    let (activation, gateActivation) = (configuration.activation, configuration.recurrentActivation)
    var h = h0, c = c0
    var outputs = [Variable?](repeating: nil, count: T)
    for t in reverse ? Array((0..<T).reversed()) : Array(0..<T) {
        let xt = try x.selecting(t)
        var next: (h: Variable, c: Variable?)
        switch configuration.kind {
        case .simpleRNN:
            next = (try CellStep.simpleRNN(p, xt, h, activation: activation, masks: masks), nil)
        case .lstm:
            let s = try CellStep.lstm(
                p, xt, h, c!, activation: activation, recurrentActivation: gateActivation, masks: masks)
            next = (s.h, s.c)
        case .gru(let resetAfter):
            next = (try CellStep.gru(
                p, xt, h, resetAfter: resetAfter, activation: activation, recurrentActivation: gateActivation,
                masks: masks), nil)
        }
        guard let valid else {
            (h, c) = next
            outputs[t] = h
            continue
        }
        let real = try column(valid, t), padded = real * -1 + 1
        h = try (try next.h * real) + (try h * padded)
        if let cNext = next.c, let cPrev = c { c = try (try cNext * real) + (try cPrev * padded) }
        outputs[t] = try h * (try copies.map { try real + column($0, t) } ?? real)
    }
    let output = try Variable.concatenate(try outputs.map { try $0!.reshaped([1, B, -1]) }, axis: 0)
    return (output, h, c)
}

/// `unrolledSequence` as a computation for `record`: run on leaves of its own, so its graph is
/// private to the op and its backward runs that graph's backward pass.
func unrolledComputation(
    _ configuration: RecurrentConfiguration, _ p: DirectionParameters, x: Variable, h0: Variable, c0: Variable?,
    valid: [Bool]?, reverse: Bool, dropoutMasks: (input: Tensor?, recurrent: Tensor?), saving: Bool
) -> SequenceComputation {
    let optional = [c0, p.biasIH, p.biasHH, p.weightHR]
    let inputs = [x, h0, p.weightIH, p.weightHH] + optional.compactMap { $0 }
    func leaf(_ v: Variable?) -> Variable? { v.map { Variable($0.value, requiresGrad: saving) } }
    let (lx, lh0, lc0) = (leaf(x)!, leaf(h0)!, leaf(c0))
    let local = DirectionParameters(
        weightIH: leaf(p.weightIH)!, weightHH: leaf(p.weightHH)!, biasIH: leaf(p.biasIH), biasHH: leaf(p.biasHH),
        weightHR: leaf(p.weightHR))
    // Shapes were checked by the layer; the cells' ops cannot fail on them.
    let r = try! GradientMode.$isEnabled.withValue(saving) {
        try unrolledSequence(
            configuration, local, x: lx, h0: lh0, c0: lc0, valid: valid, reverse: reverse, dropoutMasks: dropoutMasks)
    }
    let results = [r.output, r.hN] + (r.cN.map { [$0] } ?? [])
    return SequenceComputation(
        inputs: inputs, optional: optional, results: results.map(\.value), saving: saving
    ) { g in
        let leaves = [lx, lh0, lc0, local.weightIH, local.weightHH, local.biasIH, local.biasHH, local.weightHR]
        for l in leaves { l?.zeroGradient() }
        try! GradientMode.$isEnabled.withValue(true) {
            let terms = try zip(results, g).map { try ($0 * Variable($1)).sum() }
            try terms.dropFirst().reduce(terms[0]) { try $0 + $1 }.backward()
        }
        func grad(_ l: Variable?) -> Tensor? { l.map { $0.grad ?? Tensor.zeros($0.shape) } }
        return SequenceGradients(
            x: grad(lx)!, h0: grad(lh0)!, c0: grad(lc0), weightIH: grad(local.weightIH)!,
            weightHH: grad(local.weightHH)!, biasIH: grad(local.biasIH), biasHH: grad(local.biasHH),
            weightHR: grad(local.weightHR))
    }
}
