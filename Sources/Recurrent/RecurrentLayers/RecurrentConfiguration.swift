/// Everything that configures a recurrent layer stack — the one value behind the PyTorch and
/// Keras faces of `SimpleRNN`, `LSTM` and `GRU`, the backward copy of `Bidirectional`, and the
/// layer's entry in a saved model (stored as it is, `Codable`).
public struct RecurrentConfiguration: Sendable, Equatable, Codable {
    public var kind: CellKind
    /// Features per step of the input; nil until the first call when the Keras face infers it.
    public var inputSize: Int?
    public var hiddenSize: Int
    public var numLayers: Int
    /// LSTM with projections (PyTorch's `proj_size`): h is projected to this size; 0 for none.
    public var projSize: Int
    public var bidirectional: Bool
    public var useBias: Bool
    /// Input and output are [B, T, F] rather than [T, B, F].
    public var batchFirst: Bool
    public var convention: Convention
    /// Dropout on the outputs of every layer but the last, in training (PyTorch's `dropout`).
    public var interLayerDropout: Float
    /// Keras: dropout on the inputs, one mask per sequence, in training (one per gate when
    /// `recurrentDropout` is on, as Keras does).
    public var inputDropout: Float
    /// Keras: variational dropout on h before the recurrent product, one mask per gate and
    /// sequence, in training.
    public var recurrentDropout: Float
    /// Keras: return the whole output sequence rather than the last output.
    public var returnSequences: Bool
    /// Keras: the call also returns the final states.
    public var returnState: Bool
    /// Keras: process the sequence backwards and return the outputs in processing order.
    public var goBackwards: Bool
    /// Keras: each batch starts from the previous batch's final states.
    public var stateful: Bool
    /// Keras: the LSTM forget gate's bias starts at 1.
    public var unitForgetBias: Bool
    /// The candidate / cell activation (tanh by default; SimpleRNN's only activation).
    public var activation: ActivationFunction
    /// The gates' activation (sigmoid by default).
    public var recurrentActivation: ActivationFunction
    public var maskSemantics: MaskSemantics

    /// Defaults are PyTorch's; `maskSemantics` follows the convention and `activation` the
    /// cell (relu for `.simpleRNN(relu: true)`, else tanh) unless given.
    public init(
        kind: CellKind, inputSize: Int? = nil, hiddenSize: Int, numLayers: Int = 1, projSize: Int = 0,
        bidirectional: Bool = false, useBias: Bool = true, batchFirst: Bool = false,
        convention: Convention = .pytorch, interLayerDropout: Float = 0, inputDropout: Float = 0,
        recurrentDropout: Float = 0, returnSequences: Bool = true, returnState: Bool = false,
        goBackwards: Bool = false, stateful: Bool = false, unitForgetBias: Bool = false,
        activation: ActivationFunction? = nil, recurrentActivation: ActivationFunction = .sigmoid,
        maskSemantics: MaskSemantics? = nil
    ) {
        (self.kind, self.inputSize, self.hiddenSize, self.numLayers, self.projSize) =
            (kind, inputSize, hiddenSize, numLayers, projSize)
        (self.bidirectional, self.useBias, self.batchFirst, self.convention) = (bidirectional, useBias, batchFirst, convention)
        (self.interLayerDropout, self.inputDropout, self.recurrentDropout) = (interLayerDropout, inputDropout, recurrentDropout)
        (self.returnSequences, self.returnState, self.goBackwards, self.stateful) =
            (returnSequences, returnState, goBackwards, stateful)
        self.unitForgetBias = unitForgetBias
        self.activation = activation ?? (kind == .simpleRNN(relu: true) ? .relu : .tanh)
        self.recurrentActivation = recurrentActivation
        self.maskSemantics = maskSemantics ?? (convention == .keras ? .keras : .packed)
    }

    /// The Keras face's configuration: one layer, one direction, batch-first, input size
    /// inferred at the first call.
    static func keras(
        _ kind: CellKind, units: Int, activation: ActivationFunction, recurrentActivation: ActivationFunction = .sigmoid,
        useBias: Bool, unitForgetBias: Bool = false, dropout: Float, recurrentDropout: Float,
        returnSequences: Bool, returnState: Bool, goBackwards: Bool, stateful: Bool
    ) -> Self {
        Self(
            kind: kind, hiddenSize: units, useBias: useBias, batchFirst: true, convention: .keras,
            inputDropout: dropout, recurrentDropout: recurrentDropout, returnSequences: returnSequences,
            returnState: returnState, goBackwards: goBackwards, stateful: stateful, unitForgetBias: unitForgetBias,
            activation: activation, recurrentActivation: recurrentActivation)
    }

    public var directions: Int { bidirectional ? 2 : 1 }
    /// Size of the hidden state h (the projection size when there is one).
    public var stateSize: Int { projSize > 0 ? projSize : hiddenSize }
    /// Features per step of the output.
    public var outputSize: Int { directions * stateSize }

    /// What is wrong with this configuration, if anything.
    var problem: String? {
        if hiddenSize <= 0 { return "hidden size must be positive, got \(hiddenSize)" }
        if numLayers <= 0 { return "number of layers must be positive, got \(numLayers)" }
        if let inputSize, inputSize <= 0 { return "input size must be positive, got \(inputSize)" }
        if projSize != 0 && (kind != .lstm || projSize < 0 || projSize >= hiddenSize) {
            return "projSize \(projSize) must be 0, or in 1..<hiddenSize for an LSTM"
        }
        if !activation.isElementwise || !recurrentActivation.isElementwise {
            return "softmax cannot be a recurrent activation"
        }
        for (label, rate) in [("dropout", interLayerDropout), ("dropout", inputDropout), ("recurrentDropout", recurrentDropout)]
        where !(0..<1).contains(rate) {
            return "\(label) must be in [0, 1), got \(rate)"
        }
        return nil
    }
}
