import Foundation
import Recurrent
import Testing

/// The tutorial "From Keras" (`Sources/Recurrent/Recurrent.docc/FromKeras.md`): each snippet as
/// the page shows it, then checked against Keras 3.15.1's summaries and outputs
/// (`keras_models.safetensors`, `keras_functional.safetensors`).
@Suite struct FromKerasTests {
    /// Quiet progress: the snippets print what Keras prints, the test log does not need it.
    static func quiet(_ models: Model...) { for model in models { model.progressWriter = { _ in } } }

    @Test func summaries() throws {
        var printed: [String] = []
        let print = { (text: String) in printed.append(text) }
        // snippet: summaries
        let simple = Sequential { Input(shape: [10, 5]); SimpleRNN(units: 64); Dense(units: 1) }
        let lstm = Sequential { Input(shape: [10, 5]); LSTM(units: 64); Dense(units: 1) }
        let gru = Sequential { Input(shape: [10, 5]); GRU(units: 64); Dense(units: 1) }
        for model in [simple, lstm, gru] {
            try model.summary(print: print)                     // 4,545, 17,985 and 13,697 parameters
        }
        // end snippet
        #expect(printed == [try Package.kerasSummary("simple_rnn"), try Package.kerasSummary("lstm"), try Package.kerasSummary("gru")])
    }

    @Test func stacks() throws {
        // snippet: stacks
        let stacked = Sequential {
            Input(shape: [10, 5])
            LSTM(units: 64, returnSequences: true)              // every step goes on to the next layer
            LSTM(units: 32)
            Dense(units: 1)
        }
        let bidirectional = Sequential {
            Input(shape: [10, 5])
            Bidirectional(LSTM(units: 64))                      // forward and backward, concatenated
            Dense(units: 1)
        }
        let perStep = Sequential {
            Input(shape: [10, 5])
            LSTM(units: 64, returnSequences: true)
            TimeDistributed(Dense(units: 1))                    // one output per step: (None, 10, 1)
        }
        let regularised = Sequential {
            Input(shape: [10, 5])
            LSTM(units: 64, dropout: 0.2, recurrentDropout: 0.2)
            Dropout(rate: 0.5)
            Dense(units: 1)
        }
        // end snippet
        for (model, name) in [(stacked, "stacked_lstm"), (bidirectional, "bidirectional"), (perStep, "time_distributed"), (regularised, "dropout_lstm")] {
            #expect(try model.summaryText() == Package.kerasSummary(name), "\(name)")
        }
    }

    @Test func sentiment() throws {
        try withRandomSeed(11) {
            var modelSummary = "", accuracy: Float = 0
            let print = { (text: String) in modelSummary = text }
            // snippet: sentiment
            let texts = [
                "I love this movie", "This film was terrible", "Absolutely fantastic experience", "I did not like the movie",
                "Best film I have ever seen", "Worst movie ever", "I really enjoyed it", "It was boring and too long",
                "An amazing story", "Not worth watching",
            ]
            let labels = try Tensor(shape: [10, 1], scalars: [1, 0, 1, 0, 1, 0, 1, 0, 1, 0])

            let tokenizer = Tokenizer(numWords: 100, oovToken: "<OOV>")
            try tokenizer.fitOnTexts(texts)
            let x = try padSequencesTensor(try tokenizer.textsToSequences(texts), maxlen: 8)

            let model = Sequential {
                Input(shape: [8])
                Embedding(inputDim: 100, outputDim: 16)
                LSTM(units: 32)
                Dense(units: 24, activation: .relu)
                Dense(units: 1, activation: .sigmoid)
            }
            try model.summary(print: print)
            model.compile(optimizer: Adam(), loss: .binaryCrossEntropy(), metrics: [.accuracy])
            let history = try model.fit(x, labels, epochs: 50, verbose: .silent)
            accuracy = history["accuracy"]!.last!
            // end snippet
            #expect(modelSummary == (try Package.kerasSummary("sentiment")))
            #expect(accuracy == 1)
        }
    }

    @Test func classifier() throws {
        try withRandomSeed(12) {
            var printed: [String] = []
            let print = { (text: String) in printed.append(text) }
            var generator = SeededGenerator(seed: 3)
            // Four classes: which of the first four features has the largest sum over time.
            let x = Tensor.randomNormal([400, 10, 5], generator: &generator)
            let sums = try Variable(x).sum(dim: 1)
            let y = try sums[.all, ..<4].argmax(dim: 1)
            let (xTrain, yTrain) = (try x.rows(at: Array(0..<320)), try y.rows(at: Array(0..<320)))
            let (xTest, yTest) = (try x.rows(at: Array(320..<400)), try y.rows(at: Array(320..<400)))
            var accuracy: Float = 0
            // snippet: classifier
            let model = Sequential {
                Input(shape: [10, 5])
                SimpleRNN(units: 32, returnSequences: true)
                SimpleRNN(units: 32)
                Dense(units: 4, activation: .softmax)
            }
            try model.summary(print: print)
            model.compile(optimizer: Adam(learningRate: 0.003), loss: .sparseCategoricalCrossEntropy(), metrics: [.accuracy])
            let history = try model.fit(xTrain, yTrain, batchSize: 32, epochs: 30, verbose: .silent, validationSplit: 0.2)
            print(history.description)                          // one row per epoch: loss, accuracy, val_loss, val_accuracy
            let test = try model.evaluate(xTest, yTest)
            accuracy = test["accuracy"]!
            // end snippet
            #expect(printed.first == (try Package.kerasSummary("simple_rnn_classifier")))
            #expect(printed.last!.hasPrefix("epoch    loss  accuracy  val_loss  val_accuracy"))
            #expect(accuracy > 0.6, "chance is 0.25")
        }
    }

    @Test func functional() throws {
        try withRandomSeed(13) {
            var summary = ""
            // snippet: functional
            let series = Input(shape: [10, 3], name: "series")   // keras.Input(shape=(10, 3), name="series")
            let `static` = Input(shape: [4], name: "static")
            let x = try LSTM(units: 8)(series)
            let y = try Dense(units: 8, activation: .relu)(`static`)
            let joined = try Concatenate()([x, y])
            let summed = try Add()([x, y])
            let output = try Dense(units: 1)(try Concatenate()([joined, summed]))
            let model = try Model(inputs: [series, `static`], outputs: output)
            summary = try model.summaryText()                   // with Keras's "Connected to" column
            // end snippet
            #expect(summary == (try Package.kerasSummary("two_inputs", functional: true)))
        }
    }

    @Test func cnnLSTM() throws {
        try withRandomSeed(14) {
            // snippet: cnn-lstm
            let model = Sequential {
                Input(shape: [20, 3])
                Conv1D(filters: 8, kernelSize: 3, padding: .same, activation: .relu)
                MaxPooling1D(poolSize: 2)                       // (None, 10, 8)
                LayerNormalization()
                LSTM(units: 16)
                Dense(units: 1)
            }
            // end snippet
            let keras = try Package.kerasSummary("cnn_lstm")
            #expect(try model.summaryText() == keras)
        }
    }

    @Test func callbacks() throws {
        try inScratchDirectory { _ in try withRandomSeed(15) {
            var generator = SeededGenerator(seed: 4)
            let x = Tensor.randomNormal([200, 8, 2], generator: &generator)
            let y = try Variable(x).sum(dim: 1)[.all, 0..<1].value
            let model = Sequential { Input(shape: [8, 2]); GRU(units: 8); Dense(units: 1) }
            model.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
            Self.quiet(model)
            // snippet: callbacks
            let best = ModelCheckpoint(path: "best.safetensors", saveBestOnly: true, restoreBestAtEnd: true)
            let history = try model.fit(x, y, batchSize: 32, epochs: 20, callbacks: [
                EarlyStopping(patience: 4),
                best,                                           // the best epoch's weights, back at the end
                ReduceLROnPlateau(factor: 0.5, patience: 2),
                CSVLogger("training.csv"),
                BackupAndRestore(backupDirectory: "backup"),    // an interrupted fit resumes where it stopped
                TerminateOnNaN(),
            ], validationSplit: 0.2)
            print(history)
            // end snippet
            let losses = try #require(history["val_loss"])
            #expect(best.savedEpoch == losses.indices.min { losses[$0] < losses[$1] })
            #expect(try model.evaluate(try x.rows(at: Array(160..<200)), try y.rows(at: Array(160..<200)))["loss"] == losses.min())
            #expect(FileManager.default.fileExists(atPath: "training.csv") && !FileManager.default.fileExists(atPath: "backup"))
        } }
    }

    @Test func kerasWeights() throws {
        let (tensors, _) = try Package.kerasModels.get()
        let weightsPath = Package.path("Tests/RecurrentTests/Fixtures/models/keras_lstm.npz")
        // snippet: keras-weights
        // Python: np.savez("weights.npz", *model.get_weights())
        let model = Sequential { Input(shape: [10, 5]); LSTM(units: 64); Dense(units: 1) }
        try model.loadKerasWeights(npz: weightsPath)
        // end snippet
        expectClose(try model.predict(try #require(tensors["lstm.x"])), try #require(tensors["lstm.y"]))
    }

    @Test func lengths() throws {
        try withRandomSeed(16) {
            var generator = SeededGenerator(seed: 5)
            let x = Tensor.randomNormal([64, 6, 3], generator: &generator)
            let y = Tensor.randomNormal([64, 1], generator: &generator)
            let lengths = (0..<64).map { 1 + $0 % 6 }
            // snippet: lengths
            let model = Sequential { Input(shape: [6, 3]); LSTM(units: 8); Dense(units: 1) }
            model.compile(optimizer: Adam(), loss: .meanSquaredError)
            try model.fit(x, y, epochs: 2, verbose: .silent, lengths: lengths)   // example b's steps from lengths[b] on are padding
            let predictions = try model.predict(x, lengths: lengths)
            // end snippet
            #expect(predictions.shape == [64, 1])
        }
    }
}
