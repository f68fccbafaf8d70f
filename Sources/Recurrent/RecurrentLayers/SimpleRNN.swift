// The public `SimpleRNN`: its PyTorch face (`nn.RNN`) and Keras face (`keras.layers.SimpleRNN`), initialisers and
// calls over the one `RecurrentLayer` implementation; its sequence op is SimpleRNNSequence.swift.

/// Elman RNN (`nn.RNN`, `keras.layers.SimpleRNN`).
public final class SimpleRNN: RecurrentLayer {
    /// PyTorch face: `nn.RNN(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first,
    /// dropout, bidirectional)`.
    public init(
        inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: ActivationFunction = .tanh,
        bias: Bool = true, batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
        seed: UInt64? = nil
    ) {
        super.init(RecurrentConfiguration(
            kind: .simpleRNN(relu: nonlinearity == .relu), inputSize: inputSize, hiddenSize: hiddenSize,
            numLayers: numLayers, bidirectional: bidirectional, useBias: bias, batchFirst: batchFirst,
            interLayerDropout: dropout, activation: nonlinearity), seed: seed)
    }

    /// Keras face: `SimpleRNN(units, activation, use_bias, dropout, recurrent_dropout,
    /// return_sequences, return_state, go_backwards, stateful)`; the input size is inferred at
    /// the first call.
    public init(
        units: Int, activation: ActivationFunction = .tanh, useBias: Bool = true, dropout: Float = 0,
        recurrentDropout: Float = 0, returnSequences: Bool = false, returnState: Bool = false,
        goBackwards: Bool = false, stateful: Bool = false, seed: UInt64? = nil
    ) {
        super.init(.keras(
            .simpleRNN(relu: activation == .relu), units: units, activation: activation, useBias: useBias,
            dropout: dropout, recurrentDropout: recurrentDropout, returnSequences: returnSequences,
            returnState: returnState, goBackwards: goBackwards, stateful: stateful), seed: seed)
    }

    /// PyTorch call: `(output, h_n)`; `h0` is [layers·directions, B, H] (or [layers·directions, H]
    /// for unbatched input [T, I]).
    public func forward(
        _ input: Variable, _ h0: Variable? = nil, mask: SequenceMask? = nil
    ) throws -> (output: Variable, hN: Variable) {
        try runWithHiddenState(input, h0, mask: mask)
    }
}
