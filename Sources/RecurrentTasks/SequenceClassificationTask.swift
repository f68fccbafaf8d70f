import Foundation
import Recurrent

/// `classify-sequences`: a long-format CSV (one row per step; an id column groups the rows of
/// one sequence, a step column orders them, a label column gives its class), numeric features.
public struct SequencePreprocessing: Codable, Sendable {
    public var idColumn: String
    public var stepColumn: String?
    public var labelColumn: String
    public var featureColumns: [String]
    public var scaler: Scaler
    public var labels: [String]
    /// The most frequent training label (the majority baseline).
    public var majority: Int
}

enum SequenceClassificationTask: TaskPipeline {
    static let defaults = TaskDefaults(units: 64, bidirectional: true, epochs: 60, batchSize: 16, learningRate: 0.003, patience: 12)

    struct Sequence {
        var id: String
        var line: Int
        var split: Int
        var label: String
        var steps: [[Float]]
    }

    static func prepare(_ o: TaskOptions) throws -> PreparedTask {
        let table = try CSVTable(path: o.dataPath)
        let idColumn = try o.idColumn ?? guess(table, ["id", "series", "sequence", "sequence_id"], flag: "--id-column")
        let labelColumn = try o.labelColumn ?? guess(table, ["label", "class", "target", "y"], flag: "--label-column")
        let stepColumn = o.stepColumn ?? ["t", "step", "time", "timestep"].first(where: table.header.contains)
        let splitColumn = o.splitColumn ?? (table.header.contains("split") ? "split" : nil)
        let reserved = Set([idColumn, labelColumn, stepColumn, splitColumn].compactMap { $0 })
        let features = o.featureColumns ?? table.header.enumerated()
            .filter { !reserved.contains($0.element) && table.isNumeric($0.offset) }.map(\.element)
        guard !features.isEmpty else {
            throw RecurrentError.file(path: o.dataPath, problem: "no numeric feature columns (name them with --feature-columns)")
        }
        // Rows go to parts by the split column; without one, whole sequences do (below).
        var partOf: [Int: Int] = [:]
        if let splitColumn {
            let split = try SplitRows.make(table, splitColumn: splitColumn, count: table.rows.count, testFraction: 0)
            for (rows, part) in [(split.train, 0), (split.validation, 1), (split.test, 2)] { for row in rows { partOf[row] = part } }
        }
        var sequences = try group(table, id: idColumn, step: stepColumn, label: labelColumn, features: features) { partOf[$0] ?? 0 }
        if splitColumn == nil {
            // No split column: the last sequences (in file order) are the test part.
            let testCount = Int((Float(sequences.count) * (o.testSplit ?? 0.2)).rounded())
            for i in sequences.indices { sequences[i].split = i >= sequences.count - testCount ? 2 : 0 }
        }
        var train = sequences.filter { $0.split == 0 }, validation = sequences.filter { $0.split == 1 }
        let test = sequences.filter { $0.split == 2 }
        if let limit = o.limit { train = sample(train, limit, seed: o.seed ?? 1) }
        guard !train.isEmpty else { throw RecurrentError.file(path: o.dataPath, problem: "no training sequences") }
        if validation.isEmpty {
            (train, validation) = holdOut(train, fraction: try defaults.validationFraction(o), shuffle: true, seed: o.seed ?? 1)
        }
        let labels = sortedLabels(Set(train.map(\.label)))
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let counts = train.reduce(into: [Int](repeating: 0, count: labels.count)) { $0[index[$1.label]!] += 1 }
        let pre = SequencePreprocessing(
            idColumn: idColumn, stepColumn: stepColumn, labelColumn: labelColumn, featureColumns: features,
            scaler: Scaler(fitting: train.map { $0.steps.flatMap { $0 } }, width: features.count), labels: labels,
            majority: counts.indices.max { counts[$0] < counts[$1] }!)
        var preprocessing = Preprocessing(task: .classifySequences, options: o)
        preprocessing.sequences = pre
        let spec = defaults.network(
            o, embeddings: [], features: features.count, head: .sequenceClasses(labels.count), maxPooling: false, window: nil)
        return PreparedTask(
            preprocessing: preprocessing, spec: spec, settings: defaults.training(o), featureWidth: features.count,
            train: try encode(train, pre, path: o.dataPath), validation: try encode(validation, pre, path: o.dataPath),
            test: try encode(test, pre, path: o.dataPath),
            sizes: [("train", train.count), ("validation", validation.count), ("test", test.count)])
    }

    static func guess(_ table: CSVTable, _ names: [String], flag: String) throws -> String {
        guard let name = names.first(where: table.header.contains) else {
            throw RecurrentError.file(
                path: table.path, problem: "name the column with \(flag) (columns: \(table.header.joined(separator: ", ")))")
        }
        return name
    }

    /// Rows grouped by id in order of first appearance, sorted by step.
    static func group(
        _ table: CSVTable, id: String, step: String?, label: String, features: [String], part: (Int) -> Int
    ) throws -> [Sequence] {
        let (idIndex, labelIndex) = (try table.column(id), try table.column(label))
        let stepIndex = try step.map { try table.column($0) }
        let featureIndices = try features.map { try table.column($0) }
        var order: [String] = [], byID: [String: (Sequence, [(Double, [Float])])] = [:]
        for (r, row) in table.rows.enumerated() {
            let key = row[idIndex]
            let values = try featureIndices.map { try table.number(row: r, column: $0) }
            let position = try stepIndex.map { Double(try table.number(row: r, column: $0)) } ?? Double(r)
            if var entry = byID[key] {
                guard entry.0.label == row[labelIndex] else {
                    throw RecurrentError.file(
                        path: table.path,
                        problem: "line \(table.lines[r]), column \(labelIndex + 1) (\(label)): sequence \(key) has label \"\(row[labelIndex])\" here but \"\(entry.0.label)\" on line \(entry.0.line)")
                }
                entry.1.append((position, values))
                byID[key] = entry
            } else {
                order.append(key)
                byID[key] = (Sequence(id: key, line: table.lines[r], split: part(r), label: row[labelIndex], steps: []), [(position, values)])
            }
        }
        return order.map { key in
            var (sequence, steps) = byID[key]!
            sequence.steps = steps.sorted { $0.0 < $1.0 }.map(\.1)
            return sequence
        }
    }

    static func encode(_ sequences: [Sequence], _ pre: SequencePreprocessing, path: String, requireLabels: Bool = true) throws -> [SequenceExample] {
        let index = Dictionary(uniqueKeysWithValues: pre.labels.enumerated().map { ($1, $0) })
        return try sequences.map { s in
            let target: SequenceExample.Target
            if let k = index[s.label] {
                target = .classIndex(k)
            } else if requireLabels {
                throw RecurrentError.file(
                    path: path, problem: "line \(s.line): label \"\(s.label)\" of sequence \(s.id) was not seen in training (labels: \(pre.labels.joined(separator: ", ")))")
            } else {
                target = .none
            }
            return SequenceExample(features: pre.scaler.apply(s.steps.flatMap { $0 }), length: s.steps.count, target: target)
        }
    }

    static func load(_ pre: Preprocessing, path: String, all: Bool, requireLabels: Bool) throws -> [Sequence] {
        let p = try pre.required(pre.sequences, "sequences")
        let table = try CSVTable(path: path)
        let splitColumn = pre.options.splitColumn ?? (table.header.contains("split") ? "split" : nil)
        var testRows: Set<Int>?
        if !all, let splitColumn, table.header.contains(splitColumn) {
            testRows = Set(try SplitRows.make(table, splitColumn: splitColumn, count: table.rows.count, testFraction: 0).test)
        }
        let labelColumn = table.header.contains(p.labelColumn) ? p.labelColumn : nil
        guard labelColumn != nil || !requireLabels else {
            throw RecurrentError.file(path: path, problem: "no label column \"\(p.labelColumn)\" to evaluate against")
        }
        var sequences = try group(table, id: p.idColumn, step: p.stepColumn, label: labelColumn ?? p.idColumn, features: p.featureColumns) {
            testRows == nil || testRows!.contains($0) ? 2 : 0
        }
        if labelColumn == nil { for i in sequences.indices { sequences[i].label = "" } }
        return sequences.filter { $0.split == 2 }
    }

    static func evaluate(_ network: SequenceNetwork, _ pre: Preprocessing, path: String, all: Bool) throws -> TaskReport {
        let p = try pre.required(pre.sequences, "sequences")
        let sequences = try load(pre, path: path, all: all, requireLabels: true)
        guard !sequences.isEmpty else { throw RecurrentError.file(path: path, problem: "no sequences to evaluate") }
        let examples = try encode(sequences, p, path: path)
        return try classificationReport(
            network, examples, labels: p.labels, majority: p.majority, featureWidth: p.featureColumns.count,
            describe: { "sequence \(sequences[$0].id) (line \(sequences[$0].line))" })
    }

    static func predict(_ network: SequenceNetwork, _ pre: Preprocessing, input: String, path: String) throws -> String {
        let p = try pre.required(pre.sequences, "sequences")
        let sequences = try load(pre, path: path, all: true, requireLabels: false)
        let examples = try encode(sequences, p, path: path, requireLabels: false)
        let outputs = try Batching.outputs(network, examples, featureWidth: p.featureColumns.count, width: p.labels.count)
        var lines = [([p.idColumn, "predicted"] + p.labels.map { "p_" + $0 }).map(csvField).joined(separator: ",")]
        for (s, logits) in zip(sequences, outputs) {
            let probs = probabilities(logits, classes: p.labels.count)[0]
            lines.append(([csvField(s.id), csvField(p.labels[argmax(probs)])] + probs.map { String(format: "%.6f", $0) }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Accuracy, macro F1, per-class scores and confusion matrix against the majority baseline.
func classificationReport(
    _ network: SequenceNetwork, _ examples: [SequenceExample], labels: [String], majority: Int, featureWidth: Int,
    extraBaselines: [(String, Double)] = [], describe: (Int) -> String
) throws -> TaskReport {
    let outputs = try Batching.outputs(network, examples, featureWidth: featureWidth, width: labels.count)
    let actual = examples.map(\.classIndex)
    let probs = outputs.map { probabilities($0, classes: labels.count)[0] }
    let predicted = probs.map(argmax)
    // The report's most confidently wrong examples.
    let wrong = examples.indices.filter { predicted[$0] != actual[$0] }.sorted { probs[$0][predicted[$0]] > probs[$1][predicted[$1]] }.prefix(8)
    let confidentlyWrong = JSON.array(wrong.map { i in
        .object([("example", .string(describe(i))), ("actual", .string(labels[actual[i]])), ("predicted", .string(labels[predicted[i]])),
                 ("confidence", .number(probs[i][predicted[i]]))])
    })
    let scores = ClassificationScores(labels: labels, actual: actual, predicted: predicted)
    let majorityScores = ClassificationScores(labels: labels, actual: actual, predicted: actual.map { _ in majority })
    var baselines: [(String, JSON)] = [("majority", .object([("accuracy", .number(majorityScores.accuracy)),
                                                             ("macro_f1", .number(majorityScores.macroF1)),
                                                             ("class", .string(labels[majority]))]))]
    baselines += extraBaselines.map { ($0.0, .object([("accuracy", .number($0.1))])) }
    let best = ([("majority class", majorityScores.accuracy)] + extraBaselines).max { $0.1 < $1.1 }!
    return TaskReport(
        metrics: .object(scores.json + [("baselines", .object(baselines)), ("confidently_wrong", confidentlyWrong)]),
        headlines: [.init(metric: "accuracy", ours: scores.accuracy, baseline: best.0, baselineValue: best.1, lowerIsBetter: false)])
}
