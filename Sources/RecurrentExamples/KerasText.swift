import Foundation
import Recurrent

extension Example {
    /// The sentiment tutorial: Tokenizer → padSequences → Embedding → LSTM → Dense, 50 epochs.
    static let sentiment = Example(
        name: "sentiment", summary: "Tokenizer → padSequences → Embedding(100, 16) → LSTM(32) → Dense(24) → Dense(1), 50 epochs"
    ) { print in
        let texts = [
            "I love this movie", "This film was terrible", "Absolutely fantastic experience", "I did not like the movie",
            "Best film I have ever seen", "Worst movie ever", "I really enjoyed it", "It was boring and too long",
            "An amazing story", "Not worth watching",
        ]
        let labels: [Float] = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
        let tokenizer = Tokenizer(numWords: 100, oovToken: "<OOV>")
        try tokenizer.fitOnTexts(texts)
        let x = try padSequencesTensor(try tokenizer.textsToSequences(texts), maxlen: 8)
        let y = try Tensor(shape: [10, 1], scalars: labels)
        let model = Sequential {
            Input(shape: [8])
            Embedding(inputDim: 100, outputDim: 16)
            LSTM(units: 32)
            Dense(units: 24, activation: .relu)
            Dense(units: 1, activation: .sigmoid)
        }
        try model.summary(print: print)
        model.compile(optimizer: Adam(), loss: .binaryCrossEntropy(), metrics: [.accuracy])
        model.progressWriter = { _ in }
        let history = try model.fit(x, y, epochs: 50, seed: 2)
        print(String(format: "after 50 epochs: loss %.4f, accuracy %.2f", history["loss"]!.last!, history["accuracy"]!.last!))

        let training = try model.predict(x).scalars
        let correct = zip(training, labels).filter { ($0 > 0.5 ? 1 : 0) == $1 }.count
        print("training sentences classified correctly: \(correct)/\(texts.count)")
        let tests = ["I loved this film", "It was terrible and boring"]
        let predictions = try model.predict(try padSequencesTensor(try tokenizer.textsToSequences(tests), maxlen: 8)).scalars
        for (text, p) in zip(tests, predictions) {
            print(String(format: "%@ → %.3f (%@)", text, p, p > 0.5 ? "positive" : "negative"))
        }
        return ["firstLoss": history["loss"]!.first!, "lastLoss": history["loss"]!.last!,
                "trainingAccuracy": Float(correct) / Float(texts.count)]
    }

    /// The Keras two-layer SimpleRNN classifier with a softmax output, on real data: who is
    /// speaking, from the Japanese vowels recordings (variable length, masked).
    static let kerasClassifier = Example(
        name: "rnn-classifier",
        summary: "SimpleRNN(32, returnSequences) → SimpleRNN(32) → Dense(9, softmax) on Japanese vowels (real data)"
    ) { print in
        let data = try JapaneseVowels.load()
        let model = Sequential {
            Input(shape: [JapaneseVowels.steps, 12])
            Masking(maskValue: 0)
            SimpleRNN(units: 32, returnSequences: true)
            SimpleRNN(units: 32)
            Dense(units: 9, activation: .softmax)
        }
        try model.summary(print: print)
        model.compile(optimizer: Adam(learningRate: 0.003), loss: .sparseCategoricalCrossEntropy(), metrics: [.accuracy])
        model.progressWriter = { print($0.hasSuffix("\n") ? String($0.dropLast()) : $0) }
        let history = try model.fit(data.trainX, data.trainY, batchSize: 16, epochs: 30, verbose: 2, seed: 4)
        let test = try model.evaluate(data.testX, data.testY)
        print(String(format: "test accuracy %.3f on %d utterances", test["accuracy"]!, data.testY.shape[0]))
        return ["firstLoss": history["loss"]!.first!, "lastLoss": history["loss"]!.last!, "testAccuracy": test["accuracy"]!]
    }
}

/// The Japanese vowels data set (`data/japanese_vowels.csv`): 12 coefficients per step,
/// sequences padded at the end with zeros to 29 steps; speakers 1–9 become classes 0–8.
enum JapaneseVowels {
    static let steps = 29

    static var path: String {
        // Sources/RecurrentExamples/KerasText.swift → the package root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/japanese_vowels.csv").path
    }

    static func load() throws -> (trainX: Tensor, trainY: Tensor, testX: Tensor, testY: Tensor) {
        let path = Self.path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RecurrentError.file(path: path, problem: "cannot be read (run from a checkout of the package)")
        }
        // series → (split, speaker, rows of 12)
        var series: [Int: (train: Bool, speaker: Int, rows: [(t: Int, values: [Float])])] = [:]
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated().dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 16, let id = Int(fields[1]), let speaker = Int(fields[2]), (1...9).contains(speaker),
                  let t = Int(fields[3]), t >= 0 else {
                throw RecurrentError.file(path: path, problem: "line \(number + 1): expected split,series,speaker,t,lpc1..lpc12")
            }
            let values = try fields[4...].map { field -> Float in
                guard let v = Float(field) else {
                    throw RecurrentError.file(path: path, problem: "line \(number + 1): \(field) is not a number")
                }
                return v
            }
            series[id, default: (fields[0] == "train", speaker, [])].rows.append((t, values))
        }
        func tensors(_ train: Bool) throws -> (Tensor, Tensor) {
            let chosen = series.keys.sorted().compactMap { series[$0] }.filter { $0.train == train }
            var x = [Float](repeating: 0, count: chosen.count * steps * 12)
            for (n, s) in chosen.enumerated() {
                guard s.rows.count <= steps else {
                    throw RecurrentError.file(path: path, problem: "an utterance has \(s.rows.count) steps, more than \(steps)")
                }
                for (t, row) in s.rows.sorted(by: { $0.t < $1.t }).enumerated() {
                    for j in 0..<12 { x[(n * steps + t) * 12 + j] = row.values[j] }
                }
            }
            return (try Tensor(shape: [chosen.count, steps, 12], scalars: x),
                    try Tensor(shape: [chosen.count], scalars: chosen.map { Float($0.speaker - 1) }))
        }
        let (trainX, trainY) = try tensors(true), (testX, testY) = try tensors(false)
        return (trainX, trainY, testX, testY)
    }
}
