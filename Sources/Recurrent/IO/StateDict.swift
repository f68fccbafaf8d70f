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

/// Checks that `tensors` holds every parameter with its shape and nothing else — naming every
/// missing and every unexpected key together, as PyTorch's `load_state_dict` does, or the first
/// shape mismatch — then sets the parameters' values.
func assignStateDict(
    _ tensors: [String: Tensor], to parameters: [(name: String, variable: Variable)], owner: String
) throws {
    let names = Set(parameters.map(\.name))
    let missing = parameters.filter { tensors[$0.name] == nil }.map { "\($0.name) \(Shape.describe($0.variable.shape))" }
    let unexpected = tensors.keys.sorted().filter { !names.contains($0) }
    if !missing.isEmpty || !unexpected.isEmpty {
        let parts = (missing.isEmpty ? [] : ["missing \(missing.joined(separator: ", "))"])
            + (unexpected.isEmpty ? [] : ["unexpected \(unexpected.joined(separator: ", ")) for \(owner)"])
        throw RecurrentError.invalidArgument("state dict: " + parts.joined(separator: "; "))
    }
    for (name, variable) in parameters where tensors[name]!.shape != variable.shape {
        throw RecurrentError.shapeMismatch(
            operation: "state dict entry \(name)", expected: Shape.describe(variable.shape), got: tensors[name]!.shape)
    }
    for (name, variable) in parameters { variable.value = tensors[name]! }
}
