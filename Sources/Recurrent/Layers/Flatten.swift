/// Flattens every axis but the batch axis: [B, d1, d2, …] → [B, d1·d2·…] (`keras.layers.Flatten`).
public final class Flatten: Layer {
    public init() {}

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard input.rank >= 1, input.shape[0] > 0 else {
            throw RecurrentError.shapeMismatch(operation: "Flatten", expected: "[batch, ...]", got: input.shape)
        }
        return try input.reshaped([input.shape[0], input.value.count / input.shape[0]])
    }
}

/// An activation as a layer of its own (`keras.layers.Activation("relu")`).
public final class Activation: MaskAware {
    public let function: ActivationFunction

    public init(_ function: ActivationFunction) { self.function = function }

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable { try function(input) }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try function(input), mask)
    }
}
