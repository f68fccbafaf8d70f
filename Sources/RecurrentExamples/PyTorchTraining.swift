import Foundation
import Recurrent

/// Embedding → LSTM → Linear on the last step: the PyTorch text classifier.
final class TextClassifier: Model {
    let embedding: Embedding
    let lstm: LSTM
    let fc: Linear

    init(vocabularySize: Int, embeddingDim: Int, hiddenSize: Int, classes: Int) {
        embedding = Embedding(numEmbeddings: vocabularySize, embeddingDim: embeddingDim, paddingIdx: 0)
        lstm = LSTM(inputSize: embeddingDim, hiddenSize: hiddenSize, batchFirst: true)
        fc = Linear(hiddenSize, classes)
    }

    override func callAsFunction(_ tokens: Variable) throws -> Variable {
        let (output, _) = try lstm.forward(try embedding(tokens))
        return try fc(try output[.all, -1, .all])
    }
}

/// A stacked-LSTM encoder–decoder: the encoder's final (h, c) of both layers start the decoder,
/// which is trained with teacher forcing and decodes greedily.
final class Translator: Model {
    static let (pad, start, end) = (0, 1, 2)
    let sourceEmbedding = Embedding(numEmbeddings: 10, embeddingDim: 16)
    let encoder = LSTM(inputSize: 16, hiddenSize: 64, numLayers: 2, batchFirst: true)
    let targetEmbedding = Embedding(numEmbeddings: 12, embeddingDim: 16)
    let decoder = LSTM(inputSize: 16, hiddenSize: 64, numLayers: 2, batchFirst: true)
    let head = Linear(64, 12)

    /// inputs: source tokens [B, S], decoder input tokens [B, T] → logits [B, T, 12].
    override func callAsFunction(_ inputs: [Variable]) throws -> Variable {
        guard inputs.count == 2 else {
            throw RecurrentError.invalidArgument("Translator takes source and decoder-input tokens, got \(inputs.count) inputs")
        }
        let (_, state) = try encoder.forward(try sourceEmbedding(inputs[0]))
        let (output, _) = try decoder.forward(try targetEmbedding(inputs[1]), (state.hN, state.cN))
        return try head(output)
    }

    /// Greedy decoding of `length` tokens, one step at a time, carrying the decoder's state.
    func translate(_ source: Tensor, length: Int) throws -> [[Int]] {
        try withoutGradients {
            let (_, encoded) = try encoder.forward(try sourceEmbedding(Variable(source)))
            var state = (encoded.hN, encoded.cN)
            let batch = source.shape[0]
            var previous = Tensor(shape: [batch, 1], repeating: Float(Self.start))
            var result = [[Int]](repeating: [], count: batch)
            for _ in 0..<length {
                let (output, next) = try decoder.forward(try targetEmbedding(Variable(previous)), state)
                state = (next.hN, next.cN)
                let tokens = try head(output).value.argmax(axis: -1)
                for b in 0..<batch { result[b].append(Int(tokens.scalars[b])) }
                previous = try tokens.reshaped([batch, 1])
            }
            return result
        }
    }
}

extension Example {
    /// The PyTorch training loop: CrossEntropyLoss + Adam, 10 epochs, the mean loss per epoch.
    /// Data: seeded sentences of 10 tokens whose class decides which third of the vocabulary
    /// they mostly draw from.
    static let textClassification = Example(
        name: "text-classification", summary: "PyTorch loop: Embedding → LSTM → Linear, CrossEntropyLoss + Adam, 10 epochs"
    ) { print in
        var generator = SeededGenerator(seed: 5)
        let (count, length, classes) = (600, 10, 3)
        var tokens: [Float] = [], labels: [Float] = []
        for _ in 0..<count {
            let label = Int(generator.next() % UInt64(classes))
            labels.append(Float(label))
            for _ in 0..<length {
                let own = generator.next() % 10 < 6
                let token = own ? 1 + 10 * label + Int(generator.next() % 10) : 1 + Int(generator.next() % 30)
                tokens.append(Float(token))
            }
        }
        let x = try Tensor(shape: [count, length], scalars: tokens), y = try Tensor(shape: [count], scalars: labels)
        let model = TextClassifier(vocabularySize: 31, embeddingDim: 16, hiddenSize: 32, classes: classes)
        print(String(describing: model))
        let (criterion, optimizer) = (CrossEntropyLoss(), Adam(model.parameters(), lr: 0.005))
        let batchSize = 32
        var losses: [Float] = []
        for epoch in 1...10 {
            var order = Array(0..<count)
            order.shuffle(using: &generator)
            var total: Float = 0, batches = 0
            model.train()
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = Array(order[start..<min(start + batchSize, count)])
                optimizer.zeroGradients()
                let logits = try model(Variable(try x.rows(at: rows)))
                let loss = try criterion(logits, try y.rows(at: rows))
                try loss.backward()
                try optimizer.step()
                total += try loss.item()
                batches += 1
            }
            losses.append(total / Float(batches))
            print(String(format: "Epoch %d/10, Loss: %.4f", epoch, losses.last!))
        }
        model.eval()
        let predicted = try model.predict(x).argmax(axis: -1).scalars
        let accuracy = Float(zip(predicted, labels).filter { $0 == $1 }.count) / Float(count)
        print(String(format: "training accuracy %.3f", accuracy))
        return ["firstLoss": losses.first!, "lastLoss": losses.last!, "accuracy": accuracy]
    }

    /// The "stacked RNN for machine translation" exercise on a toy language: the target sentence
    /// is the source reversed, written in a second vocabulary (source word w is target word w + 2).
    static let translation = Example(
        name: "translation", summary: "Stacked LSTM encoder–decoder (2 layers each), teacher forcing, greedy decoding"
    ) { print in
        var generator = SeededGenerator(seed: 8)
        func sentences(_ n: Int) throws -> (source: Tensor, decoderInput: Tensor, target: Tensor) {
            var source: [Float] = [], input: [Float] = [], target: [Float] = []
            for _ in 0..<n {
                let words = (0..<5).map { _ in 1 + Int(generator.next() % 9) }
                let translated = words.reversed().map { Float($0 + 2) }
                source += words.map(Float.init)
                input += [Float(Translator.start)] + translated
                target += translated + [Float(Translator.end)]
            }
            return (try Tensor(shape: [n, 5], scalars: source), try Tensor(shape: [n, 6], scalars: input),
                    try Tensor(shape: [n, 6], scalars: target))
        }
        let train = try sentences(2000), test = try sentences(200)
        let model = Translator()
        print(String(describing: model))
        model.compile(optimizer: Adam(learningRate: 0.01), loss: .crossEntropy, metrics: [.accuracy])
        model.progressWriter = { print($0.hasSuffix("\n") ? String($0.dropLast()) : $0) }
        let history = try model.fit([train.source, train.decoderInput], train.target, batchSize: 64, epochs: 12, verbose: 2, seed: 10)
        let decoded = try model.translate(test.source, length: 6)
        let expected = test.target.scalars.map(Int.init)
        var correct = 0
        for (n, sentence) in decoded.enumerated() where sentence == Array(expected[(n * 6)..<(n * 6 + 6)]) { correct += 1 }
        let sourceWords = test.source.scalars.prefix(5).map { String(Int($0)) }.joined(separator: " ")
        print("example: \(sourceWords) → \(decoded[0].map(String.init).joined(separator: " "))")
        let exact = Float(correct) / Float(decoded.count)
        print(String(format: "greedy decoding: %.1f %% of %d held-out sentences exactly right", 100 * exact, decoded.count))
        return ["firstLoss": history["loss"]!.first!, "lastLoss": history["loss"]!.last!, "exactSentences": exact]
    }
}
