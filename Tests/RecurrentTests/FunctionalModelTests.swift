import Foundation
import Testing
@testable import Recurrent

/// Functional models (`Input` → layers → `Model(inputs:outputs:)`) against Keras 3.15.1: summaries,
/// parameter counts and outputs with Keras's weights (`keras_functional.safetensors`, from
/// `tools/reference/make_model_fixtures.py`, which holds the Python source of each model).
@Suite struct FunctionalModelTests {
    static let fixtures = Result { try SafeTensors.read(path: ModelParityTests.modelsPath("keras_functional.safetensors")) }

    /// The Swift counterparts of the fixture's models, written as the Python is.
    static func model(_ name: String) throws -> Model {
        switch name {
        case "two_inputs":
            let series = Input(shape: [10, 3], name: "series"), `static` = Input(shape: [4], name: "static")
            let x = try LSTM(units: 8)(series)
            let y = try Dense(units: 8, activation: .relu)(`static`)
            let joined = try Concatenate()([x, y])
            let summed = try Add()([x, y])
            return try Model(inputs: [series, `static`], outputs: try Dense(units: 1)(try Concatenate()([joined, summed])))
        case "chain":
            let a = Input(shape: [10, 3])
            return try Model(inputs: a, outputs: try Dense(units: 1)(try GRU(units: 8)(try LSTM(units: 8, returnSequences: true)(a))))
        case "residual":
            let a = Input(shape: [12, 6])
            let c = try Conv1D(filters: 6, kernelSize: 3, padding: .same, activation: .relu)(a)
            let r = try LayerNormalization()(try Add()([a, c]))
            return try Model(inputs: a, outputs: try Dense(units: 2, activation: .softmax)(try LSTM(units: 5)(r)))
        case "shared_masked":
            let question = Input(shape: [7], name: "question"), answer = Input(shape: [7], name: "answer")
            let embed = Embedding(inputDim: 40, outputDim: 6, maskZero: true)
            let encode = LSTM(units: 5)
            let both = try Concatenate()([try encode(try embed(question)), try encode(try embed(answer))])
            return try Model(inputs: [question, answer], outputs: try Dense(units: 1, activation: .sigmoid)(both))
        case "merges":
            let left = Input(shape: [5], name: "left"), right = Input(shape: [5], name: "right")
            let a = try Dense(units: 4, activation: .tanh)(left)
            let b = try Dense(units: 4, activation: .tanh)(right)
            return try Model(
                inputs: [left, right],
                outputs: try Dense(units: 1)(try Concatenate()([try Multiply()([a, b]), try Average()([a, b]), try Subtract()([a, b])])))
        default: throw RecurrentError.invalidArgument("no Swift counterpart for \(name)")
        }
    }

    static let names = ["two_inputs", "chain", "residual", "shared_masked", "merges"]

    /// Keras lists the mask computation of a masked functional model as layers of its own
    /// (`not_equal (NotEqual)`); this library keeps masks out of the layer list.
    static let summaryNames = names.filter { $0 != "shared_masked" }

    @Test(arguments: summaryNames)
    func summaryMatchesKeras(_ name: String) throws {
        let (_, metadata) = try Self.fixtures.get()
        let model = try Self.model(name)
        #expect(try model.summaryText() + "\n" == metadata["\(name).summary_text_default"])
        #expect(try model.summaryText(lineLength: 100) + "\n" == metadata["\(name).summary_text"])
    }

    @Test(arguments: names)
    func kerasWeightsGiveKerasOutputs(_ name: String) throws {
        let (tensors, metadata) = try Self.fixtures.get()
        let model = try Self.model(name)
        #expect(String(model.parameterCount) == metadata["\(name).total_params"])
        try model.loadKerasWeights(npz: ModelParityTests.modelsPath("keras_\(name).npz"))
        let inputs = (0...).lazy.map { tensors["\(name).x\($0)"] }.prefix { $0 != nil }.compactMap { $0 }
        let output = try model.predict(Array(inputs))
        expectClose(output, try #require(tensors["\(name).y"]), atol: 2e-6, rtol: 2e-5, name)
        let arrays = try NumPy.readNPZ(path: ModelParityTests.modelsPath("keras_\(name).npz")).map(\.tensor)
        #expect(try model.kerasWeights() == arrays)
    }

    @Test func layersAreNamedAndOrderedAsKerasDoes() throws {
        let model = try Self.model("two_inputs")
        #expect(model.children.map(\.name) == ["lstm", "dense", "concatenate", "add", "concatenate_1", "dense_1"])
        #expect(model.namedParameters.map(\.name).prefix(3) == ["lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0"])
    }

    @Test func trainsEndToEnd() throws {
        // Two inputs through fit: the loss falls, and gradients reach both branches.
        setRandomSeed(11)
        let model = try Self.model("two_inputs")
        var generator = SeededGenerator(seed: 2)
        let series = Tensor.randomNormal([64, 10, 3], generator: &generator), stat = Tensor.randomNormal([64, 4], generator: &generator)
        let target = try Tensor(shape: [64, 1], scalars: (0..<64).map { b in series.scalars[b * 30] + stat.scalars[b * 4] })
        model.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
        let history = try model.fit([series, stat], target, batchSize: 16, epochs: 12, verbose: .silent)
        let losses = try #require(history.history["loss"])
        #expect(losses.last! < losses.first! * 0.5)
    }

    @Test func badGraphsAreNamed() throws {
        let a = Input(shape: [4], name: "a"), b = Input(shape: [4], name: "b"), c = Input(shape: [3])
        #expect(message { _ = try Model(inputs: [a], outputs: try Add()([a, b])) }
            .contains("the output depends on an Input of shape (None, 4) (\"b\") that is not among the model's inputs"))
        #expect(message { _ = try Model(inputs: [a, b], outputs: try Dense(units: 1)(a)) }
            .contains("does not depend on the input of shape (None, 4) (\"b\")"))
        #expect(message { _ = try Add()([a, c]) }.contains("Add called on (None, 4), (None, 3): Add: needs at least two inputs of one shape"))
        #expect(message { _ = try LSTM(units: 2)(a) }.contains("LSTM called on (None, 4):"))
        let model = try Model(inputs: [a, b], outputs: try Add()([a, b]))
        #expect(message { _ = try model.predict([Tensor.zeros([2, 4])]) }.contains("takes 2 inputs, got 1"))
        #expect(message { _ = try model.predict([Tensor.zeros([2, 4]), Tensor.zeros([2, 5])]) }.contains("expected shape [batch, 4], got [2, 5]"))
    }
}
