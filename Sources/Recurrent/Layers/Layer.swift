/// A building block of a model: a callable with named, trainable parameters.
public protocol Layer: AnyObject {
    /// Trainable parameters with PyTorch's names (`weight`, `bias`, `weight_ih_l0`, …).
    /// Empty until the input size is known for layers that infer it at their first call.
    var namedParameters: [(name: String, variable: Variable)] { get }

    func callAsFunction(_ input: Variable) throws -> Variable
}

extension Layer {
    public var parameters: [Variable] { namedParameters.map(\.variable) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try self(Variable(input)).value
    }
}
