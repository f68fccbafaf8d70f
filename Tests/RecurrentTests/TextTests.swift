import Foundation
import Testing
@testable import Recurrent

/// `Tokenizer` and `padSequences` against what Keras 3.15.1 produced
/// (`tools/reference/make_text_fixtures.py` → `Fixtures/text_keras.json`): every configuration
/// must match exactly (word counts in order, word index, conversions both ways).
@Suite struct TextTests {
    struct Config: Decodable {
        let num_words: Int?
        let filters: String
        let lower: Bool
        let split: String
        let char_level: Bool
        let oov_token: String?
    }

    /// A two-element JSON array `[a, b]`.
    struct Pair<A: Decodable & Sendable, B: Decodable & Sendable>: Decodable, Sendable {
        let first: A
        let second: B
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            first = try c.decode(A.self)
            second = try c.decode(B.self)
        }
    }

    struct TokenizerCase: Decodable {
        let name: String
        let config: Config
        let fit_texts: [[String]]
        let word_counts: [Pair<String, Int>]
        let word_index: [String: Int]
        let index_word: [Pair<Int, String>]
        let document_count: Int
        let texts: [String]
        let sequences: [[Int]]
        let decode: [[Int]]
        let decoded: [String]
    }

    struct PadCase: Decodable {
        let name: String
        let sequences: [[Int]]
        let maxlen: Int?
        let padding: String
        let truncating: String
        let value: Int
        let result: [[Int]]?
        let error: String?
    }

    struct Fixture: Decodable {
        let keras_version: String
        let tokenizers: [TokenizerCase]
        let pad_sequences: [PadCase]
    }

    static func loadFixture() throws -> Fixture {
        guard let url = Bundle.module.url(forResource: "text_keras", withExtension: "json", subdirectory: "Fixtures")
        else {
            throw RecurrentError.file(
                path: "Fixtures/text_keras.json",
                problem: "not in the test bundle; generate it with tools/reference/make_text_fixtures.py")
        }
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }
    // Loaded once; a missing or unreadable fixture fails `fixtureIsComplete` instead of crashing.
    static let fixture = try? loadFixture()
    static var tokenizerNames: [String] { fixture?.tokenizers.map(\.name) ?? [] }
    static var padNames: [String] { fixture?.pad_sequences.map(\.name) ?? [] }

    static func tokenizerCase(_ name: String) throws -> TokenizerCase {
        try #require(fixture?.tokenizers.first { $0.name == name })
    }

    static func make(_ config: Config) -> Tokenizer {
        Tokenizer(
            numWords: config.num_words, filters: config.filters, lower: config.lower, split: config.split,
            charLevel: config.char_level, oovToken: config.oov_token)
    }

    /// Checks a fitted tokenizer against the case; `label` tells fitted from reloaded.
    static func check(_ tokenizer: Tokenizer, _ c: TokenizerCase, _ label: String) throws {
        let comment = Comment(rawValue: "\(c.name) (\(label))")
        #expect(tokenizer.wordCounts.map(\.word) == c.word_counts.map(\.first), comment)
        #expect(tokenizer.wordCounts.map(\.count) == c.word_counts.map(\.second), comment)
        #expect(tokenizer.wordIndex == c.word_index, comment)
        #expect(tokenizer.indexWord.sorted { $0.key < $1.key }.map(\.key) == c.index_word.map(\.first), comment)
        #expect(tokenizer.indexWord.sorted { $0.key < $1.key }.map(\.value) == c.index_word.map(\.second), comment)
        #expect(tokenizer.documentCount == c.document_count, comment)
        let sequences = try tokenizer.textsToSequences(c.texts)
        for (i, (ours, keras)) in zip(sequences, c.sequences).enumerated() where ours != keras {
            Issue.record("\(comment.rawValue): text \(i) \(c.texts[i].debugDescription): \(ours) ≠ Keras \(keras)")
        }
        #expect(sequences.count == c.sequences.count, comment)
        #expect(try tokenizer.sequencesToTexts(c.decode) == c.decoded, comment)
    }

    @Test func fixtureIsComplete() throws {
        let fixture = try Self.loadFixture()
        #expect(fixture.keras_version == "3.15.1")
        #expect(fixture.tokenizers.count >= 12)
        #expect(fixture.pad_sequences.count >= 16)
    }

    @Test(arguments: Self.tokenizerNames)
    func tokenizerMatchesKeras(_ name: String) throws {
        let c = try Self.tokenizerCase(name)
        let tokenizer = Self.make(c.config)
        for texts in c.fit_texts {
            try tokenizer.fitOnTexts(texts)
        }
        try Self.check(tokenizer, c, "fitted")
        // Saved beside a model and loaded back, it behaves identically.
        let reloaded = try Tokenizer(json: tokenizer.toJSON())
        #expect(reloaded.numWords == tokenizer.numWords && reloaded.oovToken == tokenizer.oovToken)
        #expect(reloaded.filters == tokenizer.filters && reloaded.split == tokenizer.split)
        #expect(reloaded.lower == tokenizer.lower && reloaded.charLevel == tokenizer.charLevel)
        try Self.check(reloaded, c, "reloaded")
    }

    @Test(arguments: Self.padNames)
    func padSequencesMatchesKeras(_ name: String) throws {
        let c = try #require(Self.fixture?.pad_sequences.first { $0.name == name })
        let padding: Padding = c.padding == "pre" ? .pre : .post
        let truncating: Padding = c.truncating == "pre" ? .pre : .post
        func pad() throws -> [[Int]] {
            try padSequences(c.sequences, maxlen: c.maxlen, padding: padding, truncating: truncating, value: c.value)
        }
        func padTensor() throws -> Tensor {
            try padSequencesTensor(
                c.sequences, maxlen: c.maxlen, padding: padding, truncating: truncating, value: c.value)
        }
        if let expected = c.result {
            #expect(try pad() == expected)
            let tensor = try padTensor()
            let width = c.maxlen ?? expected.first?.count ?? 0
            #expect(tensor.shape == [expected.count, width])
            #expect(tensor.scalars == expected.flatMap { $0.map(Float.init) })
        } else {
            #expect(c.error == "ValueError")
            #expect(throws: RecurrentError.self) { try pad() }
            #expect(throws: RecurrentError.self) { try padTensor() }
        }
    }

    @Test func sentimentTutorial() throws {
        let c = try Self.tokenizerCase("sentiment")
        let tokenizer = Tokenizer(numWords: 100, oovToken: "<OOV>")
        try tokenizer.fitOnTexts(c.fit_texts[0])
        let x = try padSequencesTensor(tokenizer.textsToSequences(c.fit_texts[0]), maxlen: 8, padding: .post)
        #expect(x.shape == [10, 8])
        #expect(tokenizer.wordIndex["<OOV>"] == 1 && tokenizer.wordIndex["i"] == 2)
        // The example in Tokenizer's documentation.
        let small = Tokenizer(numWords: 100, oovToken: "<OOV>")
        try small.fitOnTexts(["I love this movie", "This film was terrible"])
        #expect(try small.textsToSequences(["I love it"]) == [[3, 4, 1]])
    }

    @Test func pythonLowercasing() {
        // Final sigma (Python's str.lower; Swift's lowercased() gives σ everywhere).
        #expect(Tokenizer.pythonLowercased("ΟΔΟΣ ΣΟΦΙΑΣ. Σ AΣb ΌΣΟΣ'Σ") == "οδος σοφιας. σ aσb όσοσ'ς")
        #expect(Tokenizer.pythonLowercased("İstanbul CAFÉ") == "i\u{307}stanbul café")
    }

    @Test func unfittedTokenizerBehavesLikeKeras() throws {
        // Without an OOV token Keras returns empty sequences and empty texts.
        let plain = Tokenizer()
        #expect(try plain.textsToSequences(["a b", ""]) == [[], []])
        #expect(try plain.sequencesToTexts([[1, 2], []]) == ["", ""])
        #expect(plain.wordIndex.isEmpty && plain.documentCount == 0)
        // With one, Keras yields None / raises KeyError: here a thrown error.
        let oov = Tokenizer(oovToken: "<OOV>")
        #expect(try oov.textsToSequences([""]) == [[]])
        #expect(throws: RecurrentError.self) { try oov.textsToSequences(["a"]) }
        #expect(throws: RecurrentError.self) { try oov.sequencesToTexts([[1]]) }
        // Fitting on nothing still places the OOV token.
        try oov.fitOnTexts([])
        #expect(oov.wordIndex == ["<OOV>": 1] && oov.documentCount == 0)
        #expect(try oov.textsToSequences(["a"]) == [[1]])
        #expect(try oov.sequencesToTexts([[0, 1, 7]]) == ["<OOV> <OOV> <OOV>"])
    }

    @Test func numWordsZeroMeansNoLimit() throws {
        // Keras tests `if num_words and i >= num_words`: 0 is falsy.
        let tokenizer = Tokenizer(numWords: 0)
        try tokenizer.fitOnTexts(["a a b c"])
        #expect(try tokenizer.textsToSequences(["c b a"]) == [[3, 2, 1]])
    }

    @Test func emptySplitIsAnError() throws {
        let tokenizer = Tokenizer(split: "")
        #expect(throws: RecurrentError.self) { try tokenizer.fitOnTexts(["a b"]) }
        #expect(throws: RecurrentError.self) { _ = try tokenizer.textsToSequences(["a b"]) }
        #expect(tokenizer.documentCount == 0)
        // Character level never splits, so an empty split is fine there.
        let chars = Tokenizer(split: "", charLevel: true)
        try chars.fitOnTexts(["abba"])
        #expect(chars.wordIndex == ["a": 1, "b": 2])
    }

    @Test func codableRoundTrip() throws {
        let tokenizer = Tokenizer(numWords: 4, filters: ".", lower: false, split: "-", oovToken: "?")
        try tokenizer.fitOnTexts(["x-y-y.z", "Z-z-z"])
        let data = try JSONEncoder().encode(tokenizer)
        let decoded = try JSONDecoder().decode(Tokenizer.self, from: data)
        #expect(decoded.wordCounts == tokenizer.wordCounts)
        #expect(decoded.wordIndex == tokenizer.wordIndex && decoded.indexWord == tokenizer.indexWord)
        #expect(decoded.documentCount == 2 && decoded.numWords == 4 && decoded.split == "-")
        // Fitting more after loading continues the counts.
        try decoded.fitOnTexts(["x-x-x-x"])
        try tokenizer.fitOnTexts(["x-x-x-x"])
        #expect(decoded.wordIndex == tokenizer.wordIndex && decoded.documentCount == 3)
        #expect(try Tokenizer(json: tokenizer.toJSON()).wordCounts == tokenizer.wordCounts)
        #expect(throws: RecurrentError.self) { try Tokenizer(json: "{\"lower\": true}") }
        #expect(throws: RecurrentError.self) { try Tokenizer(json: "not json") }
        let duplicate = #"{"charLevel":false,"documentCount":1,"filters":"","lower":true,"split":" ","#
            + #""wordCounts":[{"word":"a","count":1},{"word":"a","count":2}]}"#
        #expect(throws: RecurrentError.self) { try Tokenizer(json: duplicate) }
    }

    @Test func padSequencesEdges() throws {
        #expect(throws: RecurrentError.invalidArgument("padSequences: maxlen must not be negative, got -2")) {
            try padSequences([[1]], maxlen: -2)
        }
        // maxlen 0: empty rows either way (Keras raises for truncating "pre", an accident of s[-0:]).
        #expect(try padSequences([[1, 2], [3]], maxlen: 0) == [[], []])
        #expect(try padSequencesTensor([[1, 2], [3]], maxlen: 0).shape == [2, 0])
        #expect(try padSequencesTensor([], maxlen: 3).shape == [0, 3])
        // Float32 holds integers exactly only up to 2^24.
        #expect(try padSequencesTensor([[1 << 24]]).scalars == [16_777_216])
        #expect(throws: RecurrentError.self) { try padSequencesTensor([[(1 << 24) + 1]]) }
    }
}
