/// How a window over time treats the sequence's ends (Keras's `padding=`).
public enum TimePadding: String, Sendable, Codable, Equatable {
    /// No padding: windows lie wholly inside the sequence.
    case valid
    /// Zeros on both sides (the extra one on the right) so that stride 1 keeps the length.
    case same
    /// Zeros on the left only: the output at step t sees no input after t (Conv1D only).
    case causal

    /// The padding of `steps` steps for windows of `size` taps `dilation` apart, every `stride` steps.
    func geometry(steps: Int, size: Int, stride: Int, dilation: Int) -> WindowGeometry {
        let span = dilation * (size - 1) + 1
        switch self {
        case .valid: return WindowGeometry(size: size, stride: stride, dilation: dilation, left: 0, right: 0)
        case .causal: return WindowGeometry(size: size, stride: stride, dilation: dilation, left: span - 1, right: 0)
        case .same:
            let outputs = (steps + stride - 1) / stride
            let total = Swift.max((outputs - 1) * stride + span - steps, 0)
            return WindowGeometry(size: size, stride: stride, dilation: dilation, left: total / 2, right: total - total / 2)
        }
    }
}

/// A convolution over time (`keras.layers.Conv1D`): [B, T, C] → [B, T′, filters], each output
/// step the product of `kernelSize` input steps with the kernel, plus the bias, through the
/// activation. The input channels are inferred at the first call; the kernel is glorot-uniform
/// and the bias zero, as in Keras. The weight is stored as PyTorch's `Conv1d` stores it,
/// [filters, channels, kernelSize].
public final class Conv1D: Layer {
    public let filters: Int, kernelSize: Int, strides: Int, dilationRate: Int
    public let padding: TimePadding
    public let activation: ActivationFunction
    public let useBias: Bool
    public private(set) var channels: Int?
    public private(set) var weight: Variable?
    public private(set) var bias: Variable?
    private var generator: SeededGenerator

    public init(
        filters: Int, kernelSize: Int, strides: Int = 1, padding: TimePadding = .valid, dilationRate: Int = 1,
        activation: ActivationFunction = .linear, useBias: Bool = true, seed: UInt64? = nil
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.dilationRate = dilationRate
        self.activation = activation
        self.useBias = useBias
        generator = seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split()
    }

    func build(channels: Int) {
        self.channels = channels
        let shape = [filters, channels, kernelSize]
        weight = Variable(
            Initializer.glorotUniform.make(
                shape: shape, fanIn: channels * kernelSize, fanOut: filters * kernelSize, generator: &generator),
            requiresGrad: true, name: "weight")
        if useBias { bias = Variable(Tensor.zeros([filters]), requiresGrad: true, name: "bias") }
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)].compactMap { name, v in v.map { (name, $0) } }
    }

    private var label: String { "Conv1D(\(filters), \(kernelSize))" }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard filters > 0, kernelSize > 0, strides > 0, dilationRate > 0 else {
            throw RecurrentError.invalidArgument(
                "\(label): filters, kernel size, strides and dilation rate must be positive, "
                    + "got \(filters), \(kernelSize), \(strides) and \(dilationRate)")
        }
        guard strides == 1 || dilationRate == 1 else {
            throw RecurrentError.invalidArgument("\(label): strides > 1 together with dilation rate > 1 is not supported (as in Keras)")
        }
        guard input.rank == 3, input.shape[2] > 0 else {
            throw RecurrentError.shapeMismatch(operation: label, expected: "[batch, steps, channels]", got: input.shape)
        }
        let (B, T, C) = (input.shape[0], input.shape[1], input.shape[2])
        if channels == nil { build(channels: C) }
        guard C == channels, let weight else {
            throw RecurrentError.shapeMismatch(operation: label, expected: "[batch, steps, \(channels ?? 0)]", got: input.shape)
        }
        let geometry = padding.geometry(steps: T, size: kernelSize, stride: strides, dilation: dilationRate)
        let windows = try input.slidingWindows(geometry, operation: label)
        let W = windows.shape[1]
        let flat = try windows.reshaped([B * W, C * kernelSize])
        var output = try flat.matmul(weight.reshaped([filters, C * kernelSize]), transposeOther: true)
        if let bias { output = try output + bias }
        return try activation(output.reshaped([B, W, filters]))
    }
}

/// The maximum over windows of time (`keras.layers.MaxPooling1D`): [B, T, C] → [B, T′, C],
/// windows of `poolSize` steps every `strides` steps (`poolSize` by default). With `.same`
/// padding the padded steps never win.
public final class MaxPooling1D: Layer {
    public let poolSize: Int, strides: Int
    public let padding: TimePadding

    public init(poolSize: Int = 2, strides: Int? = nil, padding: TimePadding = .valid) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        let label = "MaxPooling1D(\(poolSize))"
        guard poolSize > 0, strides > 0, padding != .causal else {
            throw RecurrentError.invalidArgument(
                "\(label): pool size and strides must be positive and padding valid or same, "
                    + "got \(poolSize), \(strides) and \(padding)")
        }
        guard input.rank == 3 else {
            throw RecurrentError.shapeMismatch(operation: label, expected: "[batch, steps, channels]", got: input.shape)
        }
        let geometry = padding.geometry(steps: input.shape[1], size: poolSize, stride: strides, dilation: 1)
        return try input.slidingWindows(geometry, padValue: -.infinity, operation: label).max(dim: 3).values
    }
}
