// The `torch.nn` names a PyTorch user writes from memory, each a thin name over the one
// implementation: `Linear`, `RNNCell`, the loss modules with PyTorch's mean reduction, and
// `noGrad`. (`LSTM`, `GRU`, `Embedding`, `Dropout`, `LSTMCell`, `GRUCell` already carry
// PyTorch's names; `Model` is `nn.Module`, arrays of modules are `nn.ModuleList`.)

/// `nn.Linear`: `Linear(20, 1)` is `Dense(inputSize: 20, units: 1, initializer: .pytorch)`.
public typealias Linear = Dense

extension Dense {
    /// PyTorch face: `nn.Linear(in_features, out_features, bias)`, PyTorch's initialisation.
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, seed: UInt64? = nil) {
        self.init(inputSize: inFeatures, units: outFeatures, useBias: bias, initializer: .pytorch, seed: seed)
    }
}

/// `nn.RNNCell` (tanh or relu).
public typealias RNNCell = SimpleRNNCell

/// `nn.CrossEntropyLoss()`: logits [N, C] (or [..., C]) against class indices, mean over rows.
public struct CrossEntropyLoss: Sendable {
    public init() {}
    public func callAsFunction(_ input: Variable, _ target: Tensor) throws -> Variable { try Loss.crossEntropy(input, target) }
}

/// `nn.MSELoss()`: mean of squared differences.
public struct MSELoss: Sendable {
    public init() {}
    public func callAsFunction(_ input: Variable, _ target: Tensor) throws -> Variable { try Loss.meanSquaredError(input, target) }
}

/// `nn.BCEWithLogitsLoss()`: binary cross-entropy of logits against targets in [0, 1], mean.
public struct BCEWithLogitsLoss: Sendable {
    public init() {}
    public func callAsFunction(_ input: Variable, _ target: Tensor) throws -> Variable {
        try Loss.binaryCrossEntropy(fromLogits: true)(input, target)
    }
}

/// Runs `body` without recording gradients: PyTorch's `with torch.no_grad():`.
public func noGrad<R>(_ body: () throws -> R) rethrows -> R { try withoutGradients(body) }
