import Foundation
import Recurrent

/// An input for the unroller, encoded as the model's task encodes its data: the example, what
/// each step shows (a character, a word, a value), and how the page may re-encode an edit.
struct UnrollInput {
    var example: SequenceExample
    var tokens: [String]
    /// Steps whose token the model does not know (shown as unknown).
    var unknown: [Bool]
    var featureWidth: Int

    /// `text` is the input itself, or the path of a file holding it (for a sequence classifier,
    /// a CSV whose first sequence is traced).
    static func encode(_ text: String, _ pre: Preprocessing, maxSteps: Int) throws -> UnrollInput {
        let isFile = FileManager.default.fileExists(atPath: text)
        var input: UnrollInput
        switch pre.task {
        case .languageModel:
            let p = try pre.required(pre.characters, "characters")
            let content = isFile ? try readTextFile(text) : text
            let index = Dictionary(uniqueKeysWithValues: p.characters.enumerated().dropFirst().map { ($1, $0) })
            let characters = content.unicodeScalars.map { String($0) }
            let ids = characters.map { index[$0] ?? 0 }
            input = UnrollInput(
                example: SequenceExample(ids: [ids], length: ids.count), tokens: characters, unknown: ids.map { $0 == 0 },
                featureWidth: 0)
        case .classifyText:
            let p = try pre.required(pre.text, "text")
            let content = isFile ? try readTextFile(text) : text
            let tokenizer = try Tokenizer(json: p.tokenizer)
            let ids = Array(try tokenizer.textsToSequences([content])[0].prefix(p.maxLength))
            let oov = tokenizer.wordIndex["<OOV>"]
            // The words as the model sees them: an unknown word is the OOV token.
            input = UnrollInput(
                example: SequenceExample(ids: [ids], length: ids.count),
                tokens: ids.map { tokenizer.indexWord[$0] ?? "?" }, unknown: ids.map { $0 == oov }, featureWidth: 0)
        case .tag:
            let p = try pre.required(pre.tagging, "tagging")
            let content = isFile ? try readTextFile(text) : text
            let words = content.split(whereSeparator: \.isWhitespace).map(String.init)
            guard !words.isEmpty else { throw RecurrentError.invalidArgument("unroll: the input is empty") }
            let example = try TaggingTask.encode(
                [TaggingTask.Sentence(line: 1, words: words, tags: [])], p, path: isFile ? text : "input", requireTags: false)[0]
            input = UnrollInput(
                example: example, tokens: words, unknown: example.ids[0].map { $0 == 0 }, featureWidth: TaggingTask.shapeFeatures)
        case .forecast:
            let p = try pre.required(pre.forecast, "forecast")
            let values: [Float]
            if isFile {
                values = try ForecastTask.series(text, column: p.column).values
            } else {
                values = try text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { field in
                    guard let v = Float(field), v.isFinite else {
                        throw RecurrentError.invalidArgument("unroll: \"\(field)\" is not a number (give the series as numbers separated by commas or spaces)")
                    }
                    return v
                }
            }
            guard values.count >= p.window else {
                throw RecurrentError.invalidArgument(
                    "unroll: the forecaster reads windows of \(p.window) values; the input has \(values.count)")
            }
            let window = Array(values.suffix(p.window))
            input = UnrollInput(
                example: SequenceExample(features: window.map { ($0 - p.mean) / p.scale }, length: p.window),
                tokens: window.map { String(format: "%g", $0) }, unknown: window.map { _ in false }, featureWidth: 1)
        case .classifySequences:
            let p = try pre.required(pre.sequences, "sequences")
            guard isFile else {
                throw RecurrentError.invalidArgument("unroll: a sequence classifier takes a CSV file of sequences; \(text) is not a file")
            }
            guard let sequence = try SequenceClassificationTask.load(pre, path: text, all: true, requireLabels: false).first else {
                throw RecurrentError.file(path: text, problem: "no sequence")
            }
            let example = try SequenceClassificationTask.encode([sequence], p, path: text, requireLabels: false)[0]
            input = UnrollInput(
                example: example, tokens: (1...sequence.steps.count).map { "t\($0)" }, unknown: sequence.steps.map { _ in false },
                featureWidth: p.featureColumns.count)
        }
        guard input.example.length > 0 else {
            throw RecurrentError.invalidArgument("unroll: the input is empty (no step the model can read)")
        }
        guard input.example.length <= maxSteps else {
            throw RecurrentError.invalidArgument(
                "unroll: the input has \(input.example.length) steps, more than the limit of \(maxSteps) (--max-steps)")
        }
        return input
    }
}
