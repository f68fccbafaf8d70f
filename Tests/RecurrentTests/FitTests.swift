import Foundation
import Testing
@testable import Recurrent

/// compile / fit / evaluate / predict, callbacks and the progress display.
@Suite struct FitTests {
    /// A seeded sequence-regression task: y = mean of the first feature over the sequence.
    static func regressionData(count: Int, seed: UInt64) throws -> (x: Tensor, y: Tensor) {
        let x = random([count, 6, 2], seed: seed)
        let y = try x.rows(at: Array(0..<count)).reshaped([count, 6, 2]).scalars
        let targets = (0..<count).map { n in (0..<6).reduce(Float(0)) { $0 + y[n * 12 + $1 * 2] } / 6 }
        return (x, try Tensor(shape: [count, 1], scalars: targets))
    }

    static func silentModel(seed: UInt64) -> Sequential {
        let model = withRandomSeed(seed) {
            Sequential {
                Input(shape: [6, 2])
                GRU(units: 8)
                Dense(units: 1)
            }
        }
        model.progressWriter = { _ in }
        return model
    }

    @Test func fitLowersTheLossAndRecordsHistory() throws {
        let (x, y) = try Self.regressionData(count: 64, seed: 1)
        let model = Self.silentModel(seed: 2)
        model.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError, metrics: [.meanAbsoluteError])
        let before = try model.evaluate(x, y)
        let history = try model.fit(x, y, batchSize: 16, epochs: 15, validationSplit: 0.25, seed: 3)
        #expect(history.epochs == Array(0..<15))
        #expect(Set(history.history.keys) == ["loss", "mae", "val_loss", "val_mae"])
        let losses = try #require(history["loss"])
        #expect(losses.last! < losses.first! / 3)
        let after = try model.evaluate(x, y)
        #expect(after["loss"]! < before["loss"]! / 3)
        #expect(try model.predict(x, batchSize: 10).shape == [64, 1])
        // evaluate's loss is the batch-size-weighted mean of per-batch losses, whatever the batching.
        let whole = try model.evaluate(x, y, batchSize: 64)["loss"]!
        #expect(abs(try model.evaluate(x, y, batchSize: 7)["loss"]! - whole) < 1e-5 * max(whole, 1))
    }

    @Test func seededFitIsReproducible() throws {
        let (x, y) = try Self.regressionData(count: 40, seed: 4)
        func run() throws -> [Float] {
            let model = Self.silentModel(seed: 5)
            model.compile(optimizer: Adam(), loss: .meanSquaredError)
            return try model.fit(x, y, batchSize: 8, epochs: 3, seed: 6)["loss"]!
        }
        // Bit-for-bit when nothing else runs; other tests running at once can make a product run
        // on one thread rather than two, which may change the last bit of a sum.
        let (a, b) = (try run(), try run())
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(abs($1), 1e-3) })
    }

    @Test func accuracyFollowsKerasInference() {
        #expect(Metric.accuracy.resolved(prediction: [4, 1], target: [4, 1], loss: .meanSquaredError) == .binaryAccuracy())
        #expect(Metric.accuracy.resolved(prediction: [4, 3], target: [4], loss: .meanSquaredError) == .sparseCategoricalAccuracy)
        #expect(Metric.accuracy.resolved(prediction: [4, 3], target: [4, 1], loss: .meanSquaredError) == .sparseCategoricalAccuracy)
        #expect(Metric.accuracy.resolved(prediction: [4, 3], target: [4, 3], loss: .meanSquaredError) == .categoricalAccuracy)
        #expect(Metric.accuracy.resolved(prediction: [4, 1], target: [4, 1], loss: .binaryCrossEntropy(fromLogits: true))
                == .binaryAccuracy(threshold: 0))
    }

    @Test func metricsAreCountedOverElements() throws {
        let p = try Tensor([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])
        #expect(try Metric.sparseCategoricalAccuracy.total(p, Tensor([1, 2])) == (1, 2))
        #expect(try Metric.categoricalAccuracy.total(p, Tensor([[0, 1, 0], [1, 0, 0]])) == (2, 2))
        #expect(try Metric.binaryAccuracy().total(Tensor([0.2, 0.6, 0.9]), Tensor([0, 0, 1])) == (2, 3))
        let mae = try Metric.meanAbsoluteError.total(Tensor([1, 2]), Tensor([2, 0]))
        #expect(mae.sum == 3 && mae.count == 2)
    }

    @Test func classWeightScalesEachExamplesLoss() throws {
        let prediction = Variable(try Tensor([[0.9], [0.2], [0.4]]), requiresGrad: true)
        let target = try Tensor([[1], [0], [1]])
        let loss = Loss.binaryCrossEntropy()
        let weighted = try loss.weighted(prediction, target, weights: [1, 3, 0.5])
        let perExample = try (0..<3).map { try loss(Variable(prediction.value.rows(at: [$0])), target.rows(at: [$0])).value.scalar }
        let expected = (perExample[0] * 1 + perExample[1] * 3 + perExample[2] * 0.5) / 3
        #expect(abs(weighted.value.scalar - expected) < 1e-6)
        try checkGradients([prediction.value]) { v in try loss.weighted(v[0], target, weights: [1, 3, 0.5]) }
        // In fit: a weight of zero on one class means that class is never learned from.
        let x = try Tensor(shape: [8, 1, 1], scalars: [1, 1, 1, 1, -1, -1, -1, -1])
        let y = try Tensor(shape: [8, 1], scalars: [1, 1, 1, 1, 0, 0, 0, 0])
        let model = withRandomSeed(7) { Sequential { SimpleRNN(units: 2); Dense(units: 1, activation: .sigmoid) } }
        model.progressWriter = { _ in }
        model.compile(optimizer: Adam(learningRate: 0.05), loss: .binaryCrossEntropy(), metrics: [.accuracy])
        let history = try model.fit(x, y, batchSize: 8, epochs: 30, shuffle: false, classWeight: [0: 0, 1: 1])
        #expect(history["loss"]!.last! < history["loss"]!.first!)
        #expect(try model.predict(x).scalars.allSatisfy { $0 > 0.5 })
    }

    @Test func earlyStoppingRestoresTheBestWeights() throws {
        let (x, y) = try Self.regressionData(count: 32, seed: 8)
        let model = Self.silentModel(seed: 9)
        // A learning rate far too high makes the validation loss worsen after the first epochs.
        model.compile(optimizer: SGD(learningRate: 3), loss: .meanSquaredError)
        let stopper = EarlyStopping(monitor: "loss", patience: 2, restoreBestWeights: true)
        var seen: [Int] = [], snapshots: [[Tensor]] = []
        let recorder = LambdaCallback(onEpochEnd: { epoch, _ in
            seen.append(epoch)
            snapshots.append(model.parameters.map(\.value))
        })
        let history = try model.fit(x, y, batchSize: 32, epochs: 40, callbacks: [recorder, stopper], shuffle: false)
        let stopped = try #require(stopper.stoppedEpoch)
        #expect(history.epochs.count == stopped + 1 && stopped < 39)
        #expect(seen == history.epochs)
        let best = try #require(stopper.best), bestEpoch = try #require(stopper.bestEpoch)
        #expect(best == history["loss"]!.min() && bestEpoch < stopped)
        #expect(model.parameters.map(\.value) == snapshots[bestEpoch])
    }

    @Test func learningRateSchedulerAndCheckpoint() throws {
        let (x, y) = try Self.regressionData(count: 16, seed: 10)
        let model = Self.silentModel(seed: 11)
        let optimizer = Adam(learningRate: 0.1)
        model.compile(optimizer: optimizer, loss: .meanSquaredError)
        var rates: [Float] = []
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-ckpt-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try model.fit(x, y, batchSize: 16, epochs: 3, callbacks: [
            LearningRateScheduler(try StepDecay(stepSize: 1, gamma: 0.5)),
            LambdaCallback(onEpochEnd: { _, _ in rates.append(optimizer.learningRate) }),
            ModelCheckpoint(path: directory + "/model-{epoch}.safetensors", monitor: "loss"),
        ])
        #expect(rates == [0.1, 0.05, 0.025])
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["model-1.safetensors", "model-2.safetensors", "model-3.safetensors"])
        let restored = try Sequential.load(from: directory + "/model-3.safetensors")
        #expect(try restored.predict(x) == model.predict(x))
    }

    @Test func progressShowsOneLinePerEpochWhenNotOnATerminal() throws {
        let (x, y) = try Self.regressionData(count: 20, seed: 12)
        let model = Self.silentModel(seed: 13)
        var output = ""
        model.progressWriter = { output += $0 }
        model.compile(optimizer: Adam(), loss: .meanSquaredError, metrics: [.meanAbsoluteError])
        try model.fit(x, y, batchSize: 8, epochs: 2, verbose: 2, validationData: (x, y))
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "Epoch 1/2")
        #expect(lines[1].hasPrefix("3/3 - "))
        #expect(lines[1].contains("/step - loss: ") && lines[1].contains(" - mae: ") && lines[1].contains(" - val_loss: "))
        // validationData overrides validationSplit (all 20 examples train: 3 batches of 8), and a
        // metric listed twice is reported once.
        output = ""
        model.compile(optimizer: Adam(), loss: .meanSquaredError, metrics: [.meanAbsoluteError, .meanAbsoluteError])
        try model.fit(x, y, batchSize: 8, epochs: 1, verbose: 2, validationSplit: 0.5, validationData: (x, y))
        #expect(output.split(separator: "\n")[1].hasPrefix("3/3 - "))
        #expect(output.components(separatedBy: " - mae: ").count == 2)
        output = ""
        try model.fit(x, y, epochs: 1, verbose: 0)
        #expect(output.isEmpty)
        #expect(ProgressBar.bar(5, 10) == "━━━━━━━━━━╺─────────")
        #expect(ProgressBar.counter(3, 120) == "  3/120")
        #expect(ProgressBar.format([("loss", 0.693147), ("mae", 0.0001234)]) == " - loss: 0.6931 - mae: 1.2340e-04")
        // The redrawn line fits the terminal: the bar shrinks, then the metrics are cut.
        let logs: [(String, Float)] = [("loss", 0.6931), ("accuracy", 0.5), ("val_loss", 0.7), ("val_accuracy", 0.45)]
        let wide = ProgressBar.line(step: 12, steps: 32, time: "3s", perStep: "40ms/step", logs: logs, width: 200)
        #expect(wide == "12/32 ━━━━━━━╺──────────── 3s 40ms/step" + ProgressBar.format(logs))
        for width in [30, 60, 80] {
            let fitted = ProgressBar.line(step: 12, steps: 32, time: "3s", perStep: "40ms/step", logs: logs, width: width)
            #expect(fitted.count == width - 1 && fitted.hasPrefix("12/32 ━") && fitted.hasSuffix("…"), "\(width): \(fitted)")
        }
    }

    @Test func twoInputModelTrains() throws {
        final class Seq2Seq: Model {
            let encoder = GRU(inputSize: 2, hiddenSize: 8, batchFirst: true, seed: 1)
            let decoder = GRU(inputSize: 1, hiddenSize: 8, batchFirst: true, seed: 2)
            let head = Dense(inputSize: 8, units: 1, initializer: .pytorch, seed: 3)
            override func callAsFunction(_ inputs: [Variable]) throws -> Variable {
                guard inputs.count == 2 else { throw RecurrentError.invalidArgument("Seq2Seq takes source and target") }
                let (_, state) = try encoder.forward(inputs[0])
                return try head(try decoder.forward(inputs[1], state).output)
            }
        }
        // Decode the encoder's mean first feature at every step of the decoder.
        let (source, means) = try Self.regressionData(count: 32, seed: 14)
        let decoderInput = Tensor.zeros([32, 3, 1])
        let target = try Tensor.concatenate([means, means, means], axis: 1).reshaped([32, 3, 1])
        let model = Seq2Seq()
        model.progressWriter = { _ in }
        model.compile(optimizer: Adam(learningRate: 0.02), loss: .meanSquaredError)
        let history = try model.fit([source, decoderInput], target, batchSize: 8, epochs: 10, seed: 1)
        #expect(history["loss"]!.last! < history["loss"]!.first! / 2)
        #expect(try model.predict([source, decoderInput]).shape == [32, 3, 1])
        #expect(throws: RecurrentError.self) { try model.fit(source, target) }
    }
}
