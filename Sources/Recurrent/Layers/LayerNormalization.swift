/// Normalises each step's features to mean 0 and variance 1, then scales by γ and shifts by β
/// (`keras.layers.LayerNormalization()`, `nn.LayerNorm(features)`), over the last axis.
/// γ starts at ones and β at zeros; the features are inferred at the first call. Passes the
/// mask on, as Keras does.
public final class LayerNormalization: MaskAware {
    public let epsilon: Float
    /// Whether β is added (Keras's `center`) and γ multiplied (`scale`).
    public let center: Bool, scale: Bool
    public private(set) var features: Int?
    /// γ and β, named as PyTorch names them.
    public private(set) var weight: Variable?, bias: Variable?

    /// Keras's defaults: ε = 1e-3.
    public init(epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true) {
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
    }

    /// PyTorch's `nn.LayerNorm(normalizedShape, eps: 1e-5)` over the last axis.
    public convenience init(_ normalizedShape: Int, eps: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.init(epsilon: eps, center: elementwiseAffine, scale: elementwiseAffine)
        build(features: normalizedShape)
    }

    func build(features: Int) {
        self.features = features
        if scale { weight = Variable(Tensor(shape: [features], repeating: 1), requiresGrad: true, name: "weight") }
        if center { bias = Variable(Tensor.zeros([features]), requiresGrad: true, name: "bias") }
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)].compactMap { name, v in v.map { (name, $0) } }
    }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard let width = input.shape.last, width > 0 else {
            throw RecurrentError.shapeMismatch(operation: "LayerNormalization", expected: "[..., features]", got: input.shape)
        }
        if features == nil { build(features: width) }
        guard width == features else {
            throw RecurrentError.shapeMismatch(
                operation: "LayerNormalization", expected: "[..., \(features ?? 0)]", got: input.shape)
        }
        var y = try input.normalizedOverLastAxis(epsilon: epsilon)
        if let weight { y = try y * weight }
        if let bias { y = try y + bias }
        return y
    }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try self(input), mask)
    }
}

/// PyTorch's name.
public typealias LayerNorm = LayerNormalization
