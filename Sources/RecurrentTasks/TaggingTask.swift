import Foundation
import Recurrent

/// `tag`: one sentence a line, tokens `word/TAG` separated by spaces (split on the last `/`).
/// Each token is read through three vocabularies — the lower-cased word, its last three and
/// its first three characters — and six shape features (capitalised, all capitals, has a
/// digit, has a hyphen, has no letter, first in the sentence), so unseen words are tagged
/// from their spelling.
public struct TaggingPreprocessing: Codable, Sendable {
    /// Index 0 of each vocabulary stands for anything unseen (or seen once) in training.
    public var words: [String]
    public var suffixes: [String]
    public var prefixes: [String]
    public var tags: [String]
    /// The most frequent tag of each training word, and overall: the baseline.
    public var wordTags: [String: String]
    public var commonestTag: String
}

enum TaggingTask: TaskPipeline {
    static let defaults = TaskDefaults(units: 128, bidirectional: true, dropout: 0.25, epochs: 10, batchSize: 32, learningRate: 0.003, patience: 2)
    static let shapeFeatures = 6

    struct Sentence { var line: Int; var words: [String]; var tags: [String] }

    static func read(_ path: String, requireTags: Bool) throws -> [Sentence] {
        let text = try readTextFile(path)
        var sentences: [Sentence] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            var column = 1, words: [String] = [], tags: [String] = []
            for token in line.split(separator: " ", omittingEmptySubsequences: false) {
                defer { column += token.count + 1 }
                if token.isEmpty { continue }
                if !requireTags && !token.contains("/") {
                    words.append(String(token))
                    continue
                }
                guard let slash = token.lastIndex(of: "/"), slash != token.startIndex, token.index(after: slash) != token.endIndex else {
                    throw RecurrentError.file(path: path, problem: "line \(n + 1), column \(column): token \"\(token)\" is not word/TAG")
                }
                words.append(String(token[..<slash]))
                tags.append(String(token[token.index(after: slash)...]))
            }
            if !words.isEmpty { sentences.append(Sentence(line: n + 1, words: words, tags: tags)) }
        }
        guard !sentences.isEmpty else { throw RecurrentError.file(path: path, problem: "no sentences") }
        return sentences
    }

    static func prepare(_ o: TaskOptions) throws -> PreparedTask {
        var sentences = try read(o.dataPath, requireTags: true)
        let testCount = Int((Float(sentences.count) * (o.testSplit ?? 0.1)).rounded())
        let test = Array(sentences.suffix(testCount))
        sentences.removeLast(testCount)
        if let limit = o.limit { sentences = Array(sentences.prefix(limit)) }
        let (train, validation) = holdOut(sentences, fraction: try defaults.validationFraction(o), shuffle: true, seed: o.seed ?? 1)
        guard !train.isEmpty else { throw RecurrentError.file(path: o.dataPath, problem: "no training sentences") }
        func vocabulary(_ key: (String) -> String) -> [String] {
            let counts = train.flatMap(\.words).reduce(into: [String: Int]()) { $0[key($1), default: 0] += 1 }
            return [""] + counts.filter { $0.value > 1 }.keys.sorted()
        }
        var tagCounts: [String: [String: Int]] = [:], overall: [String: Int] = [:]
        for s in train { for (w, t) in zip(s.words, s.tags) { tagCounts[w, default: [:]][t, default: 0] += 1; overall[t, default: 0] += 1 } }
        func commonest(_ counts: [String: Int]) -> String { counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key }
        let pre = TaggingPreprocessing(
            words: vocabulary { $0.lowercased() }, suffixes: vocabulary { String($0.lowercased().suffix(3)) },
            prefixes: vocabulary { String($0.lowercased().prefix(3)) }, tags: overall.keys.sorted(),
            wordTags: tagCounts.mapValues(commonest), commonestTag: commonest(overall))
        var preprocessing = Preprocessing(task: .tag, options: o)
        preprocessing.tagging = pre
        let spec = defaults.network(
            o, embeddings: [[pre.words.count, 100], [pre.suffixes.count, 32], [pre.prefixes.count, 16]],
            features: shapeFeatures, head: .stepClasses(pre.tags.count), maxPooling: false, window: nil)
        return PreparedTask(
            preprocessing: preprocessing, spec: spec, settings: defaults.training(o), featureWidth: shapeFeatures,
            train: try encode(train, pre, path: o.dataPath), validation: try encode(validation, pre, path: o.dataPath),
            test: try encode(test, pre, path: o.dataPath),
            sizes: [("train", train.count), ("validation", validation.count), ("test", test.count),
                    ("train_tokens", train.reduce(0) { $0 + $1.words.count }), ("vocabulary", pre.words.count)])
    }

    static func shape(_ word: String, first: Bool) -> [Float] {
        let letters = word.unicodeScalars.filter { CharacterSet.letters.contains($0) }
        let capital = word.first.map { $0.isUppercase } ?? false
        return [capital ? 1 : 0, !letters.isEmpty && word == word.uppercased() ? 1 : 0,
                word.contains(where: \.isNumber) ? 1 : 0, word.contains("-") ? 1 : 0, letters.isEmpty ? 1 : 0, first ? 1 : 0]
    }

    static func encode(_ sentences: [Sentence], _ p: TaggingPreprocessing, path: String, requireTags: Bool = true) throws -> [SequenceExample] {
        func lookup(_ list: [String]) -> [String: Int] { Dictionary(uniqueKeysWithValues: list.enumerated().map { ($1, $0) }) }
        let (w, s, pr, t) = (lookup(p.words), lookup(p.suffixes), lookup(p.prefixes), lookup(p.tags))
        return try sentences.map { sentence in
            let lower = sentence.words.map { $0.lowercased() }
            var target = SequenceExample.Target.none
            if requireTags {
                target = .stepClasses(try sentence.tags.enumerated().map { i, tag in
                    guard let k = t[tag] else {
                        throw RecurrentError.file(path: path, problem: "line \(sentence.line), token \(i + 1): tag \"\(tag)\" was not seen in training")
                    }
                    return k
                })
            }
            return SequenceExample(
                ids: [lower.map { w[$0] ?? 0 }, lower.map { s[String($0.suffix(3))] ?? 0 }, lower.map { pr[String($0.prefix(3))] ?? 0 }],
                features: sentence.words.enumerated().flatMap { shape($1, first: $0 == 0) }, length: sentence.words.count, target: target)
        }
    }

    static func evaluate(_ network: SequenceNetwork, _ pre: Preprocessing, path: String, all: Bool) throws -> TaskReport {
        let p = try pre.required(pre.tagging, "tagging")
        var sentences = try read(path, requireTags: true)
        if !all { sentences = Array(sentences.suffix(Int((Float(sentences.count) * (pre.options.testSplit ?? 0.1)).rounded()))) }
        guard !sentences.isEmpty else { throw RecurrentError.file(path: path, problem: "no sentences to evaluate") }
        let outputs = try Batching.outputs(network, try encode(sentences, p, path: path), featureWidth: shapeFeatures, width: p.tags.count)
        var hits = 0, baselineHits = 0, tokens = 0, unknown = 0, unknownHits = 0
        var tagCounts: [String: (hits: Int, support: Int)] = [:]
        for (sentence, logits) in zip(sentences, outputs) {
            let predicted = probabilities(logits, classes: p.tags.count).map { p.tags[argmax($0)] }
            for (i, tag) in sentence.tags.enumerated() {
                tokens += 1
                if predicted[i] == tag { hits += 1 }
                tagCounts[tag, default: (0, 0)].support += 1
                if predicted[i] == tag { tagCounts[tag]!.hits += 1 }
                let known = p.wordTags[sentence.words[i]]
                if (known ?? p.commonestTag) == tag { baselineHits += 1 }
                if known == nil { unknown += 1; if predicted[i] == tag { unknownHits += 1 } }
            }
        }
        let accuracy = Double(hits) / Double(tokens), baseline = Double(baselineHits) / Double(tokens)
        return TaskReport(
            metrics: .object([
                ("token_accuracy", .number(accuracy)), ("tokens", .number(Double(tokens))), ("sentences", .number(Double(sentences.count))),
                ("unseen_word_accuracy", .number(unknown > 0 ? Double(unknownHits) / Double(unknown) : .nan)),
                ("unseen_words", .number(Double(unknown))),
                ("baselines", .object([("most_frequent_tag", .object([("token_accuracy", .number(baseline))]))])),
                ("per_tag", .object(tagCounts.keys.sorted { tagCounts[$0]!.support > tagCounts[$1]!.support }.map { tag in
                    (tag, .object([("accuracy", .number(Double(tagCounts[tag]!.hits) / Double(tagCounts[tag]!.support))),
                                   ("support", .number(Double(tagCounts[tag]!.support)))]))
                })),
            ]),
            headlines: [.init(metric: "token accuracy", ours: accuracy, baseline: "most frequent tag", baselineValue: baseline, lowerIsBetter: false)])
    }

    static func predict(_ network: SequenceNetwork, _ pre: Preprocessing, input: String, path: String) throws -> String {
        let p = try pre.required(pre.tagging, "tagging")
        let sentences = try read(path, requireTags: false)
        let outputs = try Batching.outputs(network, try encode(sentences, p, path: path, requireTags: false), featureWidth: shapeFeatures, width: p.tags.count)
        var lines = ["line,token,word,tag,confidence"]
        for (sentence, logits) in zip(sentences, outputs) {
            for (i, probs) in probabilities(logits, classes: p.tags.count).enumerated() {
                let k = argmax(probs)
                lines.append("\(sentence.line),\(i + 1),\(csvField(sentence.words[i])),\(csvField(p.tags[k])),\(String(format: "%.4f", probs[k]))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
