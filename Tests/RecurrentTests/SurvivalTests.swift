import Foundation
import Recurrent
import Testing
@testable import RecurrentTasks

/// Training that survives: a run killed with SIGKILL anywhere resumes to the weights of an
/// uninterrupted one; a NaN stops it with the epoch and batch named and the last checkpoint
/// intact; a failed checkpoint write leaves the previous one readable; a blow-up warns; the same
/// seed gives the same weights.
@Suite(.serialized) struct SurvivalTests {
    static func scratch(_ name: String) -> String { UnrollTests.scratch("survival-" + name) }

    /// The `recurrent` tool built beside this test bundle.
    static var tool: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("recurrent").path
        return FileManager.default.isExecutableFile(atPath: beside) ? beside : TaskTests.root + "/.build/debug/recurrent"
    }

    static func arguments(out: String) -> [String] {
        ["train", "classify-sequences", "--data", TaskTests.data("japanese_vowels.csv"), "--out", out,
         "--id-column", "series", "--step-column", "t", "--label-column", "speaker", "--limit", "60", "--batch-size", "8",
         "--units", "8", "--epochs", "3", "--seed", "3", "--checkpoint-every", "2"]
    }

    static func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func weights(_ directory: String) throws -> [String: Tensor] {
        try SafeTensors.load(path: directory + "/model.safetensors")
    }

    /// Killed after its 1st, 3rd and 6th checkpoint (within the first, second and third epoch),
    /// each run resumed gives exactly the uninterrupted run's weights.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: tool), "needs the recurrent tool (swift test builds it)"),
          arguments: [1, 3, 6])
    func killedAnywhereResumesToTheSameWeights(afterCheckpoints: Int) throws {
        let straight = Self.scratch("straight")
        if !FileManager.default.fileExists(atPath: straight + "/model.safetensors") {
            let run = try Self.launch(Self.arguments(out: straight))
            run.waitUntilExit()
            try #require(run.terminationStatus == 0)
        }
        let out = Self.scratch("killed-\(afterCheckpoints)")
        try? FileManager.default.removeItem(atPath: ModelDirectory.partialPath(out))
        let checkpoint = ModelDirectory.partialPath(out) + "/checkpoint.safetensors"
        let child = try Self.launch(Self.arguments(out: out))
        var seen = 0, last: Date?
        while child.isRunning && seen < afterCheckpoints {
            let modified = (try? FileManager.default.attributesOfItem(atPath: checkpoint))?[.modificationDate] as? Date
            if let modified, modified != last { (seen, last) = (seen + 1, modified) }
            usleep(2_000)
        }
        try #require(child.isRunning, "the run ended before its checkpoint \(afterCheckpoints)")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: out), "a killed run leaves only its .partial directory")

        let resumed = try Self.launch(Self.arguments(out: out) + ["--resume", out])
        resumed.waitUntilExit()
        try #require(resumed.terminationStatus == 0)
        #expect(try Self.weights(out) == Self.weights(straight))
    }

    /// A trainer on hand-made batches of a tiny classifier.
    static func trainer(epochs: Int, batches: [Batch], checkpoint: String?) throws -> Trainer {
        let spec = NetworkSpec(embeddings: [], features: 2, cell: .gru, units: 4, layers: 1, bidirectional: false, dropout: 0,
                               recurrentDropout: 0, maxPooling: false, head: .sequenceClasses(2), window: nil, bagOfWords: nil)
        let network = try SequenceNetwork(spec, seed: 1)
        let settings = TrainingSettings(epochs: epochs, batchSize: 2, learningRate: 0.01, clipNorm: nil, seed: 1, patience: nil,
                                        timeBudget: nil, checkpointEvery: nil)
        let trainer = Trainer(network: network, settings: settings, carriesState: false, validation: [], trainingBatches: { _ in batches })
        trainer.checkpointPath = checkpoint
        return trainer
    }

    static func batches(poisonAt: Int? = nil) throws -> [Batch] {
        try (0..<3).map { b in
            let examples = (0..<2).map { e in
                SequenceExample(features: (0..<6).map { Float(b * 7 + e * 3 + $0 % 5) / 10 - (b == poisonAt && e == 1 ? .nan : 0) },
                                length: 3, target: .classIndex((b + e) % 2))
            }
            return try Batching.batch(examples, featureWidth: 2)
        }
    }

    @Test func aNaNStopsTrainingAndKeepsTheLastGoodCheckpoint() throws {
        let path = Self.scratch("nan.safetensors")
        // Epoch 1 is clean; the poisoned batch comes in epoch 2 (the batches change after the first call).
        var calls = 0
        let clean = try Self.batches(), poisoned = try Self.batches(poisonAt: 1)
        let trainer = try Self.trainer(epochs: 3, batches: clean, checkpoint: path)
        let second = Trainer(network: trainer.network, settings: trainer.settings, carriesState: false, validation: [],
                             trainingBatches: { _ in calls += 1; return calls == 1 ? clean : poisoned })
        second.checkpointPath = path
        #expect(message { _ = try second.run() }.contains("training stopped at epoch 2, batch 2: GRU input contains NaN or infinity; the last checkpoint is intact"))
        let restored = try Self.trainer(epochs: 3, batches: clean, checkpoint: nil)
        try restored.loadCheckpoint(path)
        #expect(restored.state.epochsDone == 1)
    }

    @Test func aFailedCheckpointWriteLeavesThePreviousOne() throws {
        let path = Self.scratch("full-disk.safetensors")
        let trainer = try Self.trainer(epochs: 3, batches: try Self.batches(), checkpoint: path)
        var writes = 0
        let real = trainer.checkpointWriter
        trainer.checkpointWriter = { tensors, metadata, target in
            writes += 1
            if writes == 2 { throw RecurrentError.file(path: target, problem: "cannot be written (No space left on device)") }
            try real(tensors, metadata, target)
        }
        #expect(message { _ = try trainer.run() }.contains("No space left on device"))
        let restored = try Self.trainer(epochs: 3, batches: try Self.batches(), checkpoint: nil)
        try restored.loadCheckpoint(path)
        #expect(restored.state.epochsDone == 1, "the first epoch's checkpoint is whole")
        // And the real writer leaves no temporary file behind in the directory.
        let folder = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".full-disk") || $0.contains(".tmp") }.isEmpty)
    }

    @Test func aLossThatExplodesWarns() {
        func record(_ epoch: Int, _ loss: Double) -> EpochRecord {
            EpochRecord(epoch: epoch, loss: loss, learningRate: 0.1, gradientNorm: 1, gradientNormMax: 1, seconds: 1, steps: 1)
        }
        #expect(Trainer.explosionWarning([record(1, 2), record(2, 1.5)]) == nil)
        #expect(Trainer.explosionWarning([record(1, 2), record(2, 6.5)])?.contains("epoch 2's loss 6.5 is more than 3× the first epoch's (2)") == true)
    }

    /// The same seed gives bit-identical weights, with one thread or two: threads split a
    /// product's outputs, never a sum, so no sum changes order. (Shapes large enough that the
    /// products do run on two threads: 64 sequences of 10 steps, 64 features, 128 units.)
    @Test func sameSeedSameWeightsWhateverTheThreads() throws {
        var generator = SeededGenerator(seed: 4)
        let batches = try (0..<2).map { _ in
            try Batching.batch((0..<64).map { e in
                SequenceExample(features: (0..<640).map { _ in Float.random(in: -1...1, using: &generator) }, length: 10, target: .classIndex(e % 2))
            }, featureWidth: 64)
        }
        func train(threads: Int) throws -> [Tensor] {
            let saved = gemmMaxThreads
            gemmMaxThreads = threads
            defer { gemmMaxThreads = saved }
            let spec = NetworkSpec(embeddings: [], features: 64, cell: .lstm, units: 128, layers: 2, bidirectional: true, dropout: 0.2,
                                   recurrentDropout: 0, maxPooling: true, head: .sequenceClasses(2), window: nil, bagOfWords: nil)
            let settings = TrainingSettings(epochs: 2, batchSize: 64, learningRate: 0.01, clipNorm: 1, seed: 1, patience: nil,
                                            timeBudget: nil, checkpointEvery: nil)
            let trainer = Trainer(network: try SequenceNetwork(spec, seed: 1), settings: settings, carriesState: false, validation: []) { _ in batches }
            _ = try trainer.run()
            return trainer.network.parameters.map(\.value)
        }
        // Holding the ISA lock: a test that forces another ISA meanwhile would change the last bits.
        let (a, b, c) = try ForcedISA.unchanged { (try train(threads: 2), try train(threads: 2), try train(threads: 1)) }
        #expect(a == b)
        #expect(a == c)
    }
}

extension SurvivalTests {
    struct Killed: Error {}

    /// In process, stopped right after each of its checkpoints in turn (mid-epoch ones included),
    /// a run resumed from that checkpoint ends with the uninterrupted run's weights.
    @Test func resumedFromAnyCheckpointGivesTheSameWeights() throws {
        try ForcedISA.unchanged { try resumedFromAnyCheckpoint() }
    }

    func resumedFromAnyCheckpoint() throws {
        let batches = try (0..<5).map { b in
            try Batching.batch((0..<2).map { e in
                SequenceExample(features: (0..<6).map { Float(b * 7 + e * 3 + $0 % 5) / 10 }, length: 3, target: .classIndex((b + e) % 2))
            }, featureWidth: 2)
        }
        func trainer(_ path: String?) throws -> Trainer {
            let t = try Self.trainer(epochs: 3, batches: batches, checkpoint: path)
            let every = TrainingSettings(epochs: 3, batchSize: 2, learningRate: 0.01, clipNorm: nil, seed: 1, patience: nil, timeBudget: nil, checkpointEvery: 2)
            let shuffled = Trainer(network: t.network, settings: every, carriesState: false, validation: Array(batches.prefix(2))) { generator in
                batches.shuffled(using: &generator)
            }
            shuffled.checkpointPath = path
            return shuffled
        }
        let straight = try trainer(nil)
        _ = try straight.run()
        let expected = straight.network.parameters.map(\.value)
        // 3 epochs of 5 steps: checkpoints after steps 2 and 4 and at each epoch's end, 9 in all.
        for k in 1...9 {
            let path = Self.scratch("in-process-\(k).safetensors")
            let first = try trainer(path)
            var writes = 0
            let real = first.checkpointWriter
            first.checkpointWriter = { tensors, metadata, target in
                try real(tensors, metadata, target)
                writes += 1
                if writes == k { throw Killed() }
            }
            #expect(throws: Killed.self) { _ = try first.run() }
            let second = try trainer(path)
            try second.loadCheckpoint(path)
            _ = try second.run()
            #expect(second.network.parameters.map(\.value) == expected, "stopped after checkpoint \(k)")
        }
    }
}
