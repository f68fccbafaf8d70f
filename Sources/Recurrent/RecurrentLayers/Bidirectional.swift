/// Keras's `Bidirectional` wrapper: the wrapped layer reads the sequence forwards, a copy with
/// its own weights reads it backwards, and their outputs are merged.
///
/// With `returnSequences`, the backward outputs are re-aligned with the input's time axis and
/// padded steps output zero (Keras forces `zero_output_for_mask` there); the final states are
/// `[forward h, (c,) backward h, (c)]`.
public final class Bidirectional: Layer {
    public enum MergeMode: String, Sendable, CaseIterable, Codable {
        case concat, sum, mul, ave
        /// No merging: the call returns the two outputs separately.
        case none
    }

    public let forwardLayer: RecurrentLayer
    public let backwardLayer: RecurrentLayer
    public let mergeMode: MergeMode

    public init(_ layer: RecurrentLayer, mergeMode: MergeMode = .concat, backwardLayer: RecurrentLayer? = nil) {
        forwardLayer = layer
        self.backwardLayer = backwardLayer ?? layer.sibling(goBackwards: !layer.goBackwards)
        self.mergeMode = mergeMode
        if layer.returnSequences {
            forwardLayer.maskSemantics = .packed
            self.backwardLayer.maskSemantics = .packed
        }
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        forwardLayer.namedParameters.map { ("forward_layer.\($0.name)", $0.variable) }
            + backwardLayer.namedParameters.map { ("backward_layer.\($0.name)", $0.variable) }
    }

    public var isTraining: Bool {
        get { forwardLayer.isTraining }
        set { forwardLayer.isTraining = newValue; backwardLayer.isTraining = newValue }
    }

    public func useRandomStream(ofRank rank: Int) {
        forwardLayer.useRandomStream(ofRank: rank)
        backwardLayer.useRandomStream(ofRank: rank)
    }

    /// The merged output (with `.none`, only the forward output; use `call` for both).
    public func callAsFunction(_ input: Variable) throws -> Variable {
        try call(input)[0]
    }

    /// `[merged output] + states`, or `[forward output, backward output] + states` with `.none`.
    /// `initialState` is the forward layer's states followed by the backward layer's.
    public func call(_ input: Variable, mask: SequenceMask? = nil, initialState: [Variable]? = nil) throws -> [Variable] {
        let perLayer = forwardLayer.kind.hasCellState ? 2 : 1
        if let initialState, initialState.count != 2 * perLayer {
            throw RecurrentError.invalidArgument(
                "Bidirectional initial state: expected \(2 * perLayer) tensors, got \(initialState.count)")
        }
        // The two layers' computations run side by side, one thread each.
        let (forward, backward) = try RecurrentLayer.callSideBySide(
            forwardLayer, backwardLayer, input, mask: mask,
            initialStates: (initialState.map { Array($0.prefix(perLayer)) }, initialState.map { Array($0.suffix(perLayer)) }))
        var backwardOutput = backward[0]
        if backwardLayer.returnSequences {
            backwardOutput = try backwardOutput.swappingFirstTwoAxes().reversedFirstAxis().swappingFirstTwoAxes()
        }
        let states = Array(forward.dropFirst()) + Array(backward.dropFirst())
        let f = forward[0], b = backwardOutput
        switch mergeMode {
        case .concat: return [try Variable.concatenate([f, b], axis: -1)] + states
        case .sum: return [try f + b] + states
        case .mul: return [try f * b] + states
        case .ave: return [(try f + b) * 0.5] + states
        case .none: return [f, b] + states
        }
    }
}
