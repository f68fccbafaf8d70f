// The MPI trait's tests: compiled only in a build with the trait (.ci/run builds one with
// `swift build --build-tests --traits MPI`). `DataParallelTests` starts this same test binary
// under `mpirun -np 2`, over shared memory and over TCP, to run `RanksOfOneJob` in two processes.
#if MPI
import Foundation
import Recurrent
@testable import RecurrentTasks
import Testing

let launchedByMPI = mpiLauncherWorldSize != nil
let dataDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/data/"
let plannedFailure = ProcessInfo.processInfo.environment["RECURRENT_PLANNED_FAILURE"] != nil

@Suite(.serialized, .enabled(if: !launchedByMPI)) struct DataParallelTests {
    /// This test binary's suite `filter` in two ranks; its exit status, output and duration.
    func mpirun(_ options: [String], filter: String, environment extra: [String: String] = [:]) throws
        -> (status: Int32, output: String, seconds: Double)
    {
        var executable = CommandLine.arguments[0]
        if !executable.hasPrefix("/") { executable = FileManager.default.currentDirectoryPath + "/" + executable }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "--oversubscribe"] + options + ["-np", "2", executable, "--testing-library", "swift-testing", "--filter", filter]
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let started = Date()
        try process.run()
        // A hung job is a failure, not a hung test run.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 600, execute: watchdog)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, output, Date().timeIntervalSince(started))
    }

    @Test func twoRanksOverSharedMemory() throws {
        let run = try mpirun([], filter: "RanksOfOneJob")
        #expect(run.status == 0, "\(run.output)")
    }

    /// TCP is the path between machines.
    @Test func twoRanksOverTCP() throws {
        let run = try mpirun(["--mca", "btl", "tcp,self"], filter: "RanksOfOneJob")
        #expect(run.status == 0, "\(run.output)")
    }

    @Test func aFailingRankEndsEveryRankWithItsError() throws {
        let run = try mpirun([], filter: "RanksOfOneJob", environment: ["RECURRENT_PLANNED_FAILURE": "1"])
        #expect(run.status != 0)
        #expect(run.output.contains("error: rank 1 of 2: a failure planned by the test"), "\(run.output)")
        #expect(run.seconds < 60, "the job took \(run.seconds) s to end")
    }
}

struct Planned: Error, CustomStringConvertible { var description: String { "a failure planned by the test" } }

final class FailOnRankOne: Callback {
    let rank: Int
    init(rank: Int) { self.rank = rank }
    func onBatchEnd(_ batch: Int, logs: [String: Float], model: Model) throws {
        if rank == 1 && batch == 1 { throw Planned() }
    }
}

/// Run in each of two ranks: every rank takes part in every collective; rank 0 alone compares.
@Suite(.serialized, .enabled(if: launchedByMPI)) struct RanksOfOneJob {
    let world: MPICommunicator
    var x: Tensor, y: Tensor

    init() throws {
        world = try MPICommunicator.world()
        var generator = SeededGenerator(seed: 1)
        x = Tensor.randomNormal([100, 6, 3], generator: &generator)
        y = Tensor.randomNormal([100, 1], generator: &generator)
    }

    /// Zero padding: example b's steps from 2 + b % 5 on.
    var padded: Tensor {
        var x = x
        x.withUnsafeMutableBufferPointer { p in
            for b in 0..<100 { for t in (2 + b % 5)..<6 { for f in 0..<3 { p[(b * 6 + t) * 3 + f] = 0 } } }
        }
        return x
    }

    static func model(_ cell: String, masked: Bool = false, dropout: Bool = false) -> Sequential {
        Sequential {
            Input(shape: [6, 3])
            if masked { Masking(maskValue: 0) }
            switch cell {
            case "lstm": LSTM(units: 8, dropout: dropout ? 0.2 : 0, recurrentDropout: dropout ? 0.2 : 0, seed: 11)
            case "gru": GRU(units: 8, seed: 11)
            default: SimpleRNN(units: 8, seed: 11)
            }
            if dropout { Dropout(rate: 0.3, seed: 13) }
            Dense(units: 1, seed: 12)
        }
    }

    static func largestDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Float {
        a.keys.map { key in zip(a[key]!.scalars, b[key]!.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    func scratch(_ name: String) -> String {
        NSTemporaryDirectory() + "recurrent-mpi-tests-\(ProcessInfo.processInfo.processIdentifier)-" + name
    }

    /// Without masks, with masks, and with masks and bucketing (global batches of similar
    /// lengths, each rank cutting the steps that are padding in all of its rows).
    @Test(.enabled(if: !plannedFailure)) func fitEqualsOneProcessOnTheConcatenatedBatches() throws {
        for cell in ["rnn", "lstm", "gru"] {
            for (masked, bucketing) in [(false, false), (true, false), (true, true)] {
                let data = masked ? padded : x
                let name = cell + (masked ? " masked" : "") + (bucketing ? ", bucketed" : "")
                let distributed = Self.model(cell, masked: masked)
                distributed.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
                try distributed.fit(data, y, batchSize: 8, epochs: 3, verbose: .silent, validationSplit: 0.2, bucketing: bucketing,
                                    seed: 5, distributed: world)
                guard world.rank == 0 else { continue }
                let single = Self.model(cell, masked: masked)
                single.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
                try single.fit(data, y, batchSize: 8 * world.size, epochs: 3, verbose: .silent, validationSplit: 0.2, bucketing: bucketing, seed: 5)
                // Float32 sums in another order, over three epochs of Adam.
                let difference = Self.largestDifference(distributed.stateDict(), single.stateDict())
                print("fit, \(name): \(world.size) ranks against one process, largest weight difference \(difference)")
                #expect(difference <= 1e-5, "\(name): \(difference)")
            }
        }
    }

    /// With dropout every rank draws its own masks (a stream from the layer's and the rank): the
    /// run equals one process that computes each rank's shard with that rank's streams, adds
    /// the gradients weighted by the shards' sizes and divides by the global batch.
    @Test(.enabled(if: !plannedFailure)) func dropoutStreamsPerRank() throws {
        let distributed = Self.model("lstm", dropout: true)
        distributed.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
        try distributed.fit(x, y, batchSize: 8, epochs: 2, verbose: .silent, seed: 5, distributed: world)
        guard world.rank == 0 else { return }

        func reference(streamsPerRank: Bool) throws -> [String: Tensor] {
            let replicas = (0..<world.size).map { _ in Self.model("lstm", dropout: true) }
            for replica in replicas { _ = try withoutGradients { try replica(Variable(try x.rows(at: [0]))) } }   // built, as fit does
            let optimizers = replicas.map { Adam(parameters: $0.parameters(), learningRate: 0.01) }
            for (r, replica) in replicas.enumerated() {
                if streamsPerRank { replica.useRandomStream(ofRank: r) }
                replica.isTraining = true
            }
            var shuffle = SeededGenerator(seed: 5)
            let global = 8 * world.size
            for _ in 0..<2 {
                var order = Array(0..<100)
                order.shuffle(using: &shuffle)
                for start in stride(from: 0, to: 100, by: global) {
                    let batch = Array(order[start..<min(start + global, 100)])
                    var sums: [[Float]]?
                    for (r, replica) in replicas.enumerated() {
                        let rows = Array(batch.dropFirst(r * 8).prefix(8))
                        for parameter in replica.parameters() { parameter.zeroGradient() }
                        guard !rows.isEmpty else { continue }
                        let loss = try Loss.meanSquaredError(try replica(Variable(try x.rows(at: rows))), try y.rows(at: rows))
                        try loss.backward()
                        let weighted = replica.parameters().map { $0.grad!.scalars.map { $0 * Float(rows.count) } }
                        sums = sums.map { zip($0, weighted).map { zip($0, $1).map { $0 + $1 } } } ?? weighted
                    }
                    for (replica, optimizer) in zip(replicas, optimizers) {
                        for (parameter, sum) in zip(replica.parameters(), sums!) {
                            parameter.grad = try Tensor(shape: parameter.value.shape, scalars: sum.map { $0 / Float(batch.count) })
                        }
                        try optimizer.step()
                    }
                }
            }
            return replicas[0].stateDict()
        }
        let own = Self.largestDifference(distributed.stateDict(), try reference(streamsPerRank: true))
        let shared = Self.largestDifference(distributed.stateDict(), try reference(streamsPerRank: false))
        print("fit with dropout: against the per-rank-stream reference \(own), against shared masks \(shared)")
        #expect(own <= 1e-5, "\(own)")
        // Had the ranks drawn the same masks, the weights would be others.
        #expect(shared > 1e-3, "\(shared)")
    }

    func vowels(_ cell: NetworkSpec.Cell, batchSize: Int, epochs: Int = 2, dropout: Float = 0) -> TaskOptions {
        var o = TaskOptions(task: .classifySequences, dataPath: dataDirectory + "japanese_vowels.csv")
        (o.idColumn, o.stepColumn, o.labelColumn, o.limit) = ("series", "t", "speaker", 60)
        (o.cell, o.units, o.epochs, o.seed, o.batchSize, o.dropout) = (cell, 8, epochs, 3, batchSize, dropout)
        return o
    }

    /// `recurrent train` under mpirun: the model directory rank 0 writes holds the weights one
    /// process reaches with the global batch, for sequences of many lengths (bucketed, padded,
    /// masked) and for a character stream carried from chunk to chunk.
    @Test(.enabled(if: !plannedFailure)) func trainEqualsOneProcessOnTheConcatenatedBatches() throws {
        var runs: [(String, TaskOptions, TaskOptions)] = NetworkSpec.Cell.allCases.map {
            ("vowels \($0)", vowels($0, batchSize: 8), vowels($0, batchSize: 8 * world.size))
        }
        var text = TaskOptions(task: .languageModel, dataPath: dataDirectory + "shakespeare_complete.txt")
        (text.limit, text.bptt, text.units, text.layers, text.epochs, text.seed, text.batchSize) = (4000, 25, 16, 1, 1, 3, 4)
        var wider = text
        wider.batchSize = 4 * world.size
        runs.append(("language model", text, wider))
        for (name, perRank, global) in runs {
            let out = scratch("train"), single = scratch("single")
            defer { for path in [out, single] { try? FileManager.default.removeItem(atPath: path) } }
            let run = try Tasks.train(perRank, out: out, distributed: world)
            #expect(run.rank == world.rank)
            guard world.rank == 0 else {
                #expect(!FileManager.default.fileExists(atPath: out), "only rank 0 writes the model")
                continue
            }
            _ = try Tasks.train(global, out: single)
            let (a, b) = (try ModelDirectory.load(out).network.stateDict(), try ModelDirectory.load(single).network.stateDict())
            let difference = Self.largestDifference(a, b)
            print("recurrent train, \(name): \(world.size) ranks against one process, largest weight difference \(difference)")
            #expect(difference <= 1e-5, "\(name): \(difference)")
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))) as? [String: Any]
            let training = record?["training"] as? [String: Any]
            #expect(training?["ranks"] as? Int == world.size && training?["batch_size"] as? Int == perRank.batchSize)
            #expect(try String(contentsOfFile: out + "/report.html", encoding: .utf8).contains("\(world.size) ranks (MPI)"))
        }
    }

    /// `--resume` of a data-parallel run: every rank starts from rank 0's checkpoint, each with its
    /// own dropout stream as it stood, and reaches what the uninterrupted run reaches.
    @Test(.enabled(if: !plannedFailure)) func resumeRestartsEveryRankFromRankZerosCheckpoint() throws {
        let first = scratch("first"), resumed = scratch("resumed"), straight = scratch("straight")
        defer { for path in [first, resumed, straight] { try? FileManager.default.removeItem(atPath: path) } }
        // The first part writes where only rank 0 can read: the others get it from rank 0.
        _ = try Tasks.train(vowels(.lstm, batchSize: 8, epochs: 1, dropout: 0.3), out: first, distributed: world)
        let more = vowels(.lstm, batchSize: 8, epochs: 3, dropout: 0.3)
        _ = try Tasks.train(more, out: resumed, resume: first, distributed: world)
        _ = try Tasks.train(more, out: straight, distributed: world)
        guard world.rank == 0 else { return }
        let (a, b) = (try ModelDirectory.load(resumed).network.stateDict(), try ModelDirectory.load(straight).network.stateDict())
        let difference = Self.largestDifference(a, b)
        print("resumed across ranks against uninterrupted: largest weight difference \(difference)")
        #expect(difference == 0)
    }

    @Test(.enabled(if: plannedFailure)) func rankOneFails() throws {
        let m = Self.model("lstm")
        m.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
        try m.fit(x, y, batchSize: 8, epochs: 1, verbose: .silent, callbacks: [FailOnRankOne(rank: world.rank)], distributed: world)
        Issue.record("rank \(world.rank): the planned failure did not end the job")
    }
}
#endif
