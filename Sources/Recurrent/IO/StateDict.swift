extension RecurrentLayer {
    /// Loads tensors by PyTorch name (`weight_ih_l0`, …). Every parameter must be present with
    /// its shape, and nothing else; the first mismatch is named. Builds an unbuilt layer from
    /// the shape of `weight_ih_l0`.
    public func loadStateDict(_ tensors: [String: Tensor]) throws {
        try validateConfiguration()
        if inputSize == nil, let w = tensors["weight_ih_l0"], w.rank == 2 {
            guard w.shape[1] > 0 else {
                throw RecurrentError.shapeMismatch(operation: "state dict weight_ih_l0", expected: "[G·H, I > 0]", got: w.shape)
            }
            build(inputSize: w.shape[1])
        }
        try assignStateDict(tensors, to: namedParameters, owner: "this \(name) layer")
    }
}

/// Checks that `tensors` holds every parameter with its shape and nothing else, naming the first
/// mismatch, then sets the parameters' values.
func assignStateDict(
    _ tensors: [String: Tensor], to parameters: [(name: String, variable: Variable)], owner: String
) throws {
    for (name, variable) in parameters {
        guard let t = tensors[name] else {
            throw RecurrentError.invalidArgument("state dict: missing \(name) \(Shape.describe(variable.shape))")
        }
        guard t.shape == variable.shape else {
            throw RecurrentError.shapeMismatch(
                operation: "state dict entry \(name)", expected: Shape.describe(variable.shape), got: t.shape)
        }
    }
    let names = Set(parameters.map(\.name))
    if let extra = tensors.keys.sorted().first(where: { !names.contains($0) }) {
        throw RecurrentError.invalidArgument("state dict: unexpected entry \(extra) for \(owner)")
    }
    for (name, variable) in parameters { variable.value = tensors[name]! }
}
