// The public `LSTM`: its PyTorch face (`nn.LSTM`) and Keras face (`keras.layers.LSTM`), initialisers and
// calls over the one `RecurrentLayer` implementation; its sequence op is LSTMSequence.swift.

/// Long short-term memory (`nn.LSTM`, `keras.layers.LSTM`).
public final class LSTM: RecurrentLayer {
    /// PyTorch face: `nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first, dropout,
    /// bidirectional, proj_size)`.
    public init(
        inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false, projSize: Int = 0, seed: UInt64? = nil
    ) {
        super.init(RecurrentConfiguration(
            kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, projSize: projSize,
            bidirectional: bidirectional, useBias: bias, batchFirst: batchFirst, interLayerDropout: dropout), seed: seed)
    }

    /// Keras face: `LSTM(units, activation, recurrent_activation, use_bias, unit_forget_bias,
    /// dropout, recurrent_dropout, return_sequences, return_state, go_backwards, stateful)`; the
    /// input size is inferred at the first call.
    public init(
        units: Int, activation: ActivationFunction = .tanh, recurrentActivation: ActivationFunction = .sigmoid,
        useBias: Bool = true, unitForgetBias: Bool = true, dropout: Float = 0,
        recurrentDropout: Float = 0, returnSequences: Bool = false, returnState: Bool = false,
        goBackwards: Bool = false, stateful: Bool = false, seed: UInt64? = nil
    ) {
        super.init(.keras(
            .lstm, units: units, activation: activation, recurrentActivation: recurrentActivation, useBias: useBias,
            unitForgetBias: unitForgetBias, dropout: dropout, recurrentDropout: recurrentDropout,
            returnSequences: returnSequences, returnState: returnState, goBackwards: goBackwards, stateful: stateful),
            seed: seed)
    }

    /// PyTorch call: `(output, (h_n, c_n))`; `state` is `(h0, c0)`, each [layers·directions, B, H]
    /// (or [layers·directions, H] for unbatched input [T, I]).
    public func forward(
        _ input: Variable, _ state: (Variable, Variable)? = nil, mask: SequenceMask? = nil
    ) throws -> (output: Variable, state: (hN: Variable, cN: Variable)) {
        let r = try runPyTorch(input, state.map { (h: $0.0, c: $0.1) }, mask: mask)
        return (r.output, (r.h, r.c!))
    }
}
