import Foundation
import Recurrent

/// What `recurrent train` did, for printing.
public struct TrainingRun: Sendable {
    public var directory: String
    public var report: TaskReport?
    public var outcome: TrainingOutcome
    public var parameterCount: Int
    public var sizes: [(String, Int)]
    /// This process's rank in a data-parallel run (only rank 0 wrote the directory).
    public var rank = 0
}

public enum PredictionFormat: Sendable {
    case csv, npy
}

/// The task pipelines as library calls: what the command-line tool runs.
public enum Tasks {
    /// Trains a model on `options.dataPath` and writes the model directory `out`.
    ///
    /// `initFrom` starts from another model directory's weights (same architecture);
    /// `resume` continues the run whose checkpoint a model directory (or a `.partial` one
    /// left by an interrupted run) holds, with its options, for `options.epochs` epochs in all.
    ///
    /// `distributed` (several processes under `mpirun`) trains data-parallel: every rank reads
    /// the data, `batchSize` is per rank, rank 0's options, checkpoint and initial weights go to
    /// every rank, each rank trains on its rows of every global batch, and rank 0 alone writes
    /// the model directory. A rank that fails ends every rank with its error.
    public static func train(
        _ options: TaskOptions, out: String, initFrom: String? = nil, resume: String? = nil,
        commandLine: [String] = CommandLine.arguments, log: @escaping (String) -> Void = { _ in },
        distributed: Communicator? = nil
    ) throws -> TrainingRun {
        guard let world = distributed, world.size > 1 else {
            return try train(options, out: out, initFrom: initFrom, resume: resume, commandLine: commandLine, log: log, world: nil)
        }
        do {
            return try train(options, out: out, initFrom: initFrom, resume: resume, commandLine: commandLine, log: log, world: world)
        } catch {
            world.abort("\(error)")
        }
    }

    private static func train(
        _ options: TaskOptions, out: String, initFrom: String?, resume: String?, commandLine: [String],
        log: @escaping (String) -> Void, world: Communicator?
    ) throws -> TrainingRun {
        let primary = (world?.rank ?? 0) == 0
        var options = options
        var checkpoint: (data: Data, path: String)?
        if let resume, primary { (options, checkpoint) = try resumable(options, from: resume) }
        if let world {
            options = try JSONDecoder().decode(TaskOptions.self, from: Data(try world.broadcasting([UInt8](try JSONEncoder().encode(options)))))
            if resume != nil {
                let data = Data(try world.broadcasting(checkpoint.map { [UInt8]($0.data) } ?? []))
                checkpoint = (data, checkpoint?.path ?? "rank 0's checkpoint")
            }
            options.ranks = world.size
        }
        if primary { try ModelDirectory.checkReplaceable(out) }
        let started = Date()
        let prepared = try options.task.pipeline.prepare(options)
        try prepared.settings.validate(trainingExamples: prepared.stream == nil ? prepared.train.count : prepared.settings.batchSize)
        if let world { try checkSamePreprocessing(prepared.preprocessing, world) }
        let network = try SequenceNetwork(prepared.spec, seed: prepared.settings.seed)
        // Another model's weights are read where rank 0 runs; they reach the others with its initial weights.
        if let initFrom, primary { try initialize(network, from: initFrom) } else { try prepared.initialize?(network) }

        let trainer = Trainer(
            network: network, settings: prepared.settings, carriesState: prepared.stream != nil,
            validation: try prepared.validationBatches, trainingBatches: prepared.trainingBatches)
        trainer.world = world
        if primary {
            trainer.log = log
            trainer.epochSample = prepared.epochSample
        }
        if let world {
            try world.broadcastParameters(network.parameters())
            network.useRandomStream(ofRank: world.rank)
        }
        if let checkpoint { try trainer.loadCheckpoint(checkpoint.data, path: checkpoint.path) }
        guard primary else {
            let outcome = try trainer.run()
            return TrainingRun(
                directory: out, report: nil, outcome: outcome, parameterCount: network.parameterCount, sizes: prepared.sizes, rank: world!.rank)
        }

        return try ModelDirectory.writing(out) { partial in
            try ModelDirectory.savePreprocessing(prepared.preprocessing, in: partial)
            trainer.checkpointPath = partial + "/" + ModelDirectory.checkpointFile
            let outcome = try trainer.run()
            let report = prepared.test.isEmpty
                ? nil : try options.task.pipeline.evaluate(network, prepared.preprocessing, path: options.dataPath, all: false)
            try ModelDirectory.saveModel(network, in: partial)
            try writeHistory(outcome.history, in: partial)
            if let report { try ModelDirectory.write(report.metrics.rendered() + "\n", to: partial + "/metrics.json") }
            let run = runRecord(options, prepared, network, outcome, commandLine: commandLine, seconds: Date().timeIntervalSince(started))
            try ModelDirectory.write(run.rendered() + "\n", to: partial + "/run.json")
            try ReportPage.write(model: partial, name: URL(fileURLWithPath: out).standardizedFileURL.lastPathComponent)
            return TrainingRun(directory: out, report: report, outcome: outcome, parameterCount: network.parameterCount, sizes: prepared.sizes)
        }
    }

    /// The options and checkpoint of the run `resume` names, with this run's epochs, budget,
    /// patience and checkpoint interval where given. Read before the partial directory (where
    /// the checkpoint may live) is made anew.
    private static func resumable(_ given: TaskOptions, from resume: String) throws -> (TaskOptions, (data: Data, path: String)) {
        let source = FileManager.default.fileExists(atPath: resume + "/" + ModelDirectory.checkpointFile) ? resume : ModelDirectory.partialPath(resume)
        let path = source + "/" + ModelDirectory.checkpointFile
        guard FileManager.default.fileExists(atPath: path) else {
            throw RecurrentError.file(path: resume, problem: "holds no training checkpoint to resume")
        }
        let saved = try ModelDirectory.loadPreprocessing(source)
        guard saved.task == given.task else {
            throw RecurrentError.file(path: resume, problem: "holds a \(saved.task.rawValue) run, not \(given.task.rawValue)")
        }
        var options = saved.options
        options.epochs = given.epochs ?? options.epochs
        options.timeBudget = given.timeBudget ?? options.timeBudget
        options.patience = given.patience ?? options.patience
        options.checkpointEvery = given.checkpointEvery ?? options.checkpointEvery
        options.ranks = nil   // this run's processes decide
        return (options, (try Trainer.readCheckpoint(path), path))
    }

    /// Every rank must have fitted rank 0's preprocessing: the same data file on every host.
    private static func checkSamePreprocessing(_ preprocessing: Preprocessing, _ world: Communicator) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let mine = [UInt8](try encoder.encode(preprocessing))
        guard try world.broadcasting(mine) == mine else {
            throw RecurrentError.invalidArgument(
                "rank \(world.rank) fitted other preprocessing than rank 0 on \(preprocessing.options.dataPath): every host needs the same data file")
        }
    }

    /// Copies another model's weights, which must have the same names and shapes.
    static func initialize(_ network: SequenceNetwork, from directory: String) throws {
        let (source, _) = try ModelDirectory.load(directory)
        let weights = source.stateDict()
        for (name, parameter) in network.namedParameters {
            guard let w = weights[name], w.shape == parameter.value.shape else {
                throw RecurrentError.file(
                    path: directory,
                    problem: "--init-from: its weights do not fit this network (\(name) \(Shape.describe(parameter.value.shape)) vs \(weights[name].map { Shape.describe($0.shape) } ?? "absent"))")
            }
            parameter.value = w
        }
    }

    static func writeHistory(_ history: [EpochRecord], in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try ModelDirectory.write(String(decoding: try encoder.encode(history), as: UTF8.self) + "\n", to: directory + "/history.json")
        try ModelDirectory.write(([EpochRecord.csvHeader] + history.map(\.csvLine)).joined(separator: "\n") + "\n", to: directory + "/history.csv")
    }

    static func runRecord(
        _ o: TaskOptions, _ p: PreparedTask, _ network: SequenceNetwork, _ outcome: TrainingOutcome, commandLine: [String], seconds: Double
    ) -> JSON {
        .object([
            ("command_line", .array(commandLine.map(JSON.string))),
            ("task", .string(o.task.rawValue)),
            ("data", .string(o.dataPath)),
            ("seed", .number(Double(p.settings.seed))),
            ("sizes", .object(p.sizes.map { ($0.0, .number(Double($0.1))) })),
            ("parameters", .number(Double(network.parameterCount))),
            ("network", .object([("cell", .string(p.spec.cell.rawValue)), ("units", .number(Double(p.spec.units))),
                                 ("layers", .number(Double(p.spec.layers))), ("bidirectional", .bool(p.spec.bidirectional)),
                                 ("dropout", .number(Double(p.spec.dropout))), ("recurrent_dropout", .number(Double(p.spec.recurrentDropout)))])),
            ("training", .object([("epochs", .number(Double(p.settings.epochs))), ("epochs_run", .number(Double(outcome.history.count))),
                                  ("best_epoch", outcome.bestEpoch.map { .number(Double($0)) } ?? .null),
                                  ("batch_size", .number(Double(p.settings.batchSize / (o.ranks ?? 1)))),
                                  ("ranks", .number(Double(o.ranks ?? 1))), ("learning_rate", .number(Double(p.settings.learningRate))),
                                  ("clip_norm", p.settings.clipNorm.map { .number(Double($0)) } ?? .null),
                                  ("patience", p.settings.patience.map { .number(Double($0)) } ?? .null),
                                  ("time_budget", p.settings.timeBudget.map { .number($0) } ?? .null),
                                  ("stopped_early", .bool(outcome.stoppedEarly))])),
            ("versions", .object([("recurrent", .string(Recurrent.version)), ("swift_runtime", .string(ProcessInfo.processInfo.operatingSystemVersionString))])),
            ("kernel_isa", .string("\(Recurrent.kernelInfo)")),
            ("threads", .number(Double(ProcessInfo.processInfo.activeProcessorCount))),
            ("training_seconds", .number(outcome.seconds)),
            ("wall_seconds", .number(seconds)),
        ])
    }

    /// The task's metrics and baselines on a data file: its held-out part as in training, or all of it.
    public static func evaluate(model: String, data: String, all: Bool = false) throws -> TaskReport {
        let (network, preprocessing) = try ModelDirectory.load(model)
        return try preprocessing.task.pipeline.evaluate(network, preprocessing, path: data, all: all)
    }

    /// Predictions for `input`. A task model gives CSV for each row, sequence, sentence or line;
    /// an imported model takes a `.npy` tensor [batch, ...] and gives its output tensor, as NPY
    /// or as CSV (a line per example, the other axes flattened into columns `y0`, `y1`, …).
    public static func predict(model: String, input: String, format: PredictionFormat = .csv) throws -> Data {
        let (network, preprocessing): (SequenceNetwork, Preprocessing)
        switch try ModelDirectory.open(model) {
        case let .imported(imported):
            let y = try imported.predict(try NumPy.readNPY(path: input))
            return format == .npy ? NumPy.writeNPY(y) : Data(csv(y).utf8)
        case let .task(n, p): (network, preprocessing) = (n, p)
        }
        guard format == .csv else {
            throw RecurrentError.invalidArgument(
                "a \(preprocessing.task.rawValue) model predicts CSV; .npy output is for models brought in by `recurrent import`")
        }
        return Data(try preprocessing.task.pipeline.predict(network, preprocessing, input: input, path: input).utf8)
    }

    static func csv(_ y: Tensor) -> String {
        let rows = y.shape.first ?? 1, columns = rows == 0 ? 0 : y.count / rows
        let values = y.scalars
        var lines = [(0..<columns).map { "y\($0)" }.joined(separator: ",")]
        for r in 0..<rows {
            lines.append(values[r * columns..<(r + 1) * columns].map { "\($0)" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Text sampled from a language model after `prime`.
    public static func generate(
        model: String, prime: String, length: Int, temperature: Double = 1, topK: Int? = nil, seed: UInt64 = 1
    ) throws -> String {
        let (network, preprocessing) = try ModelDirectory.load(model, task: .languageModel)
        return try LanguageModelTask.generate(network, preprocessing, prime: prime, length: length, temperature: temperature, topK: topK, seed: seed)
    }

    /// The network, part by part with parameter counts, and the preprocessing it carries.
    public static func summary(model: String) throws -> String {
        let (network, p): (SequenceNetwork, Preprocessing)
        switch try ModelDirectory.open(model) {
        case let .imported(imported):
            let run = (try? Data(contentsOf: URL(fileURLWithPath: model + "/run.json")))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            let origin = ["framework", "weights", "architecture"].map { "\($0): \(run[$0].map { "\($0)" } ?? "unknown")" }
            return (["task: imported"] + origin).joined(separator: "\n") + "\n" + (try imported.summaryText())
        case let .task(n, preprocessing): (network, p) = (n, preprocessing)
        }
        var lines = ["task: \(p.task.rawValue)", "network: \(network.spec.cell.rawValue), \(network.spec.units) units × \(network.spec.layers) layer(s)"
                        + (network.spec.bidirectional ? ", bidirectional" : "")]
        lines += network.summaryLines
        if let f = p.forecast {
            lines.append("preprocessing: column \(f.column), window \(f.window), horizon \(f.horizon), scaled by mean \(f.mean) and deviation \(f.scale); season \(f.season)")
        }
        if let s = p.sequences {
            lines.append("preprocessing: sequences by \(s.idColumn)" + (s.stepColumn.map { ", ordered by \($0)" } ?? "")
                         + "; features \(s.featureColumns.joined(separator: ", ")) standardised; labels (\(s.labelColumn)): \(s.labels.joined(separator: ", "))")
        }
        if let t = p.text {
            lines.append("preprocessing: Keras tokenizer of \(t.vocabularySize) words on \(t.textColumn), at most \(t.maxLength) words; labels (\(t.labelColumn)): \(t.labels.joined(separator: ", "))")
        }
        if let c = p.characters {
            lines.append("preprocessing: \(c.characters.count - 1) characters (and one for unseen), chunks of \(c.bptt) steps")
        }
        if let t = p.tagging {
            lines.append("preprocessing: \(t.words.count) words, \(t.suffixes.count) suffixes, \(t.prefixes.count) prefixes, \(TaggingTask.shapeFeatures) shape features; \(t.tags.count) tags")
        }
        return lines.joined(separator: "\n")
    }
}
