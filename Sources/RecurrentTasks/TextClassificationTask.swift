import Foundation
import Recurrent

/// `classify-text`: a CSV with a text column and a label column; the Keras tokenizer (word
/// level, `--vocab-size` words, an OOV token) and truncation to `--max-length` words.
public struct TextPreprocessing: Codable, Sendable {
    public var textColumn: String
    public var labelColumn: String
    public var tokenizer: String
    public var vocabularySize: Int
    public var maxLength: Int
    public var labels: [String]
    public var majority: Int
    /// The bag-of-words logistic regression fitted on the training part: the baseline to beat.
    public var baseline: BagOfWordsModel?
}

enum TextClassificationTask: TaskPipeline {
    static let defaults = TaskDefaults(
        units: 64, bidirectional: true, dropout: 0.4, epochs: 20, batchSize: 32, learningRate: 0.002, patience: 4)

    struct Row { var line: Int; var text: String; var label: String }

    static func prepare(_ o: TaskOptions) throws -> PreparedTask {
        let table = try CSVTable(path: o.dataPath)
        let textColumn = o.textColumn ?? "text", labelColumn = o.labelColumn ?? "label"
        let (t, l) = (try table.column(textColumn), try table.column(labelColumn))
        let split = try SplitRows.make(table, splitColumn: o.splitColumn, count: table.rows.count, testFraction: o.testSplit ?? 0.2)
        func rows(_ indices: [Int]) -> [Row] { indices.map { Row(line: table.lines[$0], text: table.rows[$0][t], label: table.rows[$0][l]) } }
        var train = rows(split.train), validation = rows(split.validation)
        let test = rows(split.test)
        if let limit = o.limit { train = sample(train, limit, seed: o.seed ?? 1) }
        guard !train.isEmpty else { throw RecurrentError.file(path: o.dataPath, problem: "no training rows") }
        if validation.isEmpty {
            (train, validation) = holdOut(train, fraction: try defaults.validationFraction(o), shuffle: true, seed: o.seed ?? 1)
        }
        let vocabSize = o.vocabSize ?? 20000
        guard vocabSize >= 2 else { throw RecurrentError.invalidArgument("--vocab-size must be at least 2, got \(vocabSize)") }
        let tokenizer = Tokenizer(numWords: vocabSize, oovToken: "<OOV>")
        try tokenizer.fitOnTexts(train.map(\.text))
        let lengths = try tokenizer.textsToSequences(train.map(\.text)).map(\.count).sorted()
        // Long enough for 95 % of the training texts whole.
        let maxLength = o.maxLength ?? max(lengths[min(lengths.count - 1, lengths.count * 95 / 100)], 1)
        guard maxLength > 0 else { throw RecurrentError.invalidArgument("--max-length must be positive, got \(maxLength)") }
        let labels = sortedLabels(Set(train.map(\.label)))
        let counts = labels.map { label in train.filter { $0.label == label }.count }
        var pre = TextPreprocessing(
            textColumn: textColumn, labelColumn: labelColumn, tokenizer: try tokenizer.toJSON(),
            vocabularySize: min(vocabSize, tokenizer.wordIndex.count + 1), maxLength: maxLength, labels: labels,
            majority: counts.indices.max { counts[$0] < counts[$1] }!)
        let (trainExamples, validationExamples) = (try encode(train, pre, tokenizer, path: o.dataPath), try encode(validation, pre, tokenizer, path: o.dataPath))
        pre.baseline = BagOfWordsModel.fit(
            train: labelled(trainExamples), validation: labelled(validationExamples), vocabulary: pre.vocabularySize, classes: labels.count)
        var preprocessing = Preprocessing(task: .classifyText, options: o)
        preprocessing.text = pre
        let spec = defaults.network(
            o, embeddings: [[pre.vocabularySize, 100]], features: 0, head: .sequenceClasses(labels.count), maxPooling: true,
            window: nil)
        return PreparedTask(
            preprocessing: preprocessing, spec: spec, settings: defaults.training(o), featureWidth: 0,
            train: trainExamples, validation: validationExamples, test: try encode(test, pre, tokenizer, path: o.dataPath),
            sizes: [("train", train.count), ("validation", validation.count), ("test", test.count), ("vocabulary", pre.vocabularySize)])
    }

    static func labelled(_ examples: [SequenceExample]) -> [(ids: [Int], label: Int)] {
        examples.map { ($0.ids[0], $0.classIndex) }
    }

    static func encode(_ rows: [Row], _ pre: TextPreprocessing, _ tokenizer: Tokenizer, path: String, requireLabels: Bool = true) throws -> [SequenceExample] {
        let index = Dictionary(uniqueKeysWithValues: pre.labels.enumerated().map { ($1, $0) })
        let sequences = try tokenizer.textsToSequences(rows.map(\.text))
        let oov = tokenizer.wordIndex["<OOV>"]
        return try zip(rows, sequences).map { row, ids in
            guard ids.contains(where: { $0 != oov }) else {
                throw RecurrentError.file(path: path, problem: "line \(row.line): the text has no word the model knows")
            }
            var target = SequenceExample.Target.none
            if let k = index[row.label] {
                target = .classIndex(k)
            } else if requireLabels {
                throw RecurrentError.file(
                    path: path, problem: "line \(row.line): label \"\(row.label)\" was not seen in training (labels: \(pre.labels.joined(separator: ", ")))")
            }
            let kept = Array(ids.prefix(pre.maxLength))
            return SequenceExample(ids: [kept], length: kept.count, target: target)
        }
    }

    /// The rows of a CSV with the text column, or each non-empty line of a plain text.
    static func load(_ p: TextPreprocessing, _ pre: Preprocessing, path: String, all: Bool, requireLabels: Bool) throws -> [Row] {
        // A file whose first line does not name the text column is plain text, one input a line.
        if !requireLabels, let text = try? readTextFile(path),
           !(text.split(separator: "\n").first ?? "").split(separator: ",").contains(where: { $0.trimmingCharacters(in: .init(charactersIn: "\" \r")) == p.textColumn }) {
            return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .filter { !$0.element.isEmpty }.map { Row(line: $0.offset + 1, text: String($0.element), label: "") }
        }
        let table = try CSVTable(path: path)
        let t = try table.column(p.textColumn)
        let l = table.header.firstIndex(of: p.labelColumn)
        guard l != nil || !requireLabels else {
            throw RecurrentError.file(path: path, problem: "no label column \"\(p.labelColumn)\" to evaluate against")
        }
        let splitColumn = pre.options.splitColumn ?? (table.header.contains("split") ? "split" : nil)
        var indices = Array(table.rows.indices)
        if !all, let splitColumn, table.header.contains(splitColumn) {
            indices = try SplitRows.make(table, splitColumn: splitColumn, count: table.rows.count, testFraction: 0).test
        }
        return indices.map { i in Row(line: table.lines[i], text: table.rows[i][t], label: l.map { table.rows[i][$0] } ?? "") }
    }

    static func evaluate(_ network: SequenceNetwork, _ pre: Preprocessing, path: String, all: Bool) throws -> TaskReport {
        let p = try pre.required(pre.text, "text")
        let rows = try load(p, pre, path: path, all: all, requireLabels: true)
        guard !rows.isEmpty else { throw RecurrentError.file(path: path, problem: "no rows to evaluate") }
        let examples = try encode(rows, p, try Tokenizer(json: p.tokenizer), path: path)
        var regression: [(String, Double)] = []
        if let model = p.baseline {
            let pairs = labelled(examples)
            regression.append(("bag-of-words logistic regression", Double(pairs.filter { model.predict($0.ids) == $0.label }.count) / Double(pairs.count)))
        }
        return try classificationReport(
            network, examples, labels: p.labels, majority: p.majority, featureWidth: 0, extraBaselines: regression,
            describe: { "line \(rows[$0].line): " + (rows[$0].text.count > 160 ? String(rows[$0].text.prefix(160)) + "…" : rows[$0].text) })
    }

    static func predict(_ network: SequenceNetwork, _ pre: Preprocessing, input: String, path: String) throws -> String {
        let p = try pre.required(pre.text, "text")
        let rows = try load(p, pre, path: path, all: true, requireLabels: false)
        let examples = try encode(rows, p, try Tokenizer(json: p.tokenizer), path: path, requireLabels: false)
        let outputs = try Batching.outputs(network, examples, featureWidth: 0, width: p.labels.count)
        var lines = [(["line", "predicted"] + p.labels.map { "p_" + $0 }).map(csvField).joined(separator: ",")]
        for (row, logits) in zip(rows, outputs) {
            let probs = probabilities(logits, classes: p.labels.count)[0]
            lines.append(([String(row.line), csvField(p.labels[argmax(probs)])] + probs.map { String(format: "%.6f", $0) }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
