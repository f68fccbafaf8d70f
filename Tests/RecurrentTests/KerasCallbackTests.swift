import Foundation
import Testing
@testable import Recurrent

/// ReduceLROnPlateau, CSVLogger and TerminateOnNaN against what Keras 3.15.1's own callbacks did
/// on the same scripted logs (`tools/reference/make_keras_callback_fixtures.py` →
/// `Fixtures/keras_callbacks.json`), then inside `fit`; and `History`'s table.
@Suite struct KerasCallbackTests {
    struct Fixture: Decodable {
        struct ReduceCase: Decodable {
            struct Arguments: Decodable {
                let monitor: String?, mode: String?, factor: Double, patience: Int
                let cooldown: Int?, min_delta: Float?, min_lr: Float?
            }
            let arguments: Arguments
            let values: [Float], rates: [Double]
        }
        struct CSVCase: Decodable {
            let runs: [[[String: Float]]]
            let append: Bool
            let text: String
        }
        struct NaNCase: Decodable {
            let losses: [String]
            let stopped_after: Int?
        }
        let reduce_lr: [ReduceCase]
        let csv_logger: [CSVCase]
        let terminate_on_nan: [NaNCase]
    }

    static func fixture() throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "keras_callbacks", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// A compiled model whose optimizer starts at learning rate 1, as the fixture's did.
    static func model() -> Sequential {
        let model = Sequential { Input(shape: [2]); Dense(units: 1) }
        model.compile(optimizer: SGD(learningRate: 1), loss: .meanSquaredError)
        return model
    }

    @Test func reduceLROnPlateauMatchesKeras() throws {
        for c in try Self.fixture().reduce_lr {
            let a = c.arguments
            let mode: MonitorMode = a.mode == "max" ? .max : a.mode == "min" ? .min : .auto
            let monitor = a.monitor ?? "val_loss"
            let callback = ReduceLROnPlateau(
                monitor: monitor, factor: a.factor, patience: a.patience, mode: mode, minDelta: a.min_delta ?? 1e-4,
                cooldown: a.cooldown ?? 0, minLR: a.min_lr ?? 0)
            let model = Self.model()
            try callback.onTrainBegin(model: model)
            var rates: [Float] = []
            for (epoch, value) in c.values.enumerated() {
                try callback.onEpochEnd(epoch, logs: [monitor: value], model: model)
                rates.append(model.compiled!.optimizer.learningRate)
            }
            #expect(rates == c.rates.map { Float($0) }, "\(a)")
        }
    }

    @Test func csvLoggerWritesWhatKerasWrites() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csvlogger-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (i, c) in try Self.fixture().csv_logger.enumerated() {
            let path = directory + "/log\(i).csv"
            for (run, epochs) in c.runs.enumerated() {
                let logger = CSVLogger(path, append: c.append || run > 0)
                let model = Self.model()
                try logger.onTrainBegin(model: model)
                for (epoch, logs) in epochs.enumerated() { try logger.onEpochEnd(epoch, logs: logs, model: model) }
                try logger.onTrainEnd(model: model)
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == c.text)
        }
    }

    @Test func terminateOnNaNStopsWhereKerasStops() throws {
        for c in try Self.fixture().terminate_on_nan {
            let callback = TerminateOnNaN(), model = Self.model()
            model.progressWriter = { _ in }
            try callback.onTrainBegin(model: model)
            for (batch, loss) in c.losses.map({ Float($0)! }).enumerated() where !model.stopTraining {
                try callback.onBatchEnd(batch, logs: ["loss": loss], model: model)
            }
            #expect(callback.stoppedAfterBatch == c.stopped_after, "\(c.losses)")
        }
    }

    /// In `fit`: a diverging run ends at the first non-finite batch; the learning rate falls on a
    /// plateau; the CSV log has a row per epoch; `print(history)` is a table.
    @Test func insideFit() throws {
        var generator = SeededGenerator(seed: 3)
        let x = Tensor.randomNormal([64, 4], generator: &generator), y = Tensor.randomNormal([64, 1], generator: &generator)
        let diverging = Sequential { Input(shape: [4]); Dense(units: 1, seed: 1) }
        diverging.compile(optimizer: SGD(learningRate: 1e18), loss: .meanSquaredError)
        diverging.progressWriter = { _ in }
        let nan = TerminateOnNaN()
        let history = try diverging.fit(x, y, batchSize: 8, epochs: 5, verbose: .silent, callbacks: [nan])
        #expect(nan.stoppedAfterBatch != nil && history.epochs == [0])
        #expect(message { _ = try diverging.fit(x, y, batchSize: 8, epochs: 1, verbose: .silent, callbacks: [TerminateOnNaN(raiseError: true)]) }
                .contains("TerminateOnNaN: the loss is"))

        let model = Sequential { Input(shape: [4]); Dense(units: 1, seed: 2) }
        model.compile(optimizer: SGD(learningRate: 0.05), loss: .meanSquaredError)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fit-\(UUID()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let plateau = ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 1, minDelta: 10)
        let trained = try model.fit(
            x, y, batchSize: 16, epochs: 4, verbose: .silent, callbacks: [plateau, CSVLogger(path)], validationSplit: 0.25)
        #expect(model.compiled!.optimizer.learningRate == 0.05 / 8)
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\r\n")
        #expect(rows.count == 5 && rows[0] == "epoch,loss,val_loss")
        let table = String(describing: trained).split(separator: "\n")
        #expect(table.count == 5 && table[0] == "epoch    loss  val_loss" && table[1].hasPrefix("    1  "))
    }
}

/// `fit(sampleWeight:)` against Keras 3.15.1's fit with `sample_weight`
/// (`tools/reference/make_keras_fit_fixtures.py` → `Fixtures/keras_fit.json`).
@Suite struct SampleWeightTests {
    struct Run: Decodable {
        let initial_kernel: [[Float]], initial_bias: [Float], kernel: [[Float]], bias: [Float]
        let loss: Float
    }
    struct Fixture: Decodable {
        let x: [[Float]], y: [[Float]], labels: [Float], sample_weight: [Float]
        let regression_weighted: Run, classifier_weighted: Run
    }

    @Test func sampleWeightsTrainAsKerasTrains() throws {
        let url = try #require(Bundle.module.url(forResource: "keras_fit", withExtension: "json", subdirectory: "Fixtures"))
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let x = try Tensor(f.x), weights = Tensor(f.sample_weight)
        for (run, units, activation, loss, y) in [
            (f.regression_weighted, 1, ActivationFunction.linear, Loss.meanSquaredError, try Tensor(f.y)),
            (f.classifier_weighted, 2, .softmax, .sparseCategoricalCrossEntropy(), Tensor(f.labels)),
        ] {
            let model = Sequential { Input(shape: [2]); Dense(units: units, activation: activation) }
            try model.build()
            try model.setKerasWeights([try Tensor(run.initial_kernel), Tensor(run.initial_bias)])
            model.compile(optimizer: SGD(learningRate: 0.1), loss: loss)
            let history = try model.fit(x, y, batchSize: 4, epochs: 1, verbose: .silent, shuffle: false, sampleWeight: weights)
            let dense = try #require(model.layers.last as? Dense)
            expectClose(dense.weight!.value, try Tensor(run.kernel).transposedLastTwo(), atol: 1e-6, rtol: 1e-5, "\(loss) kernel")
            expectClose(dense.bias!.value, Tensor(run.bias), atol: 1e-6, rtol: 1e-5, "\(loss) bias")
            #expect(abs(history["loss"]![0] - run.loss) <= 1e-5 * run.loss, "\(loss) loss")
        }
        let model = Sequential { Input(shape: [2]); Dense(units: 1) }
        model.compile(optimizer: SGD(), loss: .meanSquaredError)
        #expect(message { _ = try model.fit(x, try Tensor(f.y), sampleWeight: Tensor([1, 2])) }.contains("one weight per example"))
        #expect(message { _ = try model.fit(x, try Tensor(f.y), classWeight: [0: 1], sampleWeight: weights) }.contains("not both"))
    }
}
