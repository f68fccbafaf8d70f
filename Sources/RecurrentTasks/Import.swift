import Foundation
import Recurrent

/// Models trained elsewhere: an `Architecture` built as a `Sequential` and given the weights
/// PyTorch (`safetensors.torch.save_file(model.state_dict(), path)`) or Keras
/// (`np.savez(path, *model.get_weights())`) saved.
enum ImportedModel {
    static func build(_ architecture: Architecture) throws -> Sequential {
        guard architecture.framework == .pytorch else { return Sequential(layers: try kerasLayers(architecture.modules)) }
        let layers = try pytorchLayers(architecture.modules)
        // The input shape without the first axis (the batch, or the time of a time-major layer).
        let shape: [Int?]
        switch layers.first {
        case is Embedding: shape = [nil]
        case let rnn as RecurrentLayer: shape = [nil, rnn.inputSize]
        case let linear as Dense: shape = [linear.inputSize]
        default: throw Architecture.fail("a PyTorch architecture starts with embedding, lstm, gru, rnn or linear (what takes the input)")
        }
        let model = Sequential(layers: layers)
        do {
            try model.build(inputShape: shape)
        } catch {
            throw Architecture.fail("its modules do not fit together: \(error)")
        }
        return model
    }

    static func pytorchLayers(_ modules: [Architecture.Module]) throws -> [any Layer] {
        var batchFirst = false
        return try modules.map { module -> any Layer in
            var o = ModuleOptions(module)
            _ = try o.string("name")
            let layer: any Layer
            switch module.kind {
            case "embedding":
                let rows = try o.int("num", "num_embeddings"), width = try o.int("dim", "embedding_dim")
                let padding = try o.optionalInt("padding_idx")
                if let padding, !(-rows..<rows).contains(padding) { throw o.fail("padding_idx=\(padding) is outside 0..<\(rows)") }
                layer = Embedding(numEmbeddings: rows, embeddingDim: width, paddingIdx: padding.map { $0 < 0 ? rows + $0 : $0 }, seed: 0)
            case "lstm", "gru", "rnn":
                let input = try o.int("input", "input_size"), hidden = try o.int("hidden", "hidden_size")
                let layers = try o.int("layers", "num_layers", default: 1)
                let bias = try o.bool("bias", default: true), bidirectional = try o.bool("bidirectional")
                batchFirst = try o.bool("batch_first")
                let dropout = try o.float("dropout", default: 0)
                switch module.kind {
                case "lstm":
                    let proj = try o.int("proj", "proj_size", default: 0, minimum: 0)
                    layer = LSTM(inputSize: input, hiddenSize: hidden, numLayers: layers, bias: bias, batchFirst: batchFirst,
                                 dropout: dropout, bidirectional: bidirectional, projSize: proj, seed: 0)
                case "gru":
                    layer = GRU(inputSize: input, hiddenSize: hidden, numLayers: layers, bias: bias, batchFirst: batchFirst,
                                dropout: dropout, bidirectional: bidirectional, seed: 0)
                default:
                    let nonlinearity = try o.string("nonlinearity") ?? "tanh"
                    guard ["tanh", "relu"].contains(nonlinearity) else { throw o.fail("nonlinearity=\(nonlinearity) is not tanh or relu") }
                    layer = SimpleRNN(inputSize: input, hiddenSize: hidden, numLayers: layers, nonlinearity: nonlinearity == "relu" ? .relu : .tanh,
                                      bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, seed: 0)
                }
            case "linear":
                layer = Dense(inputSize: try o.int("in", "in_features"), units: try o.int("out", "out_features"),
                              useBias: try o.bool("bias", default: true), initializer: .pytorch, seed: 0)
            case "last":
                layer = SelectTimeStep(-1, batchFirst: try o.bool("batch_first", default: batchFirst))
            case "dropout":
                layer = Dropout(rate: try o.float("p", "rate", default: 0.5))
            default:
                layer = Activation(ActivationFunction(rawValue: module.kind)!)
            }
            try o.finish()
            return layer
        }
    }

    static func kerasLayers(_ modules: [Architecture.Module]) throws -> [any Layer] {
        guard let first = modules.first, first.kind == "input" else {
            throw Architecture.fail("a Keras architecture starts with its input shape, e.g. \"input:10x5\" (10 steps of 5 features) or \"input:?x5\"")
        }
        return try modules.map { module -> any Layer in
            var o = ModuleOptions(module)
            let layer: any Layer
            switch module.kind {
            case "input":
                guard module.position == 1 else { throw o.fail("only the first module is the input") }
                let shape = o.positional()
                guard shape.count == 1 else { throw o.fail("give one shape, e.g. input:10x5 (steps x features; ? for any number of steps)") }
                layer = Input(shape: try shape[0].split(separator: "x").map { d -> Int? in
                    if d == "?" || d == "none" { return nil }
                    guard let n = Int(d), n > 0 else { throw o.fail("\"\(d)\" in \(shape[0]) is not a positive size or ?") }
                    return n
                })
            case "embedding":
                layer = Embedding(inputDim: try o.int("input_dim"), outputDim: try o.int("output_dim"), maskZero: try o.bool("mask_zero"), seed: 0)
            case "lstm", "gru", "simple_rnn":
                let units = try o.int("units")
                let activation: ActivationFunction = try o.choice("activation", default: .tanh)
                let useBias = try o.bool("use_bias", default: true)
                let (sequences, backwards) = (try o.bool("return_sequences"), try o.bool("go_backwards"))
                let recurrent: RecurrentLayer
                switch module.kind {
                case "lstm":
                    recurrent = LSTM(units: units, activation: activation, recurrentActivation: try o.choice("recurrent_activation", default: .sigmoid),
                                     useBias: useBias, returnSequences: sequences, goBackwards: backwards, seed: 0)
                case "gru":
                    recurrent = GRU(units: units, activation: activation, recurrentActivation: try o.choice("recurrent_activation", default: .sigmoid),
                                    useBias: useBias, resetAfter: try o.bool("reset_after", default: true), returnSequences: sequences,
                                    goBackwards: backwards, seed: 0)
                default:
                    recurrent = SimpleRNN(units: units, activation: activation, useBias: useBias, returnSequences: sequences, goBackwards: backwards, seed: 0)
                }
                if try o.bool("bidirectional") {
                    layer = Bidirectional(recurrent, mergeMode: try o.choice("merge_mode", default: .concat))
                } else {
                    layer = recurrent
                }
            case "dense":
                layer = Dense(units: try o.int("units"), activation: try o.choice("activation", default: .linear),
                              useBias: try o.bool("use_bias", default: true), seed: 0)
            case "masking":
                layer = Masking(maskValue: try o.float("mask_value", default: 0))
            case "flatten":
                layer = Flatten()
            case "dropout":
                layer = Dropout(rate: try o.float("rate", default: 0.5))
            case "activation":
                let names = o.positional()
                guard names.count == 1, let function = ActivationFunction(rawValue: names[0]) else {
                    throw o.fail("give the function, e.g. activation:relu (one of \(ActivationFunction.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                layer = Activation(function)
            default:
                layer = Activation(ActivationFunction(rawValue: module.kind)!)
            }
            try o.finish()
            return layer
        }
    }

    /// The file's tensors under the model's own parameter names, each checked against the module
    /// that takes it. A module's tensors are found under its `name=`, else under the file's only
    /// module (a bare `nn.LSTM`), its `nn.Sequential` index, or its kind.
    static func pytorchStateDict(_ tensors: [String: Tensor], for model: Sequential, _ architecture: Architecture, path: String) throws -> [String: Tensor] {
        let prefixes = Set(tensors.keys.map { key in key.split(separator: ".").dropLast().joined(separator: ".") })
        let hint = prefixes == [""] ? "" : "; the file's modules: " + prefixes.sorted().joined(separator: ", ")
        var renamed: [String: Tensor] = [:], used: Set<String> = []
        for (index, module) in architecture.modules.enumerated() {
            let layer = model.layers[index]
            guard !layer.namedParameters.isEmpty else { continue }
            let given = module.options.first { $0.key == "name" }?.value
            let prefix = given ?? (prefixes == [""] ? "" : prefixes.allSatisfy { Int($0) != nil } ? String(index) : module.kind)
            for (name, variable) in layer.namedParameters {
                let key = prefix.isEmpty ? name : prefix + "." + name
                guard let tensor = tensors[key] else {
                    throw RecurrentError.file(
                        path: path, problem: "has no \(key) \(Shape.describe(variable.shape)) for module \(module.position) (\(module.kind))"
                            + (given == nil && !prefixes.contains(prefix) ? " (give the module name=...)" : "") + hint)
                }
                guard tensor.shape == variable.shape else {
                    throw RecurrentError.file(
                        path: path, problem: "\(key) is \(Shape.describe(tensor.shape)) but module \(module.position) (\(module.kind)) takes \(Shape.describe(variable.shape))")
                }
                renamed[model.layerNames[index] + "." + name] = tensor
                used.insert(key)
            }
        }
        if let extra = tensors.keys.sorted().first(where: { !used.contains($0) }) {
            throw RecurrentError.file(path: path, problem: "\(extra) \(Shape.describe(tensors[extra]!.shape)) belongs to no module of --arch" + hint)
        }
        return renamed
    }
}

/// What `recurrent import` wrote.
public struct ImportRun: Sendable {
    public var directory: String
    public var parameterCount: Int
    public var summary: String
}

extension Tasks {
    /// Builds `architecture` in the framework's conventions, loads the weights file, and writes a
    /// model directory that `predict` runs on `.npy` tensors.
    public static func importModel(
        framework: Framework, weights: String, architecture text: String, out: String,
        commandLine: [String] = CommandLine.arguments
    ) throws -> ImportRun {
        let architecture = try Architecture(text, framework: framework)
        let model = try ImportedModel.build(architecture)
        let lowered = weights.lowercased()
        switch framework {
        case .pytorch:
            if [".pt", ".pth", ".bin", ".ckpt"].contains(where: lowered.hasSuffix) {
                throw RecurrentError.file(
                    path: weights, problem: "is a pickle, which can run code when read; save the weights with "
                        + "safetensors.torch.save_file(model.state_dict(), \"model.safetensors\")")
            }
            let tensors = try SafeTensors.load(path: weights)
            try model.loadStateDict(try ImportedModel.pytorchStateDict(tensors, for: model, architecture, path: weights))
        case .keras:
            try model.build()
            do {
                try model.loadKerasWeights(npz: weights)
            } catch let error as RecurrentError {
                if case .file = error { throw error }
                throw RecurrentError.file(path: weights, problem: "does not fit --arch: \(error)")
            }
        }
        model.eval()
        try ModelDirectory.checkReplaceable(out)
        try ModelDirectory.writing(out) { partial in
            try model.save(to: partial + "/" + ModelDirectory.modelFile)
            let run = JSON.object([
                ("command_line", .array(commandLine.map(JSON.string))),
                ("task", .string(ModelDirectory.importedTask)),
                ("framework", .string(framework.rawValue)),
                ("weights", .string(weights)),
                ("architecture", .string(text)),
                ("parameters", .number(Double(model.parameterCount))),
                ("versions", .object([("recurrent", .string(Recurrent.version))])),
            ])
            try ModelDirectory.write(run.rendered() + "\n", to: partial + "/run.json")
        }
        return ImportRun(directory: out, parameterCount: model.parameterCount, summary: try model.summaryText())
    }
}
