import Foundation

/// How padded steps of variable-length sequences are treated.
public enum MaskSemantics: String, Sendable, Codable {
    /// PyTorch packed sequences: padded steps output zero and leave the state untouched.
    case packed
    /// Keras masking: padded steps repeat the previous output and carry the state.
    case keras
}

/// Which steps of a batch are real: per-example lengths (right padding) or a [B, T] mask.
public enum SequenceMask: Sendable {
    case lengths([Int])
    case mask(Tensor)
}

/// Parameters of one direction of one layer, PyTorch names and layout.
public struct DirectionParameters {
    public let weightIH: Variable
    public let weightHH: Variable
    public let biasIH: Variable?
    public let biasHH: Variable?
    /// LSTM projection `weight_hr` [P, H], when `projSize` > 0.
    public let weightHR: Variable?
}

/// A stack of recurrent layers over whole sequences: the one implementation behind
/// `SimpleRNN`, `LSTM` and `GRU` in both their PyTorch and Keras faces.
///
/// Each layer and direction runs as one fused op (input projection hoisted out of the time
/// loop, hand-derived backpropagation through time). Parameters are named as PyTorch names
/// them (`weight_ih_l0`, `weight_hh_l1_reverse`, `bias_ih_l0`, …); under the Keras convention
/// SimpleRNN, LSTM and classic GRU have one bias (`bias_ih_l0`), as Keras does.
public class RecurrentLayer: Layer {
    /// The whole configuration; the properties below read (and, where a setting may change
    /// after construction, write) it.
    public private(set) var configuration: RecurrentConfiguration
    /// Whether dropout is active (PyTorch's `train()` / `eval()`, Keras's `training=`).
    public var isTraining = false
    /// `[layer][direction]`
    public private(set) var layers: [[DirectionParameters]] = []
    private var generator: SeededGenerator
    /// The position of the layer's random stream (its dropout masks): saved with a training
    /// checkpoint, so that a resumed run draws the masks an uninterrupted one would.
    public var randomState: [UInt64] {
        get { generator.stateWords }
        set { generator.stateWords = newValue }
    }

    public func useRandomStream(ofRank rank: Int) { generator = generator.derived(forRank: rank) }
    private var carriedState: (h: Tensor, c: Tensor?)?

    /// A layer stack of this configuration with fresh weights (built now when the input size is
    /// known). A bad configuration is thrown at the first call, never a crash.
    public init(_ configuration: RecurrentConfiguration, seed: UInt64? = nil) {
        self.configuration = configuration
        generator = seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split()
        if configuration.interLayerDropout > 0 && configuration.numLayers == 1 {
            FileHandle.standardError.write(Data(
                "warning: dropout \(configuration.interLayerDropout) has no effect with one layer: it applies between stacked layers\n".utf8))
        }
        if let inputSize = configuration.inputSize, configuration.problem == nil { build(inputSize: inputSize) }
    }

    /// Throws what is wrong with the configuration, including rates set after construction.
    func validateConfiguration() throws {
        if let problem = configuration.problem { throw RecurrentError.invalidArgument("\(name): \(problem)") }
    }

    /// A layer of the same configuration with fresh weights (Keras's Bidirectional makes its
    /// backward layer this way).
    func sibling(goBackwards: Bool) -> RecurrentLayer {
        var c = configuration
        c.goBackwards = goBackwards
        return RecurrentLayer(c, seed: generator.next())
    }

    public var kind: CellKind { configuration.kind }
    public var hiddenSize: Int { configuration.hiddenSize }
    public var numLayers: Int { configuration.numLayers }
    public var bidirectional: Bool { configuration.bidirectional }
    public var useBias: Bool { configuration.useBias }
    public var batchFirst: Bool { configuration.batchFirst }
    public var convention: Convention { configuration.convention }
    public var unitForgetBias: Bool { configuration.unitForgetBias }
    public var projSize: Int { configuration.projSize }
    public var activation: ActivationFunction { configuration.activation }
    public var recurrentActivation: ActivationFunction { configuration.recurrentActivation }
    public var inputSize: Int? { configuration.inputSize }
    public var interLayerDropout: Float {
        get { configuration.interLayerDropout }
        set { configuration.interLayerDropout = newValue }
    }
    public var maskSemantics: MaskSemantics {
        get { configuration.maskSemantics }
        set { configuration.maskSemantics = newValue }
    }
    public var returnSequences: Bool {
        get { configuration.returnSequences }
        set { configuration.returnSequences = newValue }
    }
    public var returnState: Bool {
        get { configuration.returnState }
        set { configuration.returnState = newValue }
    }
    public var goBackwards: Bool {
        get { configuration.goBackwards }
        set { configuration.goBackwards = newValue }
    }
    public var stateful: Bool {
        get { configuration.stateful }
        set { configuration.stateful = newValue }
    }
    public var inputDropout: Float {
        get { configuration.inputDropout }
        set { configuration.inputDropout = newValue }
    }
    public var recurrentDropout: Float {
        get { configuration.recurrentDropout }
        set { configuration.recurrentDropout = newValue }
    }
    public var directions: Int { configuration.directions }
    /// Size of the hidden state h (the projection size when there is one).
    public var stateSize: Int { configuration.stateSize }
    /// Features per step of the output.
    public var outputSize: Int { configuration.outputSize }

    // MARK: Parameters

    func build(inputSize: Int) {
        precondition(inputSize > 0, "input size must be positive")
        configuration.inputSize = inputSize
        let H = hiddenSize, rows = kind.gateCount * H
        layers = (0..<numLayers).map { layer in
            let width = layer == 0 ? inputSize : outputSize
            return (0..<directions).map { direction in
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                return makeDirection(inputWidth: width, rows: rows, suffix: suffix)
            }
        }
    }

    private func makeDirection(inputWidth: Int, rows: Int, suffix: String) -> DirectionParameters {
        let H = hiddenSize
        func parameter(_ t: Tensor, _ name: String) -> Variable { Variable(t, requiresGrad: true, name: name + suffix) }
        switch convention {
        case .pytorch:
            let u = Initializer.pytorchUniform
            func make(_ shape: [Int]) -> Tensor { u.make(shape: shape, fanIn: H, fanOut: rows, generator: &generator) }
            return DirectionParameters(
                weightIH: parameter(make([rows, inputWidth]), "weight_ih"),
                weightHH: parameter(make([rows, stateSize]), "weight_hh"),
                biasIH: useBias ? parameter(make([rows]), "bias_ih") : nil,
                biasHH: useBias ? parameter(make([rows]), "bias_hh") : nil,
                weightHR: projSize > 0 ? parameter(make([projSize, H]), "weight_hr") : nil)
        case .keras:
            // Keras shapes are kernel [I, G·H] and recurrent kernel [H, G·H]; ours are their transposes.
            let kernel = Initializer.glorotUniform.make(
                shape: [rows, inputWidth], fanIn: inputWidth, fanOut: rows, generator: &generator)
            let recurrent = try! Initializer.orthogonal().make(
                shape: [H, rows], fanIn: H, fanOut: rows, generator: &generator).transposedLastTwo()
            var bias = Tensor.zeros([rows])
            if unitForgetBias && kind == .lstm {
                bias.withUnsafeMutableBufferPointer { b in for j in H..<(2 * H) { b[j] = 1 } }
            }
            let twoBiases = kind == .gru(resetAfter: true)
            return DirectionParameters(
                weightIH: parameter(kernel, "weight_ih"), weightHH: parameter(recurrent, "weight_hh"),
                biasIH: useBias ? parameter(bias, "bias_ih") : nil,
                biasHH: useBias && twoBiases ? parameter(Tensor.zeros([rows]), "bias_hh") : nil, weightHR: nil)
        }
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        layers.flatMap { $0 }.flatMap { d in
            [d.weightIH, d.weightHH, d.biasIH, d.biasHH, d.weightHR].compactMap { $0 }.map { ($0.name!, $0) }
        }
    }

    // MARK: Running

    /// Runs the stack. `input` is [B, T, I] when `batchFirst`, else [T, B, I]; `initialState`
    /// is [layers·directions, B, H] (and the cell state for LSTM). Returns the last layer's
    /// outputs in the input's layout and the final states [layers·directions, B, H].
    func run(
        _ input: Variable, initialState: (h: Variable, c: Variable?)?, mask: SequenceMask?
    ) throws -> (output: Variable, h: Variable, c: Variable?) {
        var pass = try beginRun(input, initialState: initialState, mask: mask)
        // The two directions of a layer run side by side, one thread each (no per-step hand-over
        // between threads), forward and backward.
        let sideBySide = directions == 2 && gemmMaxThreads >= 2
        for layerIndex in layers.indices {
            let computations = try layerComputations(&pass, layer: layerIndex, sideBySide: sideBySide)
            let results = record(computeSideBySide(computations, sideBySide), concurrently: sideBySide)
            try absorb(results, into: &pass, layer: layerIndex)
        }
        return try endRun(pass)
    }

    /// What `run` carries from layer to layer: the next layer's input (time-major), the padding,
    /// the initial states, the final states so far.
    struct RunPass {
        var x: Variable
        let valid: [Bool]?
        let initial: (h: Variable, c: Variable?)?
        let batch: Int
        let unrolled: Bool
        var finalH: [Variable] = [], finalC: [Variable] = []
    }

    /// Checks the input and state, builds the layer at its first call, and applies the input
    /// dropout that is one mask per sequence.
    func beginRun(_ input: Variable, initialState: (h: Variable, c: Variable?)?, mask: SequenceMask?) throws -> RunPass {
        try validateConfiguration()
        let timeMajorShape = try validateInput(input)
        let (steps, batch) = (timeMajorShape[0], timeMajorShape[1])
        if inputSize == nil { build(inputSize: timeMajorShape[2]) }
        let valid = try mask.map { try validSteps($0, steps: steps, batch: batch) }
        let carried: (h: Variable, c: Variable?)? = carriedState.flatMap { s in
            s.h.shape[1] == batch ? (h: Variable(s.h), c: s.c.map { Variable($0) }) : nil
        }
        let initial = try initialState.map { try validateState($0, batch: batch) } ?? carried
        var x = batchFirst ? try input.swappingFirstTwoAxes() : input
        if isTraining && inputDropout > 0 && !(recurrentDropout > 0) {
            // One mask per sequence, the same at every step.
            x = try x * Variable(Tensor.dropoutMask([1, batch, x.shape[2]], rate: inputDropout, generator: &generator))
        }
        // Read here, on the calling thread: the directions may be computed on a helper.
        return RunPass(x: x, valid: valid, initial: initial, batch: batch, unrolled: SequencePath.unrolled)
    }

    /// The forward computation of each direction of one layer, to run on any thread (the
    /// dropout masks are drawn here, in direction order). `sideBySide`: each on one thread.
    func layerComputations(_ pass: inout RunPass, layer layerIndex: Int, sideBySide: Bool) throws -> [() -> SequenceComputation] {
        let (x, batch) = (pass.x, pass.batch)
        let perGateMasks = isTraining && recurrentDropout > 0
        var computations: [() -> SequenceComputation] = []
        for (direction, p) in layers[layerIndex].enumerated() {
            let index = layerIndex * directions + direction
            let h0 = try pass.initial.map { try $0.h.selecting(index) } ?? Variable(Tensor.zeros([batch, stateSize]))
            let c0: Variable? = kind.hasCellState
                ? try pass.initial?.c.map { try $0.selecting(index) } ?? Variable(Tensor.zeros([batch, hiddenSize]))
                : nil
            let masks = perGateMasks ? (
                input: inputDropout > 0
                    ? Tensor.dropoutMask([kind.gateCount, batch, x.shape[2]], rate: inputDropout, generator: &generator)
                    : nil,
                recurrent: Tensor.dropoutMask([kind.gateCount, batch, stateSize], rate: recurrentDropout,
                                              generator: &generator)
            ) : (input: nil, recurrent: nil)
            let saving = needsSaving([x, h0, c0, p.weightIH, p.weightHH, p.biasIH, p.biasHH, p.weightHR])
            let (configuration, valid, unrolled) = (configuration, pass.valid, pass.unrolled)
            let reverse = (direction == 1) != goBackwards
            computations.append {
                computeSequence(
                    configuration, p, x: x, h0: h0, c0: c0, valid: valid, reverse: reverse, dropoutMasks: masks,
                    saving: saving, unrolled: unrolled, sweepThreads: sideBySide ? 1 : nil)
            }
        }
        return computations
    }

    /// One layer's recorded results: its output becomes the next layer's input (with the
    /// dropout between layers), its final states are kept.
    func absorb(_ results: [(output: Variable, hN: Variable, cN: Variable?)], into pass: inout RunPass, layer layerIndex: Int) throws {
        for result in results {
            pass.finalH.append(try result.hN.reshaped([1, pass.batch, stateSize]))
            if let cN = result.cN { pass.finalC.append(try cN.reshaped([1, pass.batch, hiddenSize])) }
        }
        pass.x = results.count == 1 ? results[0].output : try Variable.concatenate(results.map(\.output), axis: 2)
        if isTraining && interLayerDropout > 0 && layerIndex < numLayers - 1 {
            pass.x = try pass.x.dropout(rate: interLayerDropout, generator: &generator)
        }
    }

    /// The outputs in the input's layout and the final states of every layer and direction.
    func endRun(_ pass: RunPass) throws -> (output: Variable, h: Variable, c: Variable?) {
        let (finalH, finalC) = (pass.finalH, pass.finalC)
        let h = finalH.count == 1 ? finalH[0] : try Variable.concatenate(finalH, axis: 0)
        let c = finalC.isEmpty ? nil : (finalC.count == 1 ? finalC[0] : try Variable.concatenate(finalC, axis: 0))
        if stateful { carriedState = (h.value, c?.value) }
        return (batchFirst ? try pass.x.swappingFirstTwoAxes() : pass.x, h, c)
    }

    /// The PyTorch faces' call: `run` for batched input, and as `torch.nn.RNN/LSTM/GRU` do,
    /// unbatched input x [T, I] with states [layers·directions, H] (batch_first does not
    /// apply), giving output [T, D·H] and final states [layers·directions, H].
    func runPyTorch(
        _ input: Variable, _ state: (h: Variable, c: Variable?)?, mask: SequenceMask?
    ) throws -> (output: Variable, h: Variable, c: Variable?) {
        guard input.rank == 2 else { return try run(input, initialState: state, mask: mask) }
        let (steps, features) = (input.shape[0], input.shape[1])
        if let inputSize, features != inputSize {
            let batched = batchFirst ? "[batch, steps, \(inputSize)]" : "[steps, batch, \(inputSize)]"
            throw RecurrentError.shapeMismatch(
                operation: "\(name) input", expected: "[steps, \(inputSize)] (unbatched) or \(batched)", got: input.shape)
        }
        func batched(_ s: Variable, _ what: String) throws -> Variable {
            guard s.rank == 2 else {
                throw RecurrentError.shapeMismatch(
                    operation: "\(name) \(what) for unbatched input [steps, features]",
                    expected: "[layers·directions, hidden]", got: s.shape)
            }
            return try s.reshaped([s.shape[0], 1, s.shape[1]])
        }
        let x = try input.reshaped(batchFirst ? [1, steps, features] : [steps, 1, features])
        let batchedState = try state.map { (h: try batched($0.h, "h0"), c: try $0.c.map { try batched($0, "c0") }) }
        let r = try run(x, initialState: batchedState, mask: mask)
        func unbatched(_ s: Variable) throws -> Variable { try s.reshaped([s.shape[0], s.shape[2]]) }
        return (try r.output.reshaped([steps, r.output.shape[2]]), try unbatched(r.h), try r.c.map(unbatched))
    }

    /// `runPyTorch` for cells whose only state is h (SimpleRNN, GRU): PyTorch's `(output, h_n)`.
    func runWithHiddenState(
        _ input: Variable, _ h0: Variable?, mask: SequenceMask?
    ) throws -> (output: Variable, hN: Variable) {
        let r = try runPyTorch(input, h0.map { (h: $0, c: nil) }, mask: mask)
        return (r.output, r.h)
    }

    /// Forgets the states a stateful layer carries between batches.
    public func resetStates() { carriedState = nil }

    // MARK: Validation

    /// The input's shape as [T, B, I], after checking rank, width and values.
    private func validateInput(_ input: Variable) throws -> [Int] {
        let layout = batchFirst ? "[batch, steps, features]" : "[steps, batch, features]"
        guard input.rank == 3 else {
            throw RecurrentError.shapeMismatch(operation: "\(name) input", expected: layout, got: input.shape)
        }
        let shape = batchFirst ? [input.shape[1], input.shape[0], input.shape[2]] : input.shape
        guard shape[0] > 0, shape[1] > 0, shape[2] > 0 else {
            throw RecurrentError.shapeMismatch(
                operation: "\(name) input", expected: "\(layout) with no empty axis", got: input.shape)
        }
        if let inputSize, shape[2] != inputSize {
            let expected = batchFirst ? "[batch, steps, \(inputSize)]" : "[steps, batch, \(inputSize)]"
            throw RecurrentError.shapeMismatch(operation: "\(name) input", expected: expected, got: input.shape)
        }
        guard input.value.isFinite else {
            throw RecurrentError.nonFinite("\(name) input contains NaN or infinity")
        }
        return shape
    }

    private func validateState(
        _ state: (h: Variable, c: Variable?), batch: Int
    ) throws -> (h: Variable, c: Variable?) {
        let expected = [numLayers * directions, batch, stateSize]
        guard state.h.shape == expected else {
            throw RecurrentError.shapeMismatch(
                operation: "\(name) initial hidden state", expected: Shape.describe(expected), got: state.h.shape)
        }
        if kind.hasCellState {
            guard let c = state.c else {
                throw RecurrentError.invalidArgument("\(name) initial state: LSTM needs both h0 and c0")
            }
            let cellShape = [numLayers * directions, batch, hiddenSize]
            guard c.shape == cellShape else {
                throw RecurrentError.shapeMismatch(
                    operation: "\(name) initial cell state", expected: Shape.describe(cellShape), got: c.shape)
            }
        }
        guard state.h.value.isFinite, state.c?.value.isFinite ?? true else {
            throw RecurrentError.nonFinite("\(name) initial state contains NaN or infinity")
        }
        return state
    }

    /// `valid[t * B + b]` from lengths or a [B, T] mask.
    private func validSteps(_ mask: SequenceMask, steps: Int, batch: Int) throws -> [Bool] {
        var valid = [Bool](repeating: false, count: steps * batch)
        switch mask {
        case .lengths(let lengths):
            guard lengths.count == batch else {
                throw RecurrentError.invalidArgument(
                    "\(name): \(lengths.count) lengths for a batch of \(batch)")
            }
            for (b, length) in lengths.enumerated() {
                guard length >= 1, length <= steps else {
                    throw RecurrentError.invalidArgument(
                        "\(name): length \(length) of example \(b) is outside 1...\(steps)")
                }
                for t in 0..<length { valid[t * batch + b] = true }
            }
        case .mask(let mask):
            guard mask.shape == [batch, steps] else {
                throw RecurrentError.shapeMismatch(
                    operation: "\(name) mask", expected: "[\(batch), \(steps)]", got: mask.shape)
            }
            for (i, m) in mask.scalars.enumerated() {
                guard m == 0 || m == 1 else {
                    throw RecurrentError.invalidArgument("\(name) mask: value \(m) at position \(i) is not 0 or 1")
                }
                valid[(i % steps) * batch + i / steps] = m == 1
            }
        }
        return valid
    }

    var name: String {
        switch kind {
        case .simpleRNN: return "SimpleRNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }

    // MARK: Keras face

    /// Keras call: the output sequence [B, T, H] (`returnSequences`) or the last output [B, H].
    public func callAsFunction(_ input: Variable) throws -> Variable {
        try call(input)[0]
    }

    /// Keras call with everything: `[output] + (returnState ? final states : [])`; the states
    /// are `[h]`, or `[h, c]` for LSTM, each [B, H]. `initialState` is `[h0]` or `[h0, c0]`.
    public func call(_ input: Variable, mask: SequenceMask? = nil, initialState: [Variable]? = nil) throws -> [Variable] {
        try kerasResults(try run(input, initialState: try kerasInitialState(initialState), mask: mask))
    }

    /// The Keras calls of two one-layer, one-direction layers on the same input (`Bidirectional`),
    /// their computations side by side on two threads, forward and backward.
    static func callSideBySide(
        _ a: RecurrentLayer, _ b: RecurrentLayer, _ input: Variable, mask: SequenceMask?,
        initialStates: (a: [Variable]?, b: [Variable]?)
    ) throws -> (a: [Variable], b: [Variable]) {
        guard gemmMaxThreads >= 2 else {
            return (try a.call(input, mask: mask, initialState: initialStates.a),
                    try b.call(input, mask: mask, initialState: initialStates.b))
        }
        var passA = try a.beginRun(input, initialState: try a.kerasInitialState(initialStates.a), mask: mask)
        var passB = try b.beginRun(input, initialState: try b.kerasInitialState(initialStates.b), mask: mask)
        let computations = try a.layerComputations(&passA, layer: 0, sideBySide: true)
            + b.layerComputations(&passB, layer: 0, sideBySide: true)
        let results = record(computeSideBySide(computations, true), concurrently: true)
        try a.absorb([results[0]], into: &passA, layer: 0)
        try b.absorb([results[1]], into: &passB, layer: 0)
        return (try a.kerasResults(try a.endRun(passA)), try b.kerasResults(try b.endRun(passB)))
    }

    /// Keras's initial states (h, and c for LSTM, each [B, H]) as `run` takes them, after
    /// checking that this layer has the Keras call's shape (one layer, one direction).
    private func kerasInitialState(_ initialState: [Variable]?) throws -> (h: Variable, c: Variable?)? {
        guard numLayers == 1, !bidirectional else {
            throw RecurrentError.invalidArgument(
                "\(name): the Keras call is for one layer and one direction; use forward(...) or Bidirectional")
        }
        return try initialState.map { states -> (h: Variable, c: Variable?) in
            guard states.count == (kind.hasCellState ? 2 : 1) else {
                throw RecurrentError.invalidArgument(
                    "\(name) initial state: expected \(kind.hasCellState ? 2 : 1) tensors, got \(states.count)")
            }
            let batch = states[0].shape.first ?? 0
            return (try states[0].reshaped([1, batch, -1]), try states.dropFirst().first.map { try $0.reshaped([1, batch, -1]) })
        }
    }

    /// `run`'s result as the Keras call returns it: the sequence (in processing order with
    /// `goBackwards`) or the last output, then the states with `returnState`.
    private func kerasResults(_ r: (output: Variable, h: Variable, c: Variable?)) throws -> [Variable] {
        let batch = r.h.shape[1]
        var output = r.output
        if goBackwards && returnSequences {
            output = try output.swappingFirstTwoAxes().reversedFirstAxis().swappingFirstTwoAxes()
        }
        if !returnSequences { output = try r.h.reshaped([batch, hiddenSize]) }
        guard returnState else { return [output] }
        return [output, try r.h.reshaped([batch, hiddenSize])] + (try r.c.map { [try $0.reshaped([batch, hiddenSize])] } ?? [])
    }
}
