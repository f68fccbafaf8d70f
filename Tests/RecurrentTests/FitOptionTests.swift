import Foundation
import Testing
@testable import Recurrent

/// BackupAndRestore, ModelCheckpoint's restore of the best epoch, and per-example lengths in fit.
@Suite struct FitOptionTests {
    struct Interrupted: Error {}

    static func data(count: Int = 48, steps: Int = 6) -> (x: Tensor, y: Tensor) {
        var generator = SeededGenerator(seed: 21)
        let x = Tensor.randomNormal([count, steps, 3], generator: &generator)
        let y = try! Tensor(shape: [count, 1], scalars: (0..<count).map { b in x.scalars[b * steps * 3] - x.scalars[b * steps * 3 + 4] })
        return (x, y)
    }

    static func model(seed: UInt64 = 5, masking: Bool = false) -> Sequential {
        Sequential {
            Input(shape: [6, 3])
            if masking { Masking(maskValue: 0) }
            LSTM(units: 5, seed: seed)
            Dense(units: 1, seed: seed + 1)
        }
    }

    static func scratch() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fit-options-\(UUID())").path
    }

    @Test func backupAndRestoreResumesAsIfUninterrupted() throws {
        try ForcedISA.unchanged { try backupAndRestore() }
    }

    func backupAndRestore() throws {
        let (x, y) = Self.data()
        let straight = Self.model()
        straight.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
        let full = try straight.fit(x, y, batchSize: 8, epochs: 5, verbose: .silent, validationSplit: 0.25, seed: 3)

        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let resumed = Self.model()
        resumed.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
        let backup = BackupAndRestore(backupDirectory: directory)
        let crash = LambdaCallback(onEpochEnd: { epoch, _ in if epoch == 2 { throw Interrupted() } })
        #expect(throws: Interrupted.self) {
            try resumed.fit(x, y, batchSize: 8, epochs: 5, verbose: .silent, callbacks: [backup, crash], validationSplit: 0.25, seed: 3)
        }
        #expect(FileManager.default.fileExists(atPath: backup.file))
        // A fresh process would start from a fresh model and optimizer: so does this.
        let restarted = Self.model(seed: 99)
        restarted.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
        let rest = try restarted.fit(x, y, batchSize: 8, epochs: 5, verbose: .silent, callbacks: [backup], validationSplit: 0.25, seed: 3)
        #expect(backup.resumedAtEpoch == 3)
        #expect(rest.epochs == [3, 4])
        #expect(rest.history["val_loss"]! == Array(full.history["val_loss"]!.suffix(2)))
        #expect(restarted.stateDict() == straight.stateDict())
        #expect(!FileManager.default.fileExists(atPath: directory))  // a finished run deletes its backup
    }

    @Test func backupThatDoesNotFitIsNamed() throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (x, y) = Self.data()
        let first = Self.model()
        first.compile(optimizer: SGD(learningRate: 0.1), loss: .meanSquaredError)
        let crash = LambdaCallback(onEpochEnd: { _, _ in throw Interrupted() })
        _ = try? first.fit(x, y, epochs: 2, verbose: .silent, callbacks: [BackupAndRestore(backupDirectory: directory), crash])
        let other = Sequential { Input(shape: [6, 3]); GRU(units: 4); Dense(units: 1) }
        other.compile(optimizer: SGD(learningRate: 0.1), loss: .meanSquaredError)
        #expect(message { try other.fit(x, y, epochs: 2, verbose: .silent, callbacks: [BackupAndRestore(backupDirectory: directory)]) }
            .contains("the backup does not fit this model"))
    }

    @Test func checkpointRestoresTheBestEpoch() throws {
        try ForcedISA.unchanged { try checkpointRestores() }
    }

    func checkpointRestores() throws {
        let (x, y) = Self.data()
        let model = Self.model()
        model.compile(optimizer: Adam(learningRate: 0.05), loss: .meanSquaredError)
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var weightsByEpoch: [[String: Tensor]] = []
        let record = LambdaCallback(onEpochEnd: { _, _ in weightsByEpoch.append(model.stateDict()) })
        let checkpoint = ModelCheckpoint(path: directory + "/best.safetensors", saveBestOnly: true, restoreBestAtEnd: true)
        let history = try model.fit(
            x, y, batchSize: 8, epochs: 8, verbose: .silent, callbacks: [record, checkpoint], validationSplit: 0.25, seed: 4)
        let losses = try #require(history.history["val_loss"])
        let best = losses.indices.min { losses[$0] < losses[$1] }!
        #expect(checkpoint.savedEpoch == best)
        #expect(model.stateDict() == weightsByEpoch[best])
        #expect(message { try ModelCheckpoint(path: "x", restoreBestAtEnd: true).onTrainBegin(model: model) }
            .contains("restoreBestAtEnd needs saveBestOnly"))
    }

    @Test func lengthsTrainAsAMaskingLayerDoes() throws {
        try ForcedISA.unchanged { try lengthsAsMasking() }
    }

    func lengthsAsMasking() throws {
        // Padding after each example's length: zeros for the Masking model, junk for the lengths model,
        // which must never see it.
        var (x, y) = Self.data()
        let lengths = (0..<48).map { 2 + $0 % 5 }
        var junk = x
        x.withUnsafeMutableBufferPointer { p in
            junk.withUnsafeMutableBufferPointer { j in
                for b in 0..<48 { for t in lengths[b]..<6 { for f in 0..<3 { p[(b * 6 + t) * 3 + f] = 0; j[(b * 6 + t) * 3 + f] = 7 } } }
            }
        }
        y = try Tensor(shape: [48, 1], scalars: y.scalars)
        let masked = Self.model(masking: true), withLengths = Self.model()
        try masked.build()
        try withLengths.build()
        try withLengths.loadStateDict(masked.stateDict())
        for model in [masked, withLengths] { model.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError) }
        let a = try masked.fit(x, y, batchSize: 8, epochs: 3, verbose: .silent, validationSplit: 0.25, seed: 8)
        let b = try withLengths.fit(junk, y, batchSize: 8, epochs: 3, verbose: .silent, validationSplit: 0.25, lengths: lengths, seed: 8)
        #expect(a.history["val_loss"]! == b.history["val_loss"]!)
        #expect(masked.stateDict() == withLengths.stateDict())
        #expect(try masked.predict(x) == withLengths.predict(junk, lengths: lengths))
        #expect(try masked.evaluate(x, y)["loss"] == withLengths.evaluate(junk, y, lengths: lengths)["loss"])
    }

    @Test func badLengthsAreNamed() throws {
        let (x, y) = Self.data()
        let model = Self.model()
        model.compile(optimizer: SGD(), loss: .meanSquaredError)
        #expect(message { try model.fit(x, y, verbose: .silent, lengths: [3]) }.contains("1 lengths for 48 examples"))
        #expect(message { try model.fit(x, y, verbose: .silent, lengths: (0..<48).map { $0 == 5 ? 7 : 2 }) }
            .contains("example 5 has length 7, outside 1...6"))
        #expect(message { _ = try model.predict(x, lengths: Array(repeating: 0, count: 48)) }.contains("example 0 has length 0"))
        #expect(message { try model.fit(x, y, verbose: .silent, validationLengths: [2]) }.contains("validationLengths given without validationData"))
    }
}

/// A functional model with the CNN-LSTM layers trained one epoch as Keras 3.15.1 trains it, from
/// Keras's initial weights (`keras_fit.json`, "functional_cnn_lstm").
@Suite struct FunctionalTrainingTests {
    /// A JSON array of any depth, as a tensor.
    struct NestedArray: Decodable {
        let tensor: Tensor
        init(from decoder: Decoder) throws {
            func read(_ container: inout UnkeyedDecodingContainer) throws -> (shape: [Int], scalars: [Float]) {
                var parts: [(shape: [Int], scalars: [Float])] = []
                while !container.isAtEnd {
                    if let scalar = try? container.decode(Float.self) {
                        parts.append(([], [scalar]))
                    } else {
                        var inner = try container.nestedUnkeyedContainer()
                        parts.append(try read(&inner))
                    }
                }
                return ([parts.count] + (parts.first?.shape ?? []), parts.flatMap(\.scalars))
            }
            var container = try decoder.unkeyedContainer()
            let (shape, scalars) = try read(&container)
            tensor = try Tensor(shape: shape, scalars: scalars)
        }
    }

    struct Run: Decodable {
        let series: NestedArray, `static`: NestedArray, y: NestedArray
        let initial: [NestedArray], final: [NestedArray]
        let loss: Float
    }

    @Test func trainsAsKerasTrains() throws {
        let url = try #require(Bundle.module.url(forResource: "keras_fit", withExtension: "json", subdirectory: "Fixtures"))
        struct File: Decodable { let functional_cnn_lstm: Run }
        let run = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).functional_cnn_lstm

        let series = Input(shape: [8, 3], name: "series"), `static` = Input(shape: [2], name: "static")
        var x = try Conv1D(filters: 4, kernelSize: 3, padding: .causal, activation: .relu)(series)
        x = try MaxPooling1D(poolSize: 2)(x)
        x = try LayerNormalization()(x)
        x = try LSTM(units: 4)(x)
        let s = try Dense(units: 4, activation: .tanh)(`static`)
        let model = try Model(inputs: [series, `static`], outputs: try Dense(units: 1)(try Concatenate()([x, s])))

        try model.setKerasWeights(run.initial.map(\.tensor))
        model.compile(optimizer: SGD(learningRate: 0.1), loss: .meanSquaredError)
        let history = try model.fit([run.series.tensor, run.static.tensor], run.y.tensor, batchSize: 4, epochs: 1, verbose: .silent, shuffle: false)
        for (index, (ours, keras)) in zip(try model.kerasWeights(), run.final.map(\.tensor)).enumerated() {
            expectClose(ours, keras, atol: 2e-6, rtol: 2e-5, "weight \(index)")
        }
        #expect(abs(history["loss"]![0] - run.loss) <= 1e-5 * run.loss)
    }
}
