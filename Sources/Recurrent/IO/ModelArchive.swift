import Foundation

/// The architecture of a `Sequential`, as saved beside its weights.
indirect enum LayerSpec: Codable {
    case dense(units: Int, activation: ActivationFunction, useBias: Bool, convention: Convention)
    case embedding(rows: Int, width: Int, maskZero: Bool, paddingIndex: Int?, convention: Convention)
    case dropout(rate: Float)
    case flatten
    case selectTimeStep(index: Int, batchFirst: Bool)
    case activation(ActivationFunction)
    case masking(maskValue: Float)
    case conv1D(filters: Int, kernelSize: Int, strides: Int, padding: TimePadding, dilationRate: Int, activation: ActivationFunction, useBias: Bool)
    case maxPooling1D(poolSize: Int, strides: Int, padding: TimePadding)
    case layerNormalization(epsilon: Float, center: Bool, scale: Bool)
    case globalMaxPooling1D
    case globalAveragePooling1D
    case timeDistributed(LayerSpec)
    case bidirectional(forward: RecurrentConfiguration, backward: RecurrentConfiguration, mergeMode: Bidirectional.MergeMode)
    case recurrent(RecurrentConfiguration)
    case sequential(name: String, inputShape: [Int?]?, layers: [LayerSpec])

    init(describing layer: any Layer) throws {
        switch layer {
        case let l as Dense: self = .dense(units: l.units, activation: l.activation, useBias: l.useBias, convention: l.convention)
        case let l as Embedding:
            self = .embedding(rows: l.inputDim, width: l.outputDim, maskZero: l.maskZero, paddingIndex: l.paddingIndex, convention: l.convention)
        case let l as Dropout: self = .dropout(rate: l.rate)
        case is Flatten: self = .flatten
        case let l as SelectTimeStep: self = .selectTimeStep(index: l.index, batchFirst: l.batchFirst)
        case let l as Activation: self = .activation(l.function)
        case let l as Masking: self = .masking(maskValue: l.maskValue)
        case let l as Conv1D:
            self = .conv1D(
                filters: l.filters, kernelSize: l.kernelSize, strides: l.strides, padding: l.padding, dilationRate: l.dilationRate,
                activation: l.activation, useBias: l.useBias)
        case let l as MaxPooling1D: self = .maxPooling1D(poolSize: l.poolSize, strides: l.strides, padding: l.padding)
        case let l as LayerNormalization: self = .layerNormalization(epsilon: l.epsilon, center: l.center, scale: l.scale)
        case is GlobalMaxPooling1D: self = .globalMaxPooling1D
        case is GlobalAveragePooling1D: self = .globalAveragePooling1D
        case let l as TimeDistributed: self = .timeDistributed(try LayerSpec(describing: l.layer))
        case let l as Bidirectional:
            self = .bidirectional(forward: l.forwardLayer.configuration, backward: l.backwardLayer.configuration, mergeMode: l.mergeMode)
        case let l as RecurrentLayer: self = .recurrent(l.configuration)
        case let l as Sequential: self = .sequential(name: l.name, inputShape: l.inputShape, layers: try l.layers.map(LayerSpec.init))
        default:
            throw RecurrentError.invalidArgument(
                "cannot save the architecture of a \(type(of: layer)) layer; save the weights with saveWeights(to:) instead")
        }
    }

    func make() -> any Layer {
        switch self {
        case let .dense(units, activation, useBias, convention):
            return Dense(units: units, activation: activation, useBias: useBias, initializer: convention)
        case let .embedding(rows, width, maskZero, paddingIndex, convention):
            return Embedding(rows: rows, width: width, maskZero: maskZero, paddingIndex: paddingIndex, convention: convention, seed: nil)
        case let .dropout(rate): return Dropout(rate: rate)
        case .flatten: return Flatten()
        case let .selectTimeStep(index, batchFirst): return SelectTimeStep(index, batchFirst: batchFirst)
        case let .activation(function): return Activation(function)
        case let .masking(value): return Masking(maskValue: value)
        case let .conv1D(filters, kernelSize, strides, padding, dilationRate, activation, useBias):
            return Conv1D(
                filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, dilationRate: dilationRate,
                activation: activation, useBias: useBias)
        case let .maxPooling1D(poolSize, strides, padding): return MaxPooling1D(poolSize: poolSize, strides: strides, padding: padding)
        case let .layerNormalization(epsilon, center, scale): return LayerNormalization(epsilon: epsilon, center: center, scale: scale)
        case .globalMaxPooling1D: return GlobalMaxPooling1D()
        case .globalAveragePooling1D: return GlobalAveragePooling1D()
        case let .timeDistributed(inner): return TimeDistributed(inner.make())
        case let .bidirectional(forward, backward, mergeMode):
            return Bidirectional(RecurrentLayer(forward), mergeMode: mergeMode, backwardLayer: RecurrentLayer(backward))
        case let .recurrent(configuration): return RecurrentLayer(configuration)
        case let .sequential(name, inputShape, layers):
            let model = Sequential(name: name, layers: (inputShape.map { [Input(shape: $0)] } ?? []) + layers.map { $0.make() })
            return model
        }
    }
}

extension LayerSpec {
    /// The largest example a saved model's input may declare (the build runs one through it).
    static let maxInputElements = 1 << 22

    /// A size the architecture declares that no file of `budget` weights could back (a layer
    /// wider than the file holds floats), or an input too large to build the model with.
    func sizeProblem(budget: Int) -> String? {
        func over(_ name: String, _ values: Int...) -> String? {
            var product = 1
            for v in values {
                let (p, overflow) = product.multipliedReportingOverflow(by: max(v, 0))
                if overflow || p > budget {
                    return "\(name) of \(values.map(String.init).joined(separator: " × ")) is larger than the file's \(budget) weights could fill"
                }
                product = p
            }
            return nil
        }
        switch self {
        case let .dense(units, _, _, _): return over("Dense units", units)
        case let .embedding(rows, width, _, _, _): return over("Embedding table", rows, width)
        case let .conv1D(filters, kernelSize, strides, _, dilationRate, _, _):
            return over("Conv1D filters", filters, kernelSize) ?? over("Conv1D strides", strides) ?? over("Conv1D dilation", dilationRate)
        case let .maxPooling1D(poolSize, strides, _): return over("MaxPooling1D pool", poolSize) ?? over("MaxPooling1D strides", strides)
        case let .recurrent(c):
            return over("recurrent layer", c.hiddenSize, c.numLayers) ?? over("recurrent input", c.inputSize ?? 0) ?? over("projection", c.projSize)
        case let .bidirectional(forward, backward, _):
            return LayerSpec.recurrent(forward).sizeProblem(budget: budget) ?? LayerSpec.recurrent(backward).sizeProblem(budget: budget)
        case let .timeDistributed(inner): return inner.sizeProblem(budget: budget)
        case let .sequential(_, inputShape, layers):
            if let inputShape {
                if let bad = inputShape.first(where: { ($0 ?? 1) < 1 }) {
                    return "the input shape \(Shape.keras([nil] + inputShape)) has an axis of \(bad!), not a positive length"
                }
                var elements = 1
                for dim in inputShape {
                    let (p, overflow) = elements.multipliedReportingOverflow(by: max(dim ?? Sequential.probeSteps.1, 0))
                    elements = overflow ? Int.max : p
                }
                if elements > Self.maxInputElements {
                    return "the input shape \(Shape.keras([nil] + inputShape)) has more than \(Self.maxInputElements) elements per example"
                }
            }
            return layers.lazy.compactMap { $0.sizeProblem(budget: budget) }.first
        default: return nil
        }
    }
}

extension Sequential {
    public static let archiveFormat = "recurrent.sequential/1"

    /// Saves the whole model in one safetensors file: the weights by name, and the architecture
    /// as JSON in the metadata (`architecture`). The file is written atomically.
    public func save(to path: String) throws {
        if !isBuilt { try build() }
        let spec = try LayerSpec(describing: self)
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        try SafeTensors.write(
            Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.variable.value) }),
            metadata: ["format": Self.archiveFormat, "architecture": json], to: path)
    }

    /// A model saved by `save(to:)`, with its weights; its predictions equal the saved model's.
    public static func load(from path: String) throws -> Sequential {
        let (tensors, metadata) = try SafeTensors.read(path: path)
        return try load(tensors: tensors, metadata: metadata, path: path)
    }

    /// A model from the tensors and metadata of a file `save(to:)` wrote, already read.
    public static func load(tensors: [String: Tensor], metadata: [String: String], path: String) throws -> Sequential {
        guard metadata["format"] == archiveFormat, let json = metadata["architecture"] else {
            throw RecurrentError.file(
                path: path, problem: "not a saved Sequential model (no \"\(archiveFormat)\" architecture in the metadata)")
        }
        if let problem = JSONShape.problem(in: json) {
            throw RecurrentError.file(path: path, problem: "architecture: \(problem)")
        }
        let spec: LayerSpec
        do {
            spec = try JSONDecoder().decode(LayerSpec.self, from: Data(json.utf8))
        } catch {
            throw RecurrentError.file(path: path, problem: "unreadable architecture: \(error)")
        }
        guard case .sequential = spec else {
            throw RecurrentError.file(path: path, problem: "the architecture is not a Sequential model")
        }
        // Building allocates what the architecture declares: no more than the file's weights can fill.
        let budget = max(tensors.values.reduce(0) { $0 + $1.count }, 1 << 16)
        if let problem = spec.sizeProblem(budget: budget) {
            throw RecurrentError.file(path: path, problem: "architecture: \(problem)")
        }
        guard let model = spec.make() as? Sequential else {
            throw RecurrentError.file(path: path, problem: "the architecture is not a Sequential model")
        }
        try model.build()
        try model.loadStateDict(tensors)
        return model
    }
}
