/// Anything that owns trainable parameters: layers, cells, whole models.
public protocol Module: AnyObject {
    /// Trainable parameters with PyTorch's names (`weight`, `bias`, `weight_ih_l0`, …).
    /// Empty until the input size is known for layers that infer it at their first call.
    var namedParameters: [(name: String, variable: Variable)] { get }
}

/// A building block of a model: a callable with named, trainable parameters.
public protocol Layer: Module {
    func callAsFunction(_ input: Variable) throws -> Variable
}

/// A module's trainable parameters: a collection of its variables that can also be called, as
/// PyTorch's `model.parameters()` is (`Adam(model.parameters(), lr: 1e-3)`).
public struct Parameters: RandomAccessCollection {
    public let variables: [Variable]
    public var startIndex: Int { variables.startIndex }
    public var endIndex: Int { variables.endIndex }
    public subscript(position: Int) -> Variable { variables[position] }
    /// The variables as an array (PyTorch's `model.parameters()`).
    public func callAsFunction() -> [Variable] { variables }
}

extension Module {
    public var parameters: Parameters { Parameters(variables: namedParameters.map(\.variable)) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

extension Layer {
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try self(Variable(input)).value
    }
}

/// A layer that behaves differently in training (dropout): PyTorch's `train()` / `eval()`,
/// Keras's `training=` argument. `fit` switches it on for its training steps.
public protocol TrainingAware: AnyObject {
    var isTraining: Bool { get set }
    /// Draws this layer's random numbers (dropout masks) from a stream of rank `rank`'s own,
    /// derived from the layer's stream: each rank of a data-parallel `fit` masks its shard apart.
    func useRandomStream(ofRank rank: Int)
}

extension TrainingAware {
    public func useRandomStream(ofRank rank: Int) {}
}

/// A layer that takes part in Keras masking: it receives the [B, T] mask of real steps (1) and
/// padding (0) produced upstream (by `Embedding(maskZero: true)` or `Masking`), and returns the
/// mask for the next layer (nil when its output has no time axis any more).
///
/// Layers that do not adopt this protocol end the mask, as layers without mask support do in Keras.
public protocol MaskAware: Layer {
    func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?)
}
