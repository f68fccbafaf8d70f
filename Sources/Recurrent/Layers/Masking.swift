/// Marks time steps whose features all equal `maskValue` as padding (`keras.layers.Masking`):
/// those steps are zeroed in the output and the [B, T] mask tells the next recurrent layer to
/// skip them.
public final class Masking: MaskAware {
    public let maskValue: Float

    public init(maskValue: Float = 0) { self.maskValue = maskValue }

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable { try call(input, mask: nil).output }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        guard input.rank == 3 else {
            throw RecurrentError.shapeMismatch(operation: "Masking input", expected: "[batch, steps, features]", got: input.shape)
        }
        let (batch, steps, features) = (input.shape[0], input.shape[1], input.shape[2])
        var stepMask = Tensor.zeros([batch, steps])
        input.value.withUnsafeBufferPointer { x in
            stepMask.withUnsafeMutableBufferPointer { m in
                for row in 0..<(batch * steps) {
                    let start = row * features
                    m[row] = x[start..<(start + features)].contains { $0 != maskValue } ? 1 : 0
                }
            }
        }
        let output = try input * Variable(stepMask.reshaped([batch, steps, 1]))
        let combined = try mask.map { try $0 * stepMask } ?? stepMask
        return (output, combined)
    }
}

/// The shape of one example, without the batch axis (`keras.Input(shape=(10, 5))`). First in a
/// `Sequential`, it fixes the input size so that the model can be built and summarised before
/// it sees data; called, it checks its input and passes it on.
public final class Input: Layer {
    /// nil marks a free axis, as `None` does in Keras: `Input(shape: [nil, 5])`.
    public let shape: [Int?]
    /// The name a functional model's summary shows (`input_layer`, `input_layer_1`, … by default).
    public let name: String?

    public init(shape: [Int?], name: String? = nil) {
        self.shape = shape
        self.name = name
    }

    /// The model input as a functional model's first value.
    public private(set) lazy var symbol = SymbolicTensor(input: self)

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard input.rank == shape.count + 1, zip(input.shape.dropFirst(), shape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw RecurrentError.shapeMismatch(
                operation: "model input", expected: "[batch" + shape.map { ", \($0.map(String.init) ?? "any")" }.joined() + "]",
                got: input.shape)
        }
        return input
    }
}
