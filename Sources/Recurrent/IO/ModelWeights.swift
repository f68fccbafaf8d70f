import Foundation

extension Model {
    /// Loads tensors by dotted name (a PyTorch `state_dict`: `lstm.weight_ih_l0`, `fc.bias`, …).
    /// Every parameter must be present with its shape, and nothing else; the first mismatch is
    /// named. A `Sequential` also accepts `nn.Sequential`'s index names (`0.weight`, `1.bias`).
    public func loadStateDict(_ tensors: [String: Tensor]) throws {
        if let sequential = self as? Sequential, !sequential.isBuilt, sequential.inputShape != nil { try sequential.build() }
        let expected = namedParameters
        guard !expected.isEmpty || tensors.isEmpty else {
            throw RecurrentError.invalidArgument(
                "\(type(of: self)): no parameters yet (layers that infer their input size are built by a first call "
                    + "or by Input(shape:)); build the model before loading weights")
        }
        let tensors = (self as? Sequential)?.renamingIndexKeys(tensors) ?? tensors
        try assignStateDict(tensors, to: expected, owner: "this \(type(of: self))")
    }

    /// Loads a PyTorch `state_dict` saved with `safetensors.torch.save_file(model.state_dict(), path)`.
    public func loadStateDict(path: String) throws {
        try loadStateDict(SafeTensors.load(path: path))
    }

    /// The weights by name, as a PyTorch `state_dict`.
    public func stateDict() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.variable.value) })
    }

    /// Saves the weights by name in a safetensors file (atomically).
    public func saveWeights(to path: String) throws {
        try SafeTensors.write(stateDict(), to: path)
    }

    /// Loads weights saved by `saveWeights(to:)`, checking every name and shape.
    public func loadWeights(from path: String) throws {
        try loadStateDict(SafeTensors.load(path: path))
    }
}

extension Sequential {
    /// `nn.Sequential` names parameters by layer index (`0.weight`); ours are Keras-style layer names.
    func renamingIndexKeys(_ tensors: [String: Tensor]) -> [String: Tensor] {
        guard !tensors.isEmpty, tensors.keys.allSatisfy({ key in key.split(separator: ".").first.flatMap { Int($0) } != nil })
        else { return tensors }
        return Dictionary(uniqueKeysWithValues: tensors.map { key, value in
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard let index = Int(parts[0]), layerNames.indices.contains(index), parts.count == 2 else { return (key, value) }
            return ("\(layerNames[index]).\(parts[1])", value)
        })
    }
}
