import Foundation
import Recurrent

/// How a network is trained: the common flags of `recurrent train`.
public struct TrainingSettings: Codable, Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// Rescale gradients to at most this global norm (nil: no clipping).
    public var clipNorm: Float?
    public var seed: UInt64
    /// Stop when the validation loss has not improved for this many epochs; the best epoch's
    /// weights are restored at the end of every run that validates (nil: run every epoch).
    public var patience: Int?
    /// Stop after the epoch, or for a stream the chunk, that crosses this many seconds.
    public var timeBudget: Double?
    /// Also checkpoint every this many steps within an epoch (nil: after each epoch only).
    public var checkpointEvery: Int?

    func validate(trainingExamples: Int) throws {
        guard epochs > 0 else { throw RecurrentError.invalidArgument("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw RecurrentError.invalidArgument("--batch-size must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw RecurrentError.invalidArgument("--lr must be a positive number, got \(learningRate)")
        }
        if let clipNorm, !(clipNorm > 0) { throw RecurrentError.invalidArgument("--clip-norm must be positive, got \(clipNorm)") }
        if let patience, patience < 0 { throw RecurrentError.invalidArgument("--patience must be ≥ 0, got \(patience)") }
        if let timeBudget, !(timeBudget > 0) { throw RecurrentError.invalidArgument("--time-budget must be positive, got \(timeBudget)") }
        if let checkpointEvery, checkpointEvery < 1 {
            throw RecurrentError.invalidArgument("--checkpoint-every must be at least 1 step, got \(checkpointEvery)")
        }
        guard trainingExamples >= batchSize else {
            throw RecurrentError.invalidArgument(
                "\(trainingExamples) training examples → 0 batches of \(batchSize); lower --batch-size")
        }
    }
}

/// One epoch's line of `history.json` / `history.csv`.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double?
    public var valLoss: Double?
    public var valAccuracy: Double?
    public var learningRate: Double
    /// Mean and largest global gradient norm over the epoch's steps, before clipping.
    public var gradientNorm: Double
    public var gradientNormMax: Double
    public var seconds: Double
    /// Steps run (a stream's epoch ends early when the time budget runs out).
    public var steps: Int
    /// A language model's text sampled after the epoch (for the report).
    public var sample: String?

    enum CodingKeys: String, CodingKey {
        case epoch, loss, accuracy, valLoss = "val_loss", valAccuracy = "val_accuracy", learningRate = "learning_rate"
        case gradientNorm = "gradient_norm", gradientNormMax = "gradient_norm_max", seconds, steps, sample
    }

    static let csvHeader = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,gradient_norm,gradient_norm_max,seconds,steps"
    var csvLine: String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.6g", $0) } ?? "" }
        return [String(epoch), f(loss), f(accuracy), f(valLoss), f(valAccuracy), f(learningRate), f(gradientNorm),
                f(gradientNormMax), String(format: "%.3f", seconds), String(steps)].joined(separator: ",")
    }
}

/// Where a run stands after an epoch: what `--resume` needs besides the weights and the
/// optimizer's moments.
struct TrainerState: Codable {
    var epochsDone: Int
    var shuffleGenerator: [UInt64]
    var networkGenerator: [UInt64]
    var bestLoss: Double?
    var bestEpoch: Int?
    var wait: Int
    var history: [EpochRecord]
    var seconds: Double
    var stopped: Bool
    /// Set by a checkpoint within an epoch: where the epoch stands (its batches are made again
    /// from the shuffling stream as it was when the epoch began).
    var epochInProgress: EpochProgress?
    /// A data-parallel run's dropout streams, one per rank (`networkGenerator` is rank 0's).
    var rankGenerators: [[UInt64]]?
}

/// Where an epoch stands after some of its steps.
struct EpochProgress: Codable {
    var shuffleAtStart: [UInt64]
    var stepsDone: Int
    var totals: BatchTotals
    var normSum: Double, normMax: Double
    var seconds: Double
    /// Whether the checkpoint holds a stream's carried state ("carried.h", "carried.c").
    var carried: Bool
}

/// What a finished run reports.
public struct TrainingOutcome: Sendable {
    public var history: [EpochRecord]
    public var bestEpoch: Int?
    public var stoppedEarly: Bool
    public var seconds: Double
}

/// The loop: Adam, bucketed batches or stream chunks with carried state, clipping, validation,
/// early stopping with the best weights kept, a time budget, and a checkpoint every epoch.
final class Trainer {
    let network: SequenceNetwork
    let settings: TrainingSettings
    let optimizer: Adam
    /// Batches of one epoch (shuffled with the generator); a stream's chunks in order.
    let trainingBatches: (inout SeededGenerator) throws -> [Batch]
    let validation: [Batch]
    /// Stream chunks: each batch starts from the previous one's final state (detached).
    let carriesState: Bool
    var checkpointPath: String?
    var log: (String) -> Void = { _ in }
    /// Text to keep with each epoch's record (a language model's sample), drawn in eval mode.
    var epochSample: ((SequenceNetwork) throws -> String)?
    /// A data-parallel run: each batch is a global batch whose rows the ranks share, the
    /// gradients are averaged over all of them, and rank 0 alone checkpoints.
    var world: Communicator? {
        didSet { exchange = world.map { GradientExchange(network.parameters(), world: $0) } }
    }
    private var exchange: GradientExchange?

    private(set) var state: TrainerState
    private var bestWeights: [Tensor]?

    init(
        network: SequenceNetwork, settings: TrainingSettings, carriesState: Bool, validation: [Batch],
        trainingBatches: @escaping (inout SeededGenerator) throws -> [Batch]
    ) {
        self.network = network
        self.settings = settings
        self.carriesState = carriesState
        self.validation = validation
        self.trainingBatches = trainingBatches
        // PyTorch's ε: the Keras default 1e-7 differs only in the last digits of early steps.
        optimizer = Adam(parameters: network.parameters(), learningRate: settings.learningRate, epsilon: 1e-8)
        state = TrainerState(
            epochsDone: 0, shuffleGenerator: SeededGenerator(seed: settings.seed ^ 0x5A17).stateWords,
            networkGenerator: network.generatorState, bestLoss: nil, bestEpoch: nil, wait: 0, history: [], seconds: 0,
            stopped: false)
    }

    // MARK: Checkpoints

    func saveCheckpoint() throws {
        guard let checkpointPath else { return }
        var tensors: [String: Tensor] = [:]
        for (name, value) in network.stateDict() { tensors["model." + name] = value }
        for (name, value) in optimizer.stateDict() { tensors["optimizer." + name] = value }
        if let bestWeights {
            for ((name, _), value) in zip(network.namedParameters, bestWeights) { tensors["best." + name] = value }
        }
        if let carried = carriedForCheckpoint {
            tensors["carried.h"] = carried.h.value
            if let c = carried.c { tensors["carried.c"] = c.value }
        }
        let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try checkpointWriter(tensors, ["format": "recurrent.checkpoint/1", "state": json], checkpointPath)
    }

    /// Writes a checkpoint (atomically: a failed write leaves the previous one in place).
    /// Tests replace it to make a write fail.
    var checkpointWriter: ([String: Tensor], [String: String], String) throws -> Void = { tensors, metadata, path in
        try SafeTensors.write(tensors, metadata: metadata, to: path)
    }

    /// A stream's state carried into the next chunk, when a checkpoint falls within an epoch.
    private var carriedForCheckpoint: CarriedState?
    private var restoredCarried: CarriedState?

    func loadCheckpoint(_ path: String) throws {
        try loadCheckpoint(try Self.readCheckpoint(path), path: path)
    }

    static func readCheckpoint(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw RecurrentError.file(path: path, problem: "cannot be read (\(RecurrentError.reason(error)))")
        }
    }

    /// Resumes from a checkpoint's bytes (read from `path`, or received from rank 0).
    func loadCheckpoint(_ data: Data, path: String) throws {
        let (tensors, metadata) = try SafeTensors.read(data: data, name: path)
        guard metadata["format"] == "recurrent.checkpoint/1", let json = metadata["state"],
              let restored = try? JSONDecoder().decode(TrainerState.self, from: Data(json.utf8)) else {
            throw RecurrentError.file(path: path, problem: "not a training checkpoint of this tool")
        }
        func part(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        do {
            try network.loadStateDict(part("model."))
            try optimizer.loadStateDict(part("optimizer."))
        } catch {
            throw RecurrentError.file(path: path, problem: "does not fit this network: \(error)")
        }
        let best = part("best.")
        bestWeights = best.isEmpty ? nil : try network.namedParameters.map { name, _ in
            guard let t = best[name] else { throw RecurrentError.file(path: path, problem: "best weights lack \(name)") }
            return t
        }
        state = restored
        // Resuming is asking for more: a run that stopped early (patience, time budget) goes on.
        state.stopped = false
        network.generatorState = restored.networkGenerator
        if let world {
            if let streams = restored.rankGenerators, streams.count == world.size {
                network.generatorState = streams[world.rank]
            } else {
                network.useRandomStream(ofRank: world.rank)
            }
        }
        if restored.epochInProgress?.carried == true, let h = tensors["carried.h"] {
            restoredCarried = CarriedState(h: Variable(h), c: tensors["carried.c"].map { Variable($0) })
        }
    }

    // MARK: The loop

    func run() throws -> TrainingOutcome {
        let start = Date().addingTimeInterval(-state.seconds)
        var shuffle = SeededGenerator(seed: 0)
        shuffle.stateWords = state.shuffleGenerator
        while state.epochsDone < settings.epochs && !state.stopped {
            // A checkpoint taken within this epoch resumes it where it stood.
            let resumed = state.epochInProgress
            state.epochInProgress = nil
            if let resumed { shuffle.stateWords = resumed.shuffleAtStart }
            let shuffleAtStart = shuffle.stateWords
            let epochStart = Date().addingTimeInterval(-(resumed?.seconds ?? 0))
            let batches = try trainingBatches(&shuffle)
            network.train()
            var carried: CarriedState? = resumed == nil ? nil : restoredCarried
            // A checkpoint's totals are every rank's: rank 0 carries them on.
            var totals = (world?.rank ?? 0) == 0 ? resumed?.totals ?? BatchTotals() : BatchTotals()
            var normSum = resumed?.normSum ?? 0, normMax = resumed?.normMax ?? 0
            var steps = resumed?.stepsDone ?? 0
            var budgetSpent = false
            for globalBatch in batches.dropFirst(steps) {
                // Named only when something goes wrong: no string is built per step.
                func place() -> String { "epoch \(state.epochsDone + 1), batch \(steps + 1)" }
                optimizer.zeroGradients()
                // This rank's rows of the batch; none when a last batch is too small to share.
                let shard = try myRows(of: globalBatch)
                exchange?.begin(examples: shard?.examples ?? 0)
                if let batch = shard {
                    let output: Variable, final: CarriedState, loss: Variable
                    do {
                        (output, final) = try network.forward(batch, state: carried)
                        loss = try network.loss(output, batch)
                    } catch RecurrentError.nonFinite(let problem) {
                        throw RecurrentError.nonFinite("training stopped at \(place()): \(problem); the last checkpoint is intact")
                    }
                    if carriesState { carried = final.detached() }
                    let value = loss.value.scalar
                    guard value.isFinite else {
                        throw RecurrentError.nonFinite(
                            "training diverged at \(place()): the loss is \(value); the last checkpoint is intact; lower --lr or set --clip-norm")
                    }
                    try loss.backward(whenComplete: exchange?.gradientReady)
                    try totals.add(loss: value, output: output.value, batch)
                }
                try exchange?.finish()
                let norm = Double(try clippedGradientNorm())
                guard norm.isFinite else {
                    throw RecurrentError.nonFinite(
                        "training diverged at \(place()): the gradient's norm is \(norm); the last checkpoint is intact; lower --lr or set --clip-norm")
                }
                try optimizer.step()
                normSum += norm
                normMax = max(normMax, norm)
                steps += 1
                if carriesState, let budget = settings.timeBudget, try agreed(Date().timeIntervalSince(start) > budget) {
                    budgetSpent = true
                    break
                }
                if let every = settings.checkpointEvery, steps % every == 0, steps < batches.count {
                    state.epochInProgress = EpochProgress(
                        shuffleAtStart: shuffleAtStart, stepsDone: steps, totals: try totals.summed(over: world), normSum: normSum,
                        normMax: normMax, seconds: Date().timeIntervalSince(epochStart), carried: carried != nil)
                    try recordGenerators()
                    state.seconds = Date().timeIntervalSince(start)
                    carriedForCheckpoint = carried
                    defer { (state.epochInProgress, carriedForCheckpoint) = (nil, nil) }
                    try saveCheckpoint()
                }
            }
            totals = try totals.summed(over: world)
            restoredCarried = nil
            network.eval()
            var record = EpochRecord(
                epoch: state.epochsDone + 1, loss: totals.loss, accuracy: totals.accuracy, valLoss: nil, valAccuracy: nil,
                learningRate: Double(optimizer.learningRate), gradientNorm: normSum / Double(max(steps, 1)),
                gradientNormMax: normMax, seconds: 0, steps: steps)
            if !validation.isEmpty {
                let (loss, accuracy) = try evaluate(validation)
                (record.valLoss, record.valAccuracy) = (loss, accuracy)
                if state.bestLoss == nil || loss < state.bestLoss! {
                    (state.bestLoss, state.bestEpoch, state.wait) = (loss, record.epoch, 0)
                    bestWeights = network.parameters.map(\.value)
                } else {
                    state.wait += 1
                    if let patience = settings.patience, state.wait > patience { state.stopped = true }
                }
            }
            record.seconds = Date().timeIntervalSince(epochStart)
            record.sample = try epochSample?(network)
            state.history.append(record)
            state.epochsDone += 1
            state.seconds = Date().timeIntervalSince(start)
            if let budget = settings.timeBudget, try agreed(state.seconds > budget) || budgetSpent { state.stopped = true }
            state.shuffleGenerator = shuffle.stateWords
            try recordGenerators()
            log(Self.describe(record, of: settings.epochs))
            if let warning = Self.explosionWarning(state.history) { log(warning) }
            try saveCheckpoint()
        }
        if let bestWeights {
            for (parameter, value) in zip(network.parameters, bestWeights) { parameter.value = value }
        }
        return TrainingOutcome(
            history: state.history, bestEpoch: state.bestEpoch, stoppedEarly: state.stopped && state.epochsDone < settings.epochs,
            seconds: state.seconds)
    }

    /// This rank's rows of a batch (all of them without a data-parallel world).
    private func myRows(of batch: Batch) throws -> Batch? {
        guard let world else { return batch }
        return try batch.shard(rank: world.rank, of: world.size)
    }

    /// Rank 0's answer on every rank: a decision from a clock must not split the ranks.
    private func agreed(_ answer: Bool) throws -> Bool {
        guard let world else { return answer }
        var flag: [Float] = [answer ? 1 : 0]
        try world.broadcast(&flag, from: 0)
        return flag[0] != 0
    }

    /// The dropout streams' positions into the state: rank 0's, and in a data-parallel run every rank's.
    private func recordGenerators() throws {
        state.networkGenerator = network.generatorState
        guard let world else { return }
        state.rankGenerators = try (0..<world.size).map { r in
            let mine = r == world.rank ? [UInt8](try JSONEncoder().encode(network.generatorState)) : []
            return try JSONDecoder().decode([UInt64].self, from: Data(try world.broadcasting(mine, from: r)))
        }
    }

    /// The global gradient norm before clipping; gradients are clipped to `clipNorm` when set.
    private func clippedGradientNorm() throws -> Float {
        if let clipNorm = settings.clipNorm { return try clipGradientNorm(network.parameters(), maximumNorm: clipNorm) }
        return gradientNorm(network.parameters())
    }

    /// Mean loss (per example or real step) and accuracy of class heads, without training.
    func evaluate(_ batches: [Batch]) throws -> (loss: Double, accuracy: Double?) {
        var carried: CarriedState?
        var totals = BatchTotals()
        try withoutGradients {
            for whole in batches {
                guard let batch = try myRows(of: whole) else { continue }
                let (output, final) = try network.forward(batch, state: carried)
                if carriesState { carried = final }
                try totals.add(loss: try network.loss(output, batch).value.scalar, output: output.value, batch)
            }
        }
        totals = try totals.summed(over: world)
        return (totals.loss, totals.accuracy)
    }

    /// A warning when the last epoch's loss is more than three times the first's (char-rnn's
    /// test for a run that is blowing up).
    static func explosionWarning(_ history: [EpochRecord]) -> String? {
        guard history.count > 1, let first = history.first?.loss, let last = history.last?.loss, first > 0, last > 3 * first else { return nil }
        return String(format: "warning: epoch %d's loss %.4g is more than 3× the first epoch's (%.4g): training may be diverging; lower --lr",
                      history.last!.epoch, last, first)
    }

    static func describe(_ r: EpochRecord, of epochs: Int) -> String {
        var parts = ["epoch \(r.epoch)/\(epochs)", String(format: "loss %.4f", r.loss)]
        if let a = r.accuracy { parts.append(String(format: "acc %.4f", a)) }
        if let v = r.valLoss { parts.append(String(format: "val_loss %.4f", v)) }
        if let a = r.valAccuracy { parts.append(String(format: "val_acc %.4f", a)) }
        parts.append(String(format: "|g| %.3g", r.gradientNorm))
        parts.append(String(format: "%.1f s", r.seconds))
        return parts.joined(separator: "  ")
    }
}

/// Running means over batches: the loss weighted by examples (or real steps), and accuracy
/// when the batches have classes.
struct BatchTotals: Codable {
    private var lossSum = 0.0, hits = 0, counted = 0, classified = false

    mutating func add(loss: Float, output: Tensor, _ batch: Batch) throws {
        let n = batch.classes?.count ?? batch.size
        lossSum += Double(loss) * Double(n)
        counted += n
        if let classes = batch.classes {
            classified = true
            let predicted = try output.argmax(axis: -1).scalars
            hits += zip(predicted, classes.scalars).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        }
    }

    /// The totals of every rank of a data-parallel run (these alone without one).
    func summed(over world: Communicator?) throws -> BatchTotals {
        guard let world else { return self }
        var sums = [lossSum, Double(hits), Double(counted), classified ? 1 : 0].map { Float($0) }
        try world.allReduceSum(&sums)
        return BatchTotals(lossSum: Double(sums[0]), hits: Int(sums[1].rounded()), counted: Int(sums[2].rounded()), classified: sums[3] > 0)
    }

    var loss: Double { lossSum / Double(max(counted, 1)) }
    var accuracy: Double? { classified ? Double(hits) / Double(max(counted, 1)) : nil }
}
