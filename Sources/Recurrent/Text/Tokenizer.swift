import Foundation

/// Keras's legacy text tokenizer (`keras.preprocessing.text.Tokenizer`), reproduced exactly.
///
/// ```swift
/// let tokenizer = Tokenizer(numWords: 100, oovToken: "<OOV>")
/// try tokenizer.fitOnTexts(["I love this movie", "This film was terrible"])
/// let ids = try tokenizer.textsToSequences(["I love it"])   // [[3, 4, 1]]
/// let batch = try padSequencesTensor(ids, maxlen: 10)       // [1, 10], ready for Embedding
/// ```
///
/// The Keras semantics kept, including the surprising ones:
/// - Word level: the text is lowercased (Python's `str.lower`, final sigma included), every
///   character of `filters` becomes `split`, the text is split on `split` and empty pieces are
///   dropped. Everything works on Unicode scalars (Python code points), not on `Character`s:
///   `"\r\n"` is two characters to Keras, and `"\r"` is not a default filter.
/// - Character level: every Unicode scalar of the (lowercased) text is a token, spaces and
///   punctuation included; `filters` and `split` are ignored.
/// - `wordIndex` ranks words by count, ties in order of first appearance; the OOV token (if any)
///   is 1 and 0 is never assigned. `numWords` does not shrink `wordIndex`: it only limits the
///   conversions to indices below `numWords` (0 and `nil` mean no limit, as in Keras).
/// - Unknown words, and words at or past `numWords`, become the OOV index or are dropped.
///   `sequencesToTexts` turns every unknown index (padding 0 included) into the OOV token.
///
/// One difference cannot be avoided: Swift compares `String`s by canonical equivalence, so a
/// composed "é" and a decomposed "e\u{301}" are one word here but two in Keras.
public final class Tokenizer: Codable {
    /// Keras's default `filters`: ASCII punctuation (not the apostrophe), tab and newline.
    public static let defaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"

    /// Keep only words with an index below this in conversions (`nil` or 0: keep all).
    public let numWords: Int?
    /// Characters replaced by `split` before splitting (word level only).
    public let filters: String
    /// Whether texts are lowercased first.
    public let lower: Bool
    /// The word separator (word level only); must not be empty.
    public let split: String
    /// Whether every character (Unicode scalar) is a token.
    public let charLevel: Bool
    /// The token for out-of-vocabulary words; it gets index 1 when fitting.
    public let oovToken: String?

    /// One entry of `wordCounts`.
    public struct WordCount: Codable, Equatable, Sendable {
        public let word: String
        public var count: Int

        public init(word: String, count: Int) {
            self.word = word
            self.count = count
        }
    }

    /// How often each word occurred in the fitted texts, in order of first appearance
    /// (Keras's `word_counts` OrderedDict).
    public private(set) var wordCounts: [WordCount] = []
    /// Number of texts fitted on, over all `fitOnTexts` calls.
    public private(set) var documentCount = 0
    /// Word to index, from 1, most frequent first (the OOV token first of all).
    public private(set) var wordIndex: [String: Int] = [:]
    /// Index to word: the inverse of `wordIndex`.
    public private(set) var indexWord: [Int: String] = [:]

    private let filterSet: Set<Unicode.Scalar>
    private let separator: [Unicode.Scalar]
    /// Position of each word in `wordCounts`.
    private var countPosition: [String: Int] = [:]

    /// A tokenizer with Keras's parameters and defaults. Nothing is checked here: an empty
    /// `split` (which Keras rejects) is thrown by the first word-level conversion.
    public init(
        numWords: Int? = nil, filters: String = Tokenizer.defaultFilters, lower: Bool = true,
        split: String = " ", charLevel: Bool = false, oovToken: String? = nil
    ) {
        self.numWords = numWords
        self.filters = filters
        self.lower = lower
        self.split = split
        self.charLevel = charLevel
        self.oovToken = oovToken
        filterSet = Set(filters.unicodeScalars)
        separator = Array(split.unicodeScalars)
    }

    // MARK: Fitting and converting

    /// Counts the words of `texts` (adding to earlier calls) and rebuilds `wordIndex`.
    public func fitOnTexts(_ texts: [String]) throws {
        try checkSplit(texts)
        for text in texts {
            documentCount += 1
            for word in tokens(of: text) {
                if let position = countPosition[word] {
                    wordCounts[position].count += 1
                } else {
                    countPosition[word] = wordCounts.count
                    wordCounts.append(WordCount(word: word, count: 1))
                }
            }
        }
        rebuildIndex()
    }

    /// Each text as word indices. Unknown words and words with an index at or past `numWords`
    /// become the OOV index when there is an OOV token, and are dropped otherwise.
    /// Throws when there is an OOV token but nothing was fitted yet (Keras yields `None`s).
    public func textsToSequences(_ texts: [String]) throws -> [[Int]] {
        try checkSplit(texts)
        let oovIndex = oovToken.flatMap { wordIndex[$0] }
        return try texts.map { text in
            var sequence: [Int] = []
            for word in tokens(of: text) {
                if let index = wordIndex[word] {
                    if !isPastLimit(index) {
                        sequence.append(index)
                    } else if let oovIndex {
                        sequence.append(oovIndex)
                    }
                } else if oovToken != nil {
                    guard let oovIndex else { throw notFitted("textsToSequences") }
                    sequence.append(oovIndex)
                }
            }
            return sequence
        }
    }

    /// Each sequence as its words joined by single spaces. Indices that are unknown (0 and
    /// negatives included) or at or past `numWords` become the OOV token when there is one,
    /// and are dropped otherwise. Throws when such an index meets an OOV token that was never
    /// fitted (Keras raises `KeyError`).
    public func sequencesToTexts(_ sequences: [[Int]]) throws -> [String] {
        let oovWord = oovToken.flatMap { wordIndex[$0] }.flatMap { indexWord[$0] }
        return try sequences.map { sequence in
            var words: [String] = []
            for index in sequence {
                if let word = indexWord[index] {
                    if !isPastLimit(index) {
                        words.append(word)
                    } else if let oovWord {
                        words.append(oovWord)
                    }
                } else if oovToken != nil {
                    guard let oovWord else { throw notFitted("sequencesToTexts") }
                    words.append(oovWord)
                }
            }
            return words.joined(separator: " ")
        }
    }

    /// Keras: `if num_words and i >= num_words` (0 is falsy, negatives limit everything).
    private func isPastLimit(_ index: Int) -> Bool {
        guard let numWords, numWords != 0 else { return false }
        return index >= numWords
    }

    private func notFitted(_ operation: String) -> RecurrentError {
        .invalidArgument("Tokenizer.\(operation): the OOV token has no index yet; call fitOnTexts first")
    }

    private func checkSplit(_ texts: [String]) throws {
        if !charLevel && separator.isEmpty && !texts.isEmpty {
            throw RecurrentError.invalidArgument("Tokenizer: split must not be empty (Keras: empty separator)")
        }
    }

    /// Keras: stable sort by count, descending; the OOV token first; later duplicates win.
    private func rebuildIndex() {
        let order = wordCounts.indices.sorted { a, b in
            wordCounts[a].count != wordCounts[b].count ? wordCounts[a].count > wordCounts[b].count : a < b
        }
        let vocabulary = (oovToken.map { [$0] } ?? []) + order.map { wordCounts[$0].word }
        wordIndex = [:]
        for (position, word) in vocabulary.enumerated() {
            wordIndex[word] = position + 1
        }
        indexWord = Dictionary(uniqueKeysWithValues: wordIndex.map { ($0.value, $0.key) })
    }

    // MARK: Text to tokens (keras text_to_word_sequence)

    /// The tokens of one text, as Keras makes them.
    func tokens(of text: String) -> [String] {
        let text = lower ? Self.pythonLowercased(text) : text
        if charLevel {
            return text.unicodeScalars.map { String($0) }
        }
        // Python: text.translate({c: split for c in filters}).split(split), empties dropped.
        var translated: [Unicode.Scalar] = []
        translated.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if filterSet.contains(scalar) {
                translated += separator
            } else {
                translated.append(scalar)
            }
        }
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var i = 0
        while i < translated.count {
            if translated[i] == separator[0], translated[i...].starts(with: separator) {
                if !word.isEmpty { words.append(String(word)) }
                word = String.UnicodeScalarView()
                i += separator.count
            } else {
                word.append(translated[i])
                i += 1
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words
    }

    /// Python's `str.lower()`: Swift's full lowercase mapping, except that a capital sigma in
    /// final position becomes ς (Unicode's Final_Sigma context, which Swift does not apply).
    static func pythonLowercased(_ text: String) -> String {
        guard text.unicodeScalars.contains("\u{3A3}") else { return text.lowercased() }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        for (i, scalar) in scalars.enumerated() {
            if scalar == "\u{3A3}" {
                result.append(isFinalSigma(scalars, at: i) ? "\u{3C2}" : "\u{3C3}")
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(result)
    }

    /// `\p{cased} \p{case-ignorable}* Σ` not followed by `\p{case-ignorable}* \p{cased}`
    /// (CPython's `handle_capital_sigma`).
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && scalars[j].properties.isCased else { return false }
        j = i + 1
        while j < scalars.count && scalars[j].properties.isCaseIgnorable { j += 1 }
        return j == scalars.count || !scalars[j].properties.isCased
    }

    // MARK: Saving

    private enum CodingKeys: String, CodingKey {
        case numWords, filters, lower, split, charLevel, oovToken, documentCount, wordCounts
    }

    /// Restores a tokenizer saved with `encode(to:)` or `toJSON()`; `wordIndex` and
    /// `indexWord` are rebuilt from `wordCounts` exactly as fitting builds them.
    public convenience init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            numWords: try c.decodeIfPresent(Int.self, forKey: .numWords),
            filters: try c.decode(String.self, forKey: .filters),
            lower: try c.decode(Bool.self, forKey: .lower),
            split: try c.decode(String.self, forKey: .split),
            charLevel: try c.decode(Bool.self, forKey: .charLevel),
            oovToken: try c.decodeIfPresent(String.self, forKey: .oovToken))
        documentCount = try c.decode(Int.self, forKey: .documentCount)
        wordCounts = try c.decode([WordCount].self, forKey: .wordCounts)
        for (position, entry) in wordCounts.enumerated() {
            guard countPosition.updateValue(position, forKey: entry.word) == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .wordCounts, in: c, debugDescription: "word \"\(entry.word)\" appears twice")
            }
        }
        rebuildIndex()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(numWords, forKey: .numWords)
        try c.encode(filters, forKey: .filters)
        try c.encode(lower, forKey: .lower)
        try c.encode(split, forKey: .split)
        try c.encode(charLevel, forKey: .charLevel)
        try c.encodeIfPresent(oovToken, forKey: .oovToken)
        try c.encode(documentCount, forKey: .documentCount)
        try c.encode(wordCounts, forKey: .wordCounts)
    }

    /// The tokenizer as JSON (configuration, document count and ordered word counts), to be
    /// saved beside a model. Not Keras's `to_json()` format.
    public func toJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A tokenizer from `toJSON()`'s output.
    public convenience init(json: String) throws {
        let decoded: Tokenizer
        do {
            decoded = try JSONDecoder().decode(Tokenizer.self, from: Data(json.utf8))
        } catch {
            throw RecurrentError.invalidArgument("Tokenizer(json:): not a saved tokenizer: \(error)")
        }
        self.init(
            numWords: decoded.numWords, filters: decoded.filters, lower: decoded.lower, split: decoded.split,
            charLevel: decoded.charLevel, oovToken: decoded.oovToken)
        documentCount = decoded.documentCount
        wordCounts = decoded.wordCounts
        countPosition = decoded.countPosition
        wordIndex = decoded.wordIndex
        indexWord = decoded.indexWord
    }
}
