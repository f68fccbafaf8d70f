import Foundation
import Recurrent
import RecurrentTasks
import Testing

/// The README's snippets as it prints them, run (imports sit at the top of this file).
@Suite(.serialized) struct ReadmeTests {
    @Test func commandLineTasksFromTheLibrary() throws {
        try inScratchDirectory { scratch in
            try FileManager.default.createDirectory(atPath: scratch + "/data", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Package.path("data/japanese_vowels.csv"), toPath: scratch + "/data/japanese_vowels.csv")
            // snippet: readme-tasks
            var options = TaskOptions(task: .classifySequences, dataPath: "data/japanese_vowels.csv")
            (options.idColumn, options.stepColumn, options.labelColumn) = ("series", "t", "speaker")
            options.epochs = 3                                  // test only: keeps the debug-build test short
            let run = try Tasks.train(options, out: "vowels")
            print(run.report?.text ?? "no test part")          // accuracy: 0.9811   (majority class: 0.1351)
            let again = try Tasks.evaluate(model: "vowels", data: "data/japanese_vowels.csv")
            // end snippet
            #expect(again.headlines.first?.metric == "accuracy")
            #expect(try #require(again.headlines.first).beatsBaseline)
        }
    }

    @Test func twoFaces() throws {
        let x = Variable(Tensor.randn(3, 7, 10))
        // snippet: readme-two-faces
        // PyTorch: nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True)
        let lstm = LSTM(inputSize: 10, hiddenSize: 20, numLayers: 2, batchFirst: true, bidirectional: true)
        let (output, (hN, cN)) = try lstm.forward(x, mask: .lengths([7, 3, 5]))   // output [B, T, 40], hN [4, B, 20]

        // Keras: LSTM(64, return_sequences=True); the input size is inferred at the first call
        let layer = LSTM(units: 64, returnSequences: true)
        let sequence = try layer(x)                                                // [B, T, 64]
        let both = Bidirectional(GRU(units: 32), mergeMode: .sum)
        // end snippet
        #expect(output.shape == [3, 7, 40] && hN.shape == [4, 3, 20] && cN.shape == [4, 3, 20])
        #expect(sequence.shape == [3, 7, 64])
        #expect(try both(x).shape == [3, 32])
    }

    @Test func pytorchLoop() throws {
        try withRandomSeed(21) {
            // snippet: readme-pytorch-loop
            final class TextClassifier: Model {                       // class TextClassifier(nn.Module)
                let embedding = Embedding(numEmbeddings: 31, embeddingDim: 16, paddingIdx: 0)
                let lstm = LSTM(inputSize: 16, hiddenSize: 32, batchFirst: true)
                let fc = Linear(32, 3)
                override func callAsFunction(_ x: Variable) throws -> Variable {
                    let (out, _) = try lstm.forward(try embedding(x))
                    return try fc(try out[.all, -1, .all])             // out[:, -1, :]
                }
            }
            manualSeed(0)                                             // torch.manual_seed(0) (our generator, not torch's)
            let model = TextClassifier()
            let (criterion, optimizer) = (CrossEntropyLoss(), Adam(model.parameters(), lr: 1e-3))
            let x = try Tensor.randint(1, 31, [32, 10]), y = try Tensor.randint(0, 3, [32])
            optimizer.zeroGradients()
            let loss = try criterion(try model(Variable(x)), y)
            try loss.backward()
            try optimizer.step()
            print(try loss.item())
            // end snippet
            // One more step on the same batch lowers the loss.
            optimizer.zeroGradients()
            #expect(try criterion(try model(Variable(x)), y).item() < (try loss.item()))
        }
    }

    @Test func kerasModel() throws {
        try inScratchDirectory { _ in
            try withRandomSeed(22) {
                var generator = SeededGenerator(seed: 9)
                let x = try Tensor(shape: [40, 8], scalars: (0..<320).map { _ in Float(Int.random(in: 0..<100, using: &generator)) })
                let y = try Tensor(shape: [40, 1], scalars: (0..<40).map { Float(($0 * 7) % 2) })
                let xNew = try x.rows(at: [0, 1, 2])
                // snippet: readme-keras-model
                let model = Sequential {
                    Input(shape: [8])                                   // token ids, 8 per example
                    Embedding(inputDim: 100, outputDim: 16, maskZero: true)
                    LSTM(units: 32)
                    Dense(units: 24, activation: .relu)
                    Dense(units: 1, activation: .sigmoid)
                }
                try model.summary()                                     // Keras's table: 8,689 parameters
                model.compile(optimizer: Adam(), loss: .binaryCrossEntropy(), metrics: [.accuracy])
                let history = try model.fit(x, y, batchSize: 32, epochs: 50,
                                            callbacks: [EarlyStopping(patience: 3, restoreBestWeights: true)],
                                            validationSplit: 0.2)
                let probabilities = try model.predict(xNew)
                try model.save(to: "sentiment.safetensors")             // architecture + weights, one file
                let again = try Sequential.load(from: "sentiment.safetensors")
                // end snippet
                #expect(model.parameterCount == 8689 && history["loss"] != nil)
                #expect(try again.predict(xNew) == probabilities)
            }
        }
    }

    @Test func tokenizer() throws {
        let texts = ["the cat sat", "the dog sat down", "a cat"]
        // snippet: readme-tokenizer
        let tokenizer = Tokenizer(numWords: 100, oovToken: "<OOV>")
        try tokenizer.fitOnTexts(texts)
        let x = try padSequencesTensor(try tokenizer.textsToSequences(texts), maxlen: 8)   // "pre" padding, as Keras
        // end snippet
        #expect(x.shape == [3, 8])
        #expect(x.scalars.prefix(5) == [0, 0, 0, 0, 0])
    }

    @Test func encoderDecoder() throws {
        // snippet: readme-seq2seq
        final class Seq2Seq: Model {
            let encoder = GRU(inputSize: 4, hiddenSize: 12, batchFirst: true)
            let decoder = GRU(inputSize: 3, hiddenSize: 12, batchFirst: true)
            let head = Dense(inputSize: 12, units: 3, initializer: .pytorch)
            override func callAsFunction(_ inputs: [Variable]) throws -> Variable {
                let (_, state) = try encoder.forward(inputs[0])           // the encoder's h_n …
                return try head(try decoder.forward(inputs[1], state).output)   // … starts the decoder
            }
        }
        // end snippet
        let (tensors, _) = try Package.torchModels.get()
        let model = Seq2Seq()
        try model.loadStateDict(try Package.stateDict("seq2seq").filter { !["source", "target"].contains($0.key) })
        let output = try model.predict([try #require(tensors["seq2seq.source"]), try #require(tensors["seq2seq.target"])])
        expectClose(output, try #require(tensors["seq2seq.y"]))
    }
}
