/// A fully connected layer: `activation(x · Wᵀ + b)` over the last axis of `x`.
///
/// Keras face: `Dense(units: 64, activation: .relu)` infers its input size at the first call
/// and initialises like Keras (glorot-uniform kernel, zero bias). PyTorch face:
/// `Dense(inputSize: 10, units: 64, initializer: .pytorch)` behaves like `nn.Linear(10, 64)`.
/// The weight is stored as PyTorch's `[units, inputSize]`.
public final class Dense: Layer {
    public let units: Int
    public let activation: ActivationFunction
    public let useBias: Bool
    public let convention: Convention
    public private(set) var inputSize: Int?
    public private(set) var weight: Variable?
    public private(set) var bias: Variable?
    private var generator: SeededGenerator

    public init(
        units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
        initializer convention: Convention = .keras, seed: UInt64? = nil
    ) {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.convention = convention
        generator = seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split()
    }

    public convenience init(
        inputSize: Int, units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
        initializer convention: Convention = .keras, seed: UInt64? = nil
    ) {
        self.init(units: units, activation: activation, useBias: useBias, initializer: convention, seed: seed)
        if inputSize > 0 && units > 0 { build(inputSize: inputSize) } else { invalidInputSize = inputSize }
    }

    /// A non-positive input size given to the PyTorch-style initializer, thrown at the first call.
    private var invalidInputSize: Int?

    func build(inputSize: Int) {
        self.inputSize = inputSize
        let weightInit: Initializer = convention == .keras ? .glorotUniform : .pytorchUniform
        let biasInit: Initializer = convention == .keras ? .zeros : .pytorchUniform
        weight = Variable(
            weightInit.make(shape: [units, inputSize], fanIn: inputSize, fanOut: units, generator: &generator),
            requiresGrad: true, name: "weight")
        if useBias {
            bias = Variable(
                biasInit.make(shape: [units], fanIn: inputSize, fanOut: units, generator: &generator),
                requiresGrad: true, name: "bias")
        }
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)].compactMap { name, v in v.map { (name, $0) } }
    }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard units > 0, invalidInputSize == nil else {
            throw RecurrentError.invalidArgument(
                "Dense: units and input size must be positive, got \(units) and \(invalidInputSize ?? 0)")
        }
        guard input.rank >= 1, let width = input.shape.last, width > 0 else {
            throw RecurrentError.shapeMismatch(operation: "Dense", expected: "[..., features]", got: input.shape)
        }
        if inputSize == nil { build(inputSize: width) }
        guard width == inputSize, let weight else {
            throw RecurrentError.shapeMismatch(
                operation: "Dense(\(units))", expected: "[..., \(inputSize ?? 0)]", got: input.shape)
        }
        let flat = input.rank == 1 ? try input.reshaped([1, width]) : input
        var output = try flat.matmul(weight, transposeOther: true)
        if let bias { output = try output + bias }
        if input.rank == 1 { output = try output.reshaped([units]) }
        return try activation(output)
    }
}

extension Dense: CustomStringConvertible {
    /// PyTorch's repr for the PyTorch face (`Linear(in_features=32, out_features=3, bias=True)`),
    /// Flux's for the Keras face (`Dense(32 => 3, relu)  # 99 parameters`).
    public var description: String {
        if convention == .pytorch {
            return "Linear(in_features=\(inputSize ?? 0), out_features=\(units), bias=\(useBias ? "True" : "False"))"
        }
        return "Dense(\(inputSize.map(String.init) ?? "?") => \(units)\(activation == .linear ? "" : ", \(activation)"))"
            + "  # \(parameterCount) parameters"
    }
}
