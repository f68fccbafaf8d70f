/// A stack of layers, each feeding the next (`keras.Sequential`, `nn.Sequential`).
///
/// ```swift
/// let model = Sequential {
///     Input(shape: [10, 5])
///     LSTM(units: 64)
///     Dense(units: 1)
/// }
/// try model.summary()
/// ```
/// Masks flow from `Embedding(maskZero: true)` or `Masking` through the layers that accept
/// them (recurrent layers, `Bidirectional`, `TimeDistributed`, `Dense`, `Dropout`, `Activation`).
/// Layers are named as Keras names them (`lstm`, `dense`, `dense_1`); parameters are named
/// `lstm.weight_ih_l0`, `dense.bias`, ….
public final class Sequential: Model, MaskAware {
    public let name: String
    public private(set) var layers: [any Layer] = []
    public private(set) var layerNames: [String] = []
    /// One example's shape (no batch axis); nil entries are free (a variable number of steps).
    /// Known from a leading `Input`, or from the first call.
    public private(set) var inputShape: [Int?]?
    /// Whether every layer has its weights (after a call or `build()`).
    public private(set) var isBuilt = false
    /// Whether `inputShape` was declared with `Input` (and is enforced) or inferred.
    private var inputDeclared = false
    /// Set by `fit(bucketing: true)`, whose batches lose padding steps: fewer steps than declared pass.
    var bucketedSteps = false

    public init(name: String = "sequential", @SequentialBuilder _ content: () -> [any Layer]) {
        self.name = name
        super.init()
        for layer in content() { add(layer) }
    }

    public init(name: String = "sequential", layers: [any Layer]) {
        self.name = name
        super.init()
        for layer in layers { add(layer) }
    }

    /// PyTorch face: `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))`. Layers are
    /// named by position, as PyTorch names them (`0.weight`, `2.bias`).
    public init(_ first: any Layer, _ rest: any Layer...) {
        name = "sequential"
        namesByPosition = true
        super.init()
        for layer in [first] + rest { add(layer) }
    }

    /// Set by the PyTorch-style initialiser: layers are named "0", "1", … instead of Keras's names.
    private var namesByPosition = false

    /// Appends a layer (`model.add(...)`). An `Input` first in line declares the input shape.
    public func add(_ layer: any Layer) {
        if let input = layer as? Input, layers.isEmpty, inputShape == nil {
            inputShape = input.shape
            inputDeclared = true
            return
        }
        layerNames.append(
            namesByPosition ? String(layers.count) : Self.uniqueName(Self.snakeCase(Self.typeName(of: layer)), taken: layerNames))
        layers.append(layer)
    }

    public override var children: [(name: String, module: any Module)] {
        zip(layerNames, layers).map { ($0, $1 as any Module) }
    }

    public override func callAsFunction(_ input: Variable) throws -> Variable {
        try call(input, mask: nil).output
    }

    public override func callAsFunction(_ inputs: [Variable]) throws -> Variable {
        guard inputs.count == 1 else {
            throw RecurrentError.invalidArgument("Sequential \"\(name)\" takes one input, got \(inputs.count)")
        }
        return try self(inputs[0])
    }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        try checkInput(input.shape)
        var x = input, mask = mask
        for layer in layers { (x, mask) = try Self.apply(layer, x, mask: mask) }
        isBuilt = true
        return (x, mask)
    }

    /// One layer's step: mask-aware layers take and pass the mask; others end it.
    private static func apply(_ layer: any Layer, _ x: Variable, mask: Tensor?) throws -> (Variable, Tensor?) {
        if let aware = layer as? MaskAware { return try aware.call(x, mask: mask) }
        return (try layer(x), nil)
    }

    private func checkInput(_ shape: [Int]) throws {
        guard let inputShape else {
            inputShape = shape.dropFirst().map { $0 }
            return
        }
        let fits = shape.count == inputShape.count + 1
            && zip(shape.dropFirst(), inputShape).enumerated().allSatisfy { axis, dims in
                dims.1 == nil || dims.0 == dims.1 || (axis == 0 && bucketedSteps && dims.0 <= dims.1!)
            }
        // An inferred shape pins the rank and the feature axis: sequence lengths may vary between calls.
        let featuresFit = shape.count == inputShape.count + 1 && (inputShape.count < 2 || shape.last == inputShape.last!)
        guard inputDeclared ? fits : featuresFit else {
            throw RecurrentError.shapeMismatch(
                operation: "Sequential \"\(name)\" input",
                expected: "[batch" + inputShape.map { ", \($0.map(String.init) ?? "any")" }.joined() + "]", got: shape)
        }
    }

    // MARK: Building

    /// Creates the weights of layers that infer their input size, by running one example of
    /// zeros through the model. Needs the input shape (an `Input` first, or an earlier call).
    public func build() throws {
        _ = try layerOutputShapes()
    }

    /// Declares the input shape (without the batch axis) and builds.
    public func build(inputShape shape: [Int?]) throws {
        inputShape = shape
        inputDeclared = true
        try build()
    }

    /// The lengths tried for a free axis: long enough for convolution and pooling windows, and
    /// far enough apart that pooling does not map both to one length.
    static let probeSteps = (23, 37)

    /// Each layer's output shape, with nil for the batch axis and for axes that follow a free
    /// input axis (found by running two probe lengths).
    func layerOutputShapes() throws -> [[Int?]] {
        guard let inputShape else {
            throw RecurrentError.invalidArgument(
                "Sequential \"\(name)\": the input shape is not known yet; start the model with Input(shape:) "
                    + "or call it on data first")
        }
        if let bad = inputShape.first(where: { ($0 ?? 1) < 1 }) {
            throw RecurrentError.invalidArgument(
                "Sequential \"\(name)\": the input shape \(Shape.keras([nil] + inputShape)) has an axis of \(bad!), not a positive length")
        }
        func probe(_ free: Int) throws -> [[Int]] {
            try withoutGradients {
                let wasTraining = isTraining
                isTraining = false
                defer { isTraining = wasTraining }
                var x = Variable(Tensor.zeros([1] + inputShape.map { $0 ?? free }))
                var mask: Tensor?
                var shapes: [[Int]] = []
                for layer in layers {
                    (x, mask) = try Self.apply(layer, x, mask: mask)
                    shapes.append(x.shape)
                }
                return shapes
            }
        }
        let first = try probe(Self.probeSteps.0), second = inputShape.contains(nil) ? try probe(Self.probeSteps.1) : first
        return zip(first, second).map { a, b in
            [nil] + zip(a.dropFirst(), b.dropFirst()).map { $0 == $1 ? $0 : nil }
        }
    }

    // MARK: Names

    static func typeName(of layer: any Layer) -> String {
        (layer as? RecurrentLayer)?.name ?? String(describing: type(of: layer))
    }

    /// Keras's numbering of layers of one kind: `lstm`, `lstm_1`, `lstm_2`, ….
    static func uniqueName(_ base: String, taken names: [String]) -> String {
        let taken = names.filter { $0 == base || $0.hasPrefix(base + "_") && Int($0.dropFirst(base.count + 1)) != nil }
        return taken.isEmpty ? base : "\(base)_\(taken.count)"
    }

    /// Keras's `to_snake_case`: `SimpleRNN` → `simple_rnn`, `TimeDistributed` → `time_distributed`,
    /// `Conv1D` → `conv1d`.
    static func snakeCase(_ name: String) -> String {
        name.replacing(/(.)([A-Z][a-z]+)/) { "\($0.1)_\($0.2)" }
            .replacing(/([a-z])([A-Z])/) { "\($0.1)_\($0.2)" }
            .lowercased()
    }
}

/// Lets `Sequential { … }` list layers, with `if`, `if/else` and `for` loops.
@resultBuilder
public enum SequentialBuilder {
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    public static func buildEither(first: [any Layer]) -> [any Layer] { first }
    public static func buildEither(second: [any Layer]) -> [any Layer] { second }
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}
