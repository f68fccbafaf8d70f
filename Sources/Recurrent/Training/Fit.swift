import Foundation

/// What `compile` fixes: how the model learns and what it reports.
public struct CompiledSettings {
    public let optimizer: Optimizer
    public let loss: Loss
    public let metrics: [Metric]
}

/// The per-epoch logs of `fit` (Keras's `History`): `history["loss"]`, `history["val_accuracy"]`, ….
public struct History: Sendable, CustomStringConvertible {
    /// Epochs run, from 0.
    public internal(set) var epochs: [Int] = []
    public internal(set) var history: [String: [Float]] = [:]
    /// The log names in the order `fit` reports them (loss, metrics, then validation).
    public internal(set) var keys: [String] = []

    public subscript(key: String) -> [Float]? { history[key] }

    mutating func append(epoch: Int, logs: [(String, Float)]) {
        epochs.append(epoch)
        for (name, value) in logs {
            if history[name] == nil { keys.append(name) }
            history[name, default: []].append(value)
        }
    }

    /// A table, one row per epoch (from 1, as the progress lines count them):
    /// ```
    /// epoch    loss  accuracy  val_loss  val_accuracy
    ///     1  0.6931    0.5000    0.7000        0.2500
    /// ```
    public var description: String {
        let columns = ["epoch"] + keys
        let cells = epochs.indices.map { row in
            ["\(epochs[row] + 1)"] + keys.map { key in
                history[key].flatMap { row < $0.count ? String(format: "%.4f", $0[row]) : nil } ?? "—"
            }
        }
        let widths = columns.indices.map { c in ([columns[c]] + cells.map { $0[c] }).map(\.count).max()! }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { String(repeating: " ", count: $1 - $0.count) + $0 }.joined(separator: "  ")
        }
        return ([line(columns)] + cells.map(line)).joined(separator: "\n")
    }
}

extension Model {
    /// Keras's `compile`. With an optimizer created without parameters (`Adam()`), `fit` hands
    /// it the model's parameters once the model is built. A metric listed twice is kept once.
    public func compile(optimizer: Optimizer = RMSprop(), loss: Loss, metrics: [Metric] = []) {
        var names = Set<String>()
        compiled = CompiledSettings(optimizer: optimizer, loss: loss, metrics: metrics.filter { names.insert($0.name).inserted })
    }

    /// Trains on `x` (one example per row) against `y` for `epochs` passes.
    ///
    /// `validationSplit` holds out the last fraction of the examples (before shuffling, as Keras
    /// does); `validationData` gives a separate set. `classWeight` scales each example's loss by
    /// the weight of its class (the label, or the index of a one-hot row); `sampleWeight` ([N])
    /// by a weight of its own (the validation loss stays unweighted). Shuffling is seeded.
    ///
    /// `bucketing` puts examples of similar length together (shuffled, sorted by length within
    /// chunks of 50 batches, batches in shuffled order) and cuts from each batch the time steps
    /// that are padding in all its rows, so padded data trains at the cost of its real steps.
    /// It needs a `Sequential` whose first layer masks zeros (`Embedding(maskZero: true)` or
    /// `Masking(maskValue: 0)`), so the cut steps were masked anyway, and one target per example.
    @discardableResult
    public func fit(
        _ x: Tensor, _ y: Tensor, batchSize: Int = 32, epochs: Int = 1, verbose: Verbosity = .auto,
        callbacks: [Callback] = [], validationSplit: Float = 0, validationData: (x: Tensor, y: Tensor)? = nil,
        shuffle: Bool = true, classWeight: [Int: Float]? = nil, sampleWeight: Tensor? = nil, lengths: [Int]? = nil,
        validationLengths: [Int]? = nil, bucketing: Bool = false, seed: UInt64? = nil, report: String? = nil,
        distributed: Communicator? = nil
    ) throws -> History {
        try fit(
            [x], y, batchSize: batchSize, epochs: epochs, verbose: verbose, callbacks: callbacks,
            validationSplit: validationSplit, validationData: validationData.map { (x: [$0.x], y: $0.y) },
            shuffle: shuffle, classWeight: classWeight, sampleWeight: sampleWeight, lengths: lengths,
            validationLengths: validationLengths, bucketing: bucketing, seed: seed, report: report, distributed: distributed)
    }

    /// `fit` for a model of several inputs: one tensor per input, all with the same number of rows.
    @discardableResult
    public func fit(
        _ x: [Tensor], _ y: Tensor, batchSize: Int = 32, epochs: Int = 1, verbose: Verbosity = .auto,
        callbacks: [Callback] = [], validationSplit: Float = 0, validationData: (x: [Tensor], y: Tensor)? = nil,
        shuffle: Bool = true, classWeight: [Int: Float]? = nil, sampleWeight: Tensor? = nil, lengths: [Int]? = nil,
        validationLengths: [Int]? = nil, bucketing: Bool = false, seed: UInt64? = nil, report: String? = nil,
        distributed: Communicator? = nil
    ) throws -> History {
        let settings = try requireCompiled()
        let started = Date()
        // Data-parallel: `batchSize` examples per rank, rank r taking the r-th part of each global batch.
        let world = distributed.flatMap { $0.size > 1 ? $0 : nil }
        let rank = world?.rank ?? 0, globalBatch = batchSize * (world?.size ?? 1)
        isPrimaryProcess = rank == 0
        defer { isPrimaryProcess = true }
        let count = try checkDataset(x, y, role: "training data")
        try checkLengths(lengths, x, role: "fit lengths")
        if lengths != nil && bucketing {
            throw RecurrentError.invalidArgument("fit: bucketing finds the lengths from the masking first layer; give lengths or bucketing, not both")
        }
        guard batchSize > 0 else { throw RecurrentError.invalidArgument("fit: batchSize must be positive, got \(batchSize)") }
        guard epochs >= 0 else { throw RecurrentError.invalidArgument("fit: epochs must be ≥ 0, got \(epochs)") }
        guard (0..<1).contains(validationSplit) else {
            throw RecurrentError.invalidArgument("fit: validationSplit must be in [0, 1), got \(validationSplit)")
        }
        // As in Keras, validationData overrides validationSplit.
        let heldOut = validationData == nil ? Int(Float(count) * validationSplit) : 0
        let trainCount = count - heldOut
        guard trainCount > 0 else {
            throw RecurrentError.invalidArgument("fit: validationSplit \(validationSplit) leaves no training examples")
        }
        var validation = validationData
        var heldOutLengths = validationLengths
        if validation == nil && heldOut > 0 {
            let rows = Array(trainCount..<count)
            validation = (try x.map { try $0.rows(at: rows) }, try y.rows(at: rows))
            heldOutLengths = lengths.map { Array($0[trainCount...]) }
        }
        if let validation {
            _ = try checkDataset(validation.x, validation.y, role: "validation data")
            try checkLengths(heldOutLengths, validation.x, role: "fit validationLengths")
        }
        if validationLengths != nil && validationData == nil {
            throw RecurrentError.invalidArgument("fit: validationLengths given without validationData")
        }
        if classWeight != nil && sampleWeight != nil {
            throw RecurrentError.invalidArgument("fit: give classWeight or sampleWeight, not both (as Keras)")
        }
        let weights = try sampleWeight.map { try exampleWeights($0, count: count) }
            ?? classWeight.map { try exampleWeights(y, classWeight: $0, loss: settings.loss) }
        let spans = bucketing ? try paddingSpans(x, y, count: trainCount) : nil
        (self as? Sequential)?.bucketedSteps = bucketing
        defer { (self as? Sequential)?.bucketedSteps = false }

        let run = FitProgress(generator: seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split())
        fitProgress = run
        defer { fitProgress = nil }
        let steps = (trainCount + globalBatch - 1) / globalBatch
        let progress = ProgressBar(steps: steps, verbosity: rank == 0 ? verbose : .silent, write: progressWriter)
        var history = History()
        var rates: [Double] = []
        stopTraining = false
        try prepareOptimizer(settings.optimizer, firstBatch: x.map { try $0.rows(at: Array(0..<min(batchSize, trainCount))) })
        try world?.broadcastParameters(settings.optimizer.parameters)
        if let world { useRandomStream(ofRank: world.rank) }
        let exchange = world.map { GradientExchange(settings.optimizer.parameters, world: $0) }
        for callback in callbacks { try callback.onTrainBegin(model: self) }
        // A rank that fails ends every rank, naming itself and the cause, rather than leaving the
        // others waiting in a collective.
        do {
        for epoch in run.nextEpoch..<max(epochs, run.nextEpoch) {
            for callback in callbacks { try callback.onEpochBegin(epoch, model: self) }
            progress.begin(epoch: epoch, of: epochs)
            var order = Array(0..<trainCount)
            if shuffle { order.shuffle(using: &run.generator) }
            if let spans { order = Self.bucketed(order, spans: spans, batchSize: globalBatch, shuffle: shuffle, generator: &run.generator) }
            var tracker = LogTracker(settings: settings)
            isTraining = true
            defer { isTraining = false }
            for step in 0..<steps {
                let global = order[(step * globalBatch)..<min((step + 1) * globalBatch, trainCount)]
                let rows = Array(global.dropFirst(rank * batchSize).prefix(batchSize))
                settings.optimizer.zeroGradients()
                guard !rows.isEmpty else {
                    // The last global batch may leave this rank nothing: it still takes part in the sums.
                    exchange?.begin(examples: 0)
                    try exchange?.finish()
                    try settings.optimizer.step()
                    continue
                }
                var inputs = try x.map { Variable(try $0.rows(at: rows)) }
                if let spans {
                    let real = rows.map { spans[$0] }.filter { !$0.isEmpty }
                    let steps = real.isEmpty ? 0..<1 : real.map(\.lowerBound).min()!..<real.map(\.upperBound).max()!
                    inputs = [Variable(try inputs[0].value.sliced(steps, axis: 1))]
                }
                let target = try y.rows(at: rows)
                let prediction = try forward(inputs, lengths: lengths.map { l in rows.map { l[$0] } })
                let loss = try weights.map { w in
                    try settings.loss.weighted(prediction, target, weights: rows.map { w[$0] })
                } ?? settings.loss(prediction, target)
                exchange?.begin(examples: rows.count)
                try loss.backward(whenComplete: exchange?.gradientReady)
                try exchange?.finish()
                try settings.optimizer.step()
                try tracker.add(loss: loss.value.scalar, prediction: prediction.value, target: target, examples: rows.count)
                progress.update(step: step + 1, logs: tracker.logs)
                for callback in callbacks { try callback.onBatchEnd(step, logs: Dictionary(uniqueKeysWithValues: tracker.logs), model: self) }
                if stopTraining { break }  // a callback ended training mid-epoch (TerminateOnNaN)
            }
            isTraining = false
            run.nextEpoch = epoch + 1
            if let world { try tracker.reduce(over: world) }
            var logs = tracker.logs
            if let validation {
                logs += try evaluateLogs(validation.x, validation.y, batchSize: batchSize, lengths: heldOutLengths)
                    .map { ("val_" + $0.0, $0.1) }
            }
            progress.end(logs: logs)
            history.append(epoch: epoch, logs: logs)
            rates.append(Double(settings.optimizer.learningRate))
            for callback in callbacks {
                try callback.onEpochEnd(epoch, logs: Dictionary(uniqueKeysWithValues: logs), model: self)
            }
            if stopTraining { break }
        }
        } catch {
            if let world { world.abort("\(error)") }
            throw error
        }
        for callback in callbacks { try callback.onTrainEnd(model: self) }
        if let report, rank == 0 {
            try trainingReport(history, rates: rates, epochs: epochs, batchSize: batchSize, examples: trainCount,
                               validationExamples: validation?.y.shape[0] ?? 0, seconds: Date().timeIntervalSince(started)).write(to: report)
        }
        return history
    }

    /// The page `fit(report:)` writes: the run's facts, its curves, and the model's summary.
    func trainingReport(
        _ history: History, rates: [Double], epochs: Int, batchSize: Int, examples: Int, validationExamples: Int, seconds: Double
    ) throws -> TrainingReport {
        let monitored = history["val_loss"] ?? history["loss"] ?? []
        let best = monitored.indices.min { monitored[$0] < monitored[$1] }.map { $0 + 1 }
        let facts: [(String, String)] = [
            ("model", String(describing: type(of: self))), ("parameters", String(parameterCount)),
            ("optimizer", String(describing: type(of: compiled!.optimizer))), ("loss", "\(compiled!.loss)"),
            ("epochs", "\(history.epochs.count) of \(epochs)"), ("batch size", String(batchSize)),
            ("examples", "\(examples) training, \(validationExamples) validation"),
            ("wall time", String(format: "%.1f s", seconds)), ("machine", "\(Recurrent.kernelInfo), \(ProcessInfo.processInfo.activeProcessorCount) threads"),
        ]
        let summary = (try? summaryText()) ?? String(describing: self)
        return TrainingReport(
            title: "Training report", facts: facts,
            charts: history.reportCharts + [.init("learning rate", [.init("learning rate", rates.map { $0 })])],
            bestEpoch: best, stoppedEarlyAt: history.epochs.count < epochs ? history.epochs.count : nil,
            sections: [("Model", "<pre>\(TrainingReport.escape(summary))</pre>")])
    }

    /// The loss and metrics on a dataset, without training (Keras's `evaluate`).
    public func evaluate(
        _ x: Tensor, _ y: Tensor, batchSize: Int = 32, lengths: [Int]? = nil, verbose: Verbosity = .silent
    ) throws -> [String: Float] {
        try evaluate([x], y, batchSize: batchSize, lengths: lengths, verbose: verbose)
    }

    public func evaluate(
        _ x: [Tensor], _ y: Tensor, batchSize: Int = 32, lengths: [Int]? = nil, verbose: Verbosity = .silent
    ) throws -> [String: Float] {
        _ = try requireCompiled()
        _ = try checkDataset(x, y, role: "evaluation data")
        try checkLengths(lengths, x, role: "evaluate lengths")
        guard batchSize > 0 else { throw RecurrentError.invalidArgument("evaluate: batchSize must be positive, got \(batchSize)") }
        let logs = try evaluateLogs(x, y, batchSize: batchSize, lengths: lengths)
        if verbose.resolved != .silent {
            progressWriter(ProgressBar.counter(1, 1) + ProgressBar.format(logs) + "\n")
        }
        return Dictionary(uniqueKeysWithValues: logs)
    }

    /// The model's outputs for every row of `x`, computed in batches without gradients; with
    /// `lengths`, example b's steps from `lengths[b]` on are padding (masked).
    public func predict(_ x: Tensor, batchSize: Int = 32, lengths: [Int]? = nil) throws -> Tensor {
        try predict([x], batchSize: batchSize, lengths: lengths)
    }

    public func predict(_ x: [Tensor], batchSize: Int = 32, lengths: [Int]? = nil) throws -> Tensor {
        let count = try checkInputs(x, role: "prediction input")
        try checkLengths(lengths, x, role: "predict lengths")
        guard batchSize > 0 else { throw RecurrentError.invalidArgument("predict: batchSize must be positive, got \(batchSize)") }
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        return try withoutGradients {
            let outputs = try stride(from: 0, to: count, by: batchSize).map { start in
                let rows = Array(start..<min(start + batchSize, count))
                return try forward(try x.map { Variable(try $0.rows(at: rows)) }, lengths: lengths.map { l in rows.map { l[$0] } }).value
            }
            return outputs.count == 1 ? outputs[0] : try Tensor.concatenate(outputs, axis: 0)
        }
    }

    // MARK: Helpers

    private func requireCompiled() throws -> CompiledSettings {
        guard let compiled else {
            throw RecurrentError.invalidArgument("\(type(of: self)): call compile(optimizer:loss:metrics:) before fit or evaluate")
        }
        return compiled
    }

    /// The number of examples, after checking that inputs and targets agree.
    private func checkDataset(_ x: [Tensor], _ y: Tensor, role: String) throws -> Int {
        let count = try checkInputs(x, role: role)
        guard y.rank >= 1, y.shape[0] == count else {
            throw RecurrentError.invalidArgument(
                "\(role): x has \(count) examples but y has \(y.rank == 0 ? "none (a scalar)" : String(y.shape[0]))")
        }
        return count
    }

    private func checkInputs(_ x: [Tensor], role: String) throws -> Int {
        guard let first = x.first else { throw RecurrentError.invalidArgument("\(role): no input tensors") }
        guard first.rank >= 1, first.shape[0] > 0 else {
            throw RecurrentError.invalidArgument("\(role) is empty: shape \(Shape.describe(first.shape))")
        }
        if let other = x.first(where: { $0.rank == 0 || $0.shape[0] != first.shape[0] }) {
            throw RecurrentError.invalidArgument(
                "\(role): inputs have different numbers of examples, \(first.shape[0]) and \(other.shape.first ?? 0)")
        }
        return first.shape[0]
    }

    /// Per-example lengths: one per example of the first input, each in 1...steps.
    private func checkLengths(_ lengths: [Int]?, _ x: [Tensor], role: String) throws {
        guard let lengths else { return }
        guard self is Sequential || graph != nil else {
            throw RecurrentError.invalidArgument(
                "\(role): lengths mask a Sequential or functional model's first input; \(type(of: self)) takes masks in its own callAsFunction")
        }
        guard x[0].rank >= 2 else {
            throw RecurrentError.invalidArgument("\(role): lengths need inputs with a time axis, got shape \(Shape.describe(x[0].shape))")
        }
        guard lengths.count == x[0].shape[0] else {
            throw RecurrentError.invalidArgument("\(role): \(lengths.count) lengths for \(x[0].shape[0]) examples")
        }
        let steps = x[0].shape[1]
        if let bad = lengths.firstIndex(where: { !(1...steps).contains($0) }) {
            throw RecurrentError.invalidArgument("\(role): example \(bad) has length \(lengths[bad]), outside 1...\(steps) (the input's steps)")
        }
    }

    /// The model on a batch; with lengths, the first input's steps from each example's length on are masked.
    func forward(_ inputs: [Variable], lengths: [Int]?) throws -> Variable {
        guard let lengths else { return try self(inputs) }
        let steps = inputs[0].shape[1]
        let mask = try Tensor(shape: [lengths.count, steps], scalars: lengths.flatMap { length in (0..<steps).map { $0 < length ? 1 : 0 } })
        if let sequential = self as? Sequential { return try sequential.call(inputs[0], mask: mask).output }
        return try graph!.run(inputs, firstInputMask: mask)
    }

    /// Builds a model whose layers infer their sizes, then gives an empty optimizer the parameters.
    private func prepareOptimizer(_ optimizer: Optimizer, firstBatch: [Tensor]) throws {
        guard optimizer.parameters.isEmpty else { return }
        if parameters.isEmpty || (self as? Sequential)?.isBuilt == false {
            _ = try withoutGradients { try self(firstBatch.map { Variable($0) }) }
        }
        optimizer.parameters = parameters()
    }

    func evaluateLogs(_ x: [Tensor], _ y: Tensor, batchSize: Int, lengths: [Int]? = nil) throws -> [(String, Float)] {
        let settings = try requireCompiled()
        let count = x[0].shape[0]
        var tracker = LogTracker(settings: settings)
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        try withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = Array(start..<min(start + batchSize, count))
                let target = try y.rows(at: rows)
                let prediction = try forward(try x.map { Variable(try $0.rows(at: rows)) }, lengths: lengths.map { l in rows.map { l[$0] } })
                let loss = try settings.loss(prediction, target)
                try tracker.add(loss: loss.value.scalar, prediction: prediction.value, target: target, examples: rows.count)
            }
        }
        return tracker.logs
    }

    /// One finite, non-negative weight per example from `sampleWeight` ([N] or [N, 1]).
    private func exampleWeights(_ sampleWeight: Tensor, count: Int) throws -> [Float] {
        guard sampleWeight.shape == [count] || sampleWeight.shape == [count, 1] else {
            throw RecurrentError.shapeMismatch(
                operation: "fit sampleWeight", expected: "[\(count)] (one weight per example)", got: sampleWeight.shape)
        }
        let weights = sampleWeight.scalars
        if let bad = weights.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
            throw RecurrentError.invalidArgument("fit: sampleWeight \(weights[bad]) of example \(bad) is not a finite weight ≥ 0")
        }
        return weights
    }

    /// One weight per example from its class: the label, or the index of the largest entry of a one-hot row.
    private func exampleWeights(_ y: Tensor, classWeight: [Int: Float], loss: Loss) throws -> [Float] {
        let rows = y.shape[0], width = rows == 0 ? 0 : y.count / rows
        let oneHot: Bool
        if case .categoricalCrossEntropy = loss { oneHot = true } else { oneHot = false }
        guard y.rank == 1 || (y.rank == 2 && (width == 1 || oneHot)) else {
            throw RecurrentError.invalidArgument(
                "classWeight needs one label or one one-hot row per example; y has shape \(Shape.describe(y.shape))")
        }
        let values = y.scalars
        return try (0..<rows).map { row in
            let slice = values[(row * width)..<((row + 1) * width)]
            let label = width == 1 ? Int(slice.first!.rounded()) : slice.indices.max { slice[$0] < slice[$1] }! - row * width
            guard let weight = classWeight[label] else {
                throw RecurrentError.invalidArgument("classWeight has no weight for class \(label) (example \(row))")
            }
            return weight
        }
    }
}

/// Running means of the loss (weighted by batch size, as Keras) and of the metrics (over elements).
struct LogTracker {
    let settings: CompiledSettings
    private var lossSum = 0.0, examples = 0
    private var metricTotals: [(metric: Metric, sum: Double, count: Int)] = []

    init(settings: CompiledSettings) { self.settings = settings }

    mutating func add(loss: Float, prediction: Tensor, target: Tensor, examples batch: Int) throws {
        lossSum += Double(loss) * Double(batch)
        examples += batch
        if metricTotals.isEmpty {
            metricTotals = settings.metrics.map {
                ($0.resolved(prediction: prediction.shape, target: target.shape, loss: settings.loss), 0, 0)
            }
        }
        for i in metricTotals.indices {
            let (sum, count) = try metricTotals[i].metric.total(prediction, target)
            metricTotals[i].sum += sum
            metricTotals[i].count += count
        }
    }

    /// The sums of every rank: the epoch's logs over all the ranks' examples.
    mutating func reduce(over world: Communicator) throws {
        var sums = [Float(lossSum), Float(examples)] + metricTotals.flatMap { [Float($0.sum), Float($0.count)] }
        try world.allReduceSum(&sums)
        lossSum = Double(sums[0])
        examples = Int(sums[1].rounded())
        for i in metricTotals.indices {
            metricTotals[i].sum = Double(sums[2 + 2 * i])
            metricTotals[i].count = Int(sums[3 + 2 * i].rounded())
        }
    }

    /// `loss` first, then the metrics in the order given to `compile`, named as given.
    var logs: [(String, Float)] {
        [("loss", Float(lossSum / Double(max(examples, 1))))]
            + zip(settings.metrics, metricTotals).map { ($0.name, Float($1.sum / Double(max($1.count, 1)))) }
    }
}

extension Loss {
    /// The loss with each example's contribution scaled by its weight, divided by the batch size
    /// (Keras's sample weights with "sum over batch size" reduction).
    func weighted(_ prediction: Variable, _ target: Tensor, weights: [Float]) throws -> Variable {
        let batch = prediction.shape[0]
        precondition(weights.count == batch, "one weight per example")
        var perExample = [Float](repeating: 0, count: batch)
        for b in 0..<batch {
            perExample[b] = try self(Variable(try prediction.value.rows(at: [b])), try target.rows(at: [b])).value.scalar
        }
        let value = zip(perExample, weights).reduce(0) { $0 + $1.0 * $1.1 } / Float(batch)
        // The unweighted mean's gradient, each example's rows scaled by its weight.
        let probe = Variable(prediction.value, requiresGrad: true)
        try GradientMode.$isEnabled.withValue(true) { try self(probe, target).backward() }
        var gradient = probe.grad!
        let width = gradient.count / batch
        gradient.withUnsafeMutableBufferPointer { g in
            for b in 0..<batch { for j in 0..<width { g[b * width + j] *= weights[b] } }
        }
        return Variable.record(Tensor(scalar: value), inputs: [prediction]) { g in [gradient * g.scalar] }
    }
}

extension Model {
    /// Each training example's steps from its first to its last that is not padding (all zeros).
    func paddingSpans(_ x: [Tensor], _ y: Tensor, count: Int) throws -> [Range<Int>] {
        let masksZeros: Bool
        switch (self as? Sequential)?.layers.first {
        case let embedding as Embedding: masksZeros = embedding.maskZero
        case let masking as Masking: masksZeros = masking.maskValue == 0
        default: masksZeros = false
        }
        guard masksZeros else {
            throw RecurrentError.invalidArgument(
                "fit: bucketing cuts padding steps, so it needs a Sequential whose first layer masks zeros "
                    + "(Embedding(maskZero: true) or Masking(maskValue: 0))")
        }
        guard x.count == 1, x[0].rank >= 2 else {
            throw RecurrentError.invalidArgument("fit: bucketing needs one input of sequences [examples, steps, ...], got \(x.map { Shape.describe($0.shape) })")
        }
        let (T, width) = (x[0].shape[1], x[0].shape.dropFirst(2).reduce(1, *))
        guard y.rank == 1 || (y.rank == 2 && y.shape[1] != T) else {
            throw RecurrentError.invalidArgument(
                "fit: bucketing cuts time steps, so it needs one target per example (labels [N] or rows [N, K]), got \(Shape.describe(y.shape))")
        }
        return x[0].withUnsafeBufferPointer { values in
            (0..<count).map { n in
                let real = (0..<T).filter { t in (0..<width).contains { values[(n * T + t) * width + $0] != 0 } }
                return (real.first ?? 0)..<((real.last ?? -1) + 1)
            }
        }
    }

    /// The examples in batch order: sorted by length within chunks of 50 batches, the batches shuffled.
    static func bucketed(_ order: [Int], spans: [Range<Int>], batchSize: Int, shuffle: Bool, generator: inout SeededGenerator) -> [Int] {
        let chunk = batchSize * 50
        let sorted = stride(from: 0, to: order.count, by: chunk).flatMap { start in
            order[start..<min(start + chunk, order.count)].sorted { spans[$0].count < spans[$1].count }
        }
        var batches = stride(from: 0, to: sorted.count, by: batchSize).map { Array(sorted[$0..<min($0 + batchSize, sorted.count)]) }
        if shuffle { batches.shuffle(using: &generator) }
        return batches.flatMap { $0 }
    }
}
