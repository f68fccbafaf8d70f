// The public `GRU`: its PyTorch face (`nn.GRU`) and Keras face (`keras.layers.GRU`), initialisers and
// calls over the one `RecurrentLayer` implementation; its sequence op is GRUSequence.swift.

/// Gated recurrent unit (`nn.GRU`, `keras.layers.GRU`).
public final class GRU: RecurrentLayer {
    /// PyTorch face: `nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout,
    /// bidirectional)`.
    public init(
        inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false, seed: UInt64? = nil
    ) {
        super.init(RecurrentConfiguration(
            kind: .gru(resetAfter: true), inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
            bidirectional: bidirectional, useBias: bias, batchFirst: batchFirst, interLayerDropout: dropout), seed: seed)
    }

    /// Keras face: `GRU(units, activation, recurrent_activation, use_bias, reset_after, dropout,
    /// recurrent_dropout, return_sequences, return_state, go_backwards, stateful)`; the input
    /// size is inferred at the first call.
    public init(
        units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
        useBias: Bool = true, resetAfter: Bool = true, dropout: Float = 0,
        recurrentDropout: Float = 0, returnSequences: Bool = false, returnState: Bool = false,
        goBackwards: Bool = false, stateful: Bool = false, seed: UInt64? = nil
    ) {
        super.init(.keras(
            .gru(resetAfter: resetAfter), units: units, activation: activation,
            recurrentActivation: recurrentActivation, useBias: useBias, dropout: dropout,
            recurrentDropout: recurrentDropout, returnSequences: returnSequences, returnState: returnState,
            goBackwards: goBackwards, stateful: stateful), seed: seed)
    }

    /// PyTorch call: `(output, h_n)`; `h0` is [layers·directions, B, H] (or [layers·directions, H]
    /// for unbatched input [T, I]).
    public func forward(
        _ input: Variable, _ h0: Variable? = nil, mask: SequenceMask? = nil
    ) throws -> (output: Variable, hN: Variable) {
        try runWithHiddenState(input, h0, mask: mask)
    }
}
