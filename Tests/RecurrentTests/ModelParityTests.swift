import Foundation
import Testing
@testable import Recurrent

/// Whole models against Keras and PyTorch: the same summary, the same parameter counts, and with
/// the reference's weights loaded, the same outputs. Fixtures from
/// `tools/reference/make_model_fixtures.py` (keras 3.15.1, torch 2.13.0).
@Suite struct ModelParityTests {
    static let fixtures = Result { try SafeTensors.read(path: modelsPath("keras_models.safetensors")) }
    static let torchFixtures = Result { try SafeTensors.read(path: modelsPath("torch_models.safetensors")) }

    static func modelsPath(_ file: String) throws -> String {
        guard let folder = Bundle.module.path(forResource: "models", ofType: nil, inDirectory: "Fixtures") else {
            throw RecurrentError.file(path: "Fixtures/models", problem: "not in the test bundle")
        }
        return folder + "/" + file
    }

    /// The Swift counterparts of the Keras models in the fixture, layer for layer.
    static func model(_ name: String) -> Sequential {
        switch name {
        case "simple_rnn": return Sequential { Input(shape: [10, 5]); SimpleRNN(units: 64); Dense(units: 1) }
        case "lstm": return Sequential { Input(shape: [10, 5]); LSTM(units: 64); Dense(units: 1) }
        case "gru": return Sequential { Input(shape: [10, 5]); GRU(units: 64); Dense(units: 1) }
        case "stacked_lstm":
            return Sequential { Input(shape: [10, 5]); LSTM(units: 64, returnSequences: true); LSTM(units: 32); Dense(units: 1) }
        case "bidirectional": return Sequential { Input(shape: [10, 5]); Bidirectional(LSTM(units: 64)); Dense(units: 1) }
        case "time_distributed":
            return Sequential { Input(shape: [10, 5]); LSTM(units: 64, returnSequences: true); TimeDistributed(Dense(units: 1)) }
        case "dropout_lstm":
            return Sequential {
                Input(shape: [10, 5]); LSTM(units: 64, dropout: 0.2, recurrentDropout: 0.2); Dropout(rate: 0.5); Dense(units: 1)
            }
        case "gru_classic": return Sequential { Input(shape: [10, 5]); GRU(units: 16, resetAfter: false); Dense(units: 3, activation: .softmax) }
        case "simple_rnn_classifier":
            return Sequential {
                Input(shape: [10, 5]); SimpleRNN(units: 32, returnSequences: true); SimpleRNN(units: 32)
                Dense(units: 4, activation: .softmax)
            }
        case "masking": return Sequential { Input(shape: [6, 3]); Masking(maskValue: 0); LSTM(units: 8); Dense(units: 1) }
        case "sentiment", "sentiment_masked":
            return Sequential {
                Input(shape: [8]); Embedding(inputDim: 100, outputDim: 16, maskZero: name == "sentiment_masked"); LSTM(units: 32)
                Dense(units: 24, activation: .relu); Dense(units: 1, activation: .sigmoid)
            }
        case "flatten":
            return Sequential {
                Input(shape: [4, 3]); SimpleRNN(units: 5, returnSequences: true); Flatten(); Activation(.relu); Dense(units: 2)
            }
        case "embedding_gru_bidir":
            return Sequential {
                Input(shape: [7]); Embedding(inputDim: 30, outputDim: 6, maskZero: true)
                Bidirectional(GRU(units: 5, returnSequences: true), mergeMode: .sum)
                TimeDistributed(Dense(units: 4, activation: .softmax))
            }
        case "cnn_lstm":
            return Sequential {
                Input(shape: [20, 3]); Conv1D(filters: 8, kernelSize: 3, padding: .same, activation: .relu); MaxPooling1D(poolSize: 2)
                LayerNormalization(); LSTM(units: 16); Dense(units: 1)
            }
        case "conv_causal":
            return Sequential {
                Input(shape: [12, 4]); Conv1D(filters: 6, kernelSize: 3, padding: .causal, dilationRate: 2)
                Conv1D(filters: 5, kernelSize: 4, strides: 2); MaxPooling1D(poolSize: 3, strides: 2, padding: .same)
                GlobalMaxPooling1D(); Dense(units: 2)
            }
        case "layer_norm_gru":
            return Sequential {
                Input(shape: [9, 5]); GRU(units: 10, returnSequences: true); LayerNormalization(epsilon: 1e-5, center: false)
                GlobalAveragePooling1D(); Dense(units: 3, activation: .softmax)
            }
        case "masked_pooling":
            return Sequential {
                Input(shape: [8]); Embedding(inputDim: 100, outputDim: 12, maskZero: true); LayerNormalization()
                LSTM(units: 8, returnSequences: true); GlobalAveragePooling1D(); Dense(units: 1, activation: .sigmoid)
            }
        default: fatalError("no Swift counterpart for \(name)")
        }
    }

    static let names = [
        "simple_rnn", "lstm", "gru", "stacked_lstm", "bidirectional", "time_distributed", "dropout_lstm", "gru_classic",
        "simple_rnn_classifier", "masking", "sentiment", "sentiment_masked", "flatten", "embedding_gru_bidir",
        "cnn_lstm", "conv_causal", "layer_norm_gru", "masked_pooling",
    ]

    @Test(arguments: names)
    func summaryMatchesKeras(_ name: String) throws {
        let (_, metadata) = try Self.fixtures.get()
        let model = Self.model(name)
        #expect(try model.summaryText() + "\n" == metadata["\(name).summary_text_default"])
        #expect(try model.summaryText(lineLength: 100) + "\n" == metadata["\(name).summary_text"])
        #expect(String(model.parameterCount) == metadata["\(name).total_params"])
    }

    @Test func summaryTotalsNamedInTheTutorials() throws {
        let totals = ["simple_rnn": 4545, "lstm": 17985, "gru": 13697, "stacked_lstm": 30369, "bidirectional": 35969, "time_distributed": 17985]
        for (name, total) in totals {
            let model = Self.model(name)
            try model.build()
            #expect(model.parameterCount == total, "\(name)")
        }
        #expect(try Self.model("time_distributed").layerOutputShapes().last! == [nil, 10, 1])
    }

    @Test(arguments: names)
    func kerasWeightsGiveKerasOutputs(_ name: String) throws {
        let (tensors, _) = try Self.fixtures.get()
        let model = Self.model(name)
        try model.loadKerasWeights(npz: Self.modelsPath("keras_\(name).npz"))
        let output = try model.predict(try #require(tensors["\(name).x"]))
        expectClose(output, try #require(tensors["\(name).y"]), atol: 2e-6, rtol: 2e-5, name)
        // And back out in Keras's layout.
        let arrays = try NumPy.readNPZ(path: Self.modelsPath("keras_\(name).npz")).map(\.tensor)
        #expect(try model.kerasWeights() == arrays)
    }

    final class TextClassifier: Model {
        let embedding = Embedding(numEmbeddings: 50, embeddingDim: 8, paddingIdx: 0)
        let lstm = LSTM(inputSize: 8, hiddenSize: 16, numLayers: 2, batchFirst: true, bidirectional: true)
        let fc = Dense(inputSize: 32, units: 3, initializer: .pytorch)
        override func callAsFunction(_ x: Variable) throws -> Variable {
            let (output, _) = try lstm.forward(try embedding(x))
            return try fc(try output.swappingFirstTwoAxes().selecting(output.shape[1] - 1))
        }
    }

    final class Seq2Seq: Model {
        let encoder = GRU(inputSize: 4, hiddenSize: 12, batchFirst: true)
        let decoder = GRU(inputSize: 3, hiddenSize: 12, batchFirst: true)
        let head = Dense(inputSize: 12, units: 3, initializer: .pytorch)
        override func callAsFunction(_ inputs: [Variable]) throws -> Variable {
            let (_, state) = try encoder.forward(inputs[0])
            return try head(try decoder.forward(inputs[1], state).output)
        }
    }

    static func stateDict(_ tensors: [String: Tensor], prefix: String, excluding: Set<String>) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
            guard key.hasPrefix(prefix + ".") else { return nil }
            let name = String(key.dropFirst(prefix.count + 1))
            return excluding.contains(name) ? nil : (name, value)
        })
    }

    @Test func pytorchStateDictGivesPyTorchOutputs() throws {
        let (tensors, metadata) = try Self.torchFixtures.get()
        let classifier = TextClassifier()
        try classifier.loadStateDict(Self.stateDict(tensors, prefix: "classifier", excluding: ["x", "y"]))
        expectClose(try classifier.predict(try #require(tensors["classifier.x"])), try #require(tensors["classifier.y"]),
                    atol: 2e-6, rtol: 2e-5, "classifier")
        #expect(String(describing: classifier) == metadata["repr.classifier"])
        #expect(String(classifier.parameterCount) == metadata["count.classifier"])

        let seq2seq = Seq2Seq()
        try seq2seq.loadStateDict(Self.stateDict(tensors, prefix: "seq2seq", excluding: ["source", "target", "y"]))
        let output = try seq2seq.predict([try #require(tensors["seq2seq.source"]), try #require(tensors["seq2seq.target"])])
        expectClose(output, try #require(tensors["seq2seq.y"]), atol: 2e-6, rtol: 2e-5, "seq2seq")
        #expect(String(describing: seq2seq) == metadata["repr.seq2seq"])
    }

    @Test func pytorchReprs() throws {
        let (_, metadata) = try Self.torchFixtures.get()
        let modules: [String: CustomStringConvertible] = [
            "rnn": SimpleRNN(inputSize: 10, hiddenSize: 20, numLayers: 3, batchFirst: true),
            "lstm": LSTM(inputSize: 10, hiddenSize: 20),
            "lstm_bidir": LSTM(inputSize: 10, hiddenSize: 20, numLayers: 2, dropout: 0.5, bidirectional: true),
            "gru_nobias": GRU(inputSize: 8, hiddenSize: 16, bias: false, batchFirst: true),
            "rnn_relu": SimpleRNN(inputSize: 4, hiddenSize: 8, nonlinearity: .relu),
            "lstm_proj": LSTM(inputSize: 10, hiddenSize: 20, projSize: 5),
            "linear": Dense(inputSize: 32, units: 3, initializer: .pytorch),
            "embedding": Embedding(numEmbeddings: 50, embeddingDim: 8, paddingIdx: 0),
            "dropout": Dropout(p: 0.5),
            "module_list": ModuleList([Linear(4, 4), Linear(4, 4), Linear(4, 4), Linear(4, 2)]),
        ]
        for (name, module) in modules {
            #expect(String(describing: module) == metadata["repr.\(name)"], "\(name)")
            if let module = module as? any Module {
                #expect(String(module.parameterCount) == metadata["count.\(name)"], "\(name) parameter count")
            }
        }
    }

    @Test(arguments: ["stacked_lstm", "sentiment_masked", "embedding_gru_bidir", "dropout_lstm", "cnn_lstm", "conv_causal", "masked_pooling"])
    func saveAndLoadGiveBitIdenticalPredictions(_ name: String) throws {
        let (tensors, _) = try Self.fixtures.get()
        let model = Self.model(name)
        try model.loadKerasWeights(npz: Self.modelsPath("keras_\(name).npz"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let restored = try Sequential.load(from: path)
        let x = try #require(tensors["\(name).x"])
        #expect(try restored.predict(x) == model.predict(x))
        #expect(try restored.summaryText() == model.summaryText())
        // Weights alone round-trip too, into a freshly built model of the same shape.
        let fresh = Self.model(name)
        try fresh.build()
        try model.saveWeights(to: path)
        try fresh.loadWeights(from: path)
        #expect(try fresh.predict(x) == model.predict(x))
    }
}
