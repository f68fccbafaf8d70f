/// Conversion between Keras's recurrent weight layout and the canonical (PyTorch) one.
///
/// Keras stores `kernel` [I, G·H], `recurrent_kernel` [H, G·H] and `bias` [G·H] (GRU with
/// `reset_after`: [2, G·H], input bias then recurrent bias), with GRU gates ordered z, r, h.
/// The canonical layout is `weight_ih` [G·H, I], `weight_hh` [G·H, H], `bias_ih`/`bias_hh`
/// [G·H] with GRU gates r, z, n. LSTM gates (i, f, c/g, o) agree.
public enum KerasLayout {
    /// Canonical gate block for each Keras gate block (the permutation is its own inverse).
    static func gateOrder(_ kind: CellKind) -> [Int] {
        if case .gru = kind { return [1, 0, 2] }
        return Array(0..<kind.gateCount)
    }

    /// Reorders the gate blocks of the last axis ([…, G·H]).
    static func permuteGates(_ t: Tensor, kind: CellKind) throws -> Tensor {
        let order = gateOrder(kind)
        guard order != Array(0..<order.count) else { return t }
        let blocks = try t.split(sizes: Array(repeating: t.shape.last! / order.count, count: order.count), axis: -1)
        return try Tensor.concatenate(order.map { blocks[$0] }, axis: -1)
    }

    /// Keras `[kernel, recurrent_kernel, bias?]` → canonical `(weight_ih, weight_hh, bias_ih?, bias_hh?)`.
    public static func canonical(
        _ weights: [Tensor], kind: CellKind
    ) throws -> (weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?) {
        guard weights.count == 2 || weights.count == 3 else {
            throw RecurrentError.invalidArgument(
                "Keras weights: expected [kernel, recurrent_kernel(, bias)], got \(weights.count) arrays")
        }
        let kernel = weights[0], recurrent = weights[1]
        guard kernel.rank == 2, recurrent.rank == 2, kernel.shape[1] == recurrent.shape[1],
              recurrent.shape[1] == kind.gateCount * recurrent.shape[0] else {
            throw RecurrentError.shapeMismatch(
                operation: "Keras kernel \(Shape.describe(kernel.shape)) and recurrent kernel",
                expected: "[H, \(kind.gateCount)·H] beside a kernel [I, \(kind.gateCount)·H]", got: recurrent.shape)
        }
        let weightIH = try permuteGates(kernel, kind: kind).transposedLastTwo()
        let weightHH = try permuteGates(recurrent, kind: kind).transposedLastTwo()
        guard weights.count == 3 else { return (weightIH, weightHH, nil, nil) }
        let bias = weights[2], width = kernel.shape[1]
        if bias.shape == [width] {
            return (weightIH, weightHH, try permuteGates(bias, kind: kind), nil)
        }
        guard bias.shape == [2, width] else {
            throw RecurrentError.shapeMismatch(
                operation: "Keras bias", expected: "[\(width)] or [2, \(width)]", got: bias.shape)
        }
        let rows = try permuteGates(bias, kind: kind)
        return (weightIH, weightHH, try rows.selecting(0), try rows.selecting(1))
    }

    /// Canonical tensors → Keras `[kernel, recurrent_kernel, bias?]`; two biases become [2, G·H].
    public static func keras(
        weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?, kind: CellKind
    ) throws -> [Tensor] {
        var result = [try permuteGates(weightIH.transposedLastTwo(), kind: kind),
                      try permuteGates(weightHH.transposedLastTwo(), kind: kind)]
        switch (biasIH, biasHH) {
        case let (i?, h?):
            result.append(try permuteGates(Tensor.concatenate([i.reshaped([1, -1]), h.reshaped([1, -1])]), kind: kind))
        case let (i?, nil):
            result.append(try permuteGates(i, kind: kind))
        case (nil, _):
            break
        }
        return result
    }
}

extension RecurrentLayer {
    /// Sets the weights from Keras's `layer.get_weights()` order for a one-layer, one-direction
    /// layer, building the layer if its input size is not yet known.
    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard numLayers == 1, !bidirectional else {
            throw RecurrentError.invalidArgument("setKerasWeights: a Keras layer has one layer and one direction")
        }
        let c = try KerasLayout.canonical(weights, kind: kind)
        var dict = ["weight_ih_l0": c.weightIH, "weight_hh_l0": c.weightHH]
        if let b = c.biasIH { dict["bias_ih_l0"] = b }
        if let b = c.biasHH { dict["bias_hh_l0"] = b }
        try loadStateDict(dict)
    }

    /// The weights in Keras's `get_weights()` order and layout.
    public func kerasWeights() throws -> [Tensor] {
        guard let p = layers.first?.first, numLayers == 1, !bidirectional else {
            throw RecurrentError.invalidArgument("kerasWeights: needs a built one-layer, one-direction layer")
        }
        return try KerasLayout.keras(
            weightIH: p.weightIH.value, weightHH: p.weightHH.value, biasIH: p.biasIH?.value,
            biasHH: p.biasHH?.value, kind: kind)
    }
}
