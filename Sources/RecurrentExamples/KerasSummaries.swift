import Recurrent

extension Example {
    /// The Keras tutorial's models on input (10, 5): their summaries, with Keras's counts.
    static let kerasSummaries: [Example] = [
        summaryExample("simple-rnn", "SimpleRNN(64) + Dense(1): 4,545 parameters") {
            Sequential { Input(shape: [10, 5]); SimpleRNN(units: 64); Dense(units: 1) }
        },
        summaryExample("lstm", "LSTM(64) + Dense(1): 17,985 parameters") {
            Sequential { Input(shape: [10, 5]); LSTM(units: 64); Dense(units: 1) }
        },
        summaryExample("gru", "GRU(64) + Dense(1): 13,697 parameters") {
            Sequential { Input(shape: [10, 5]); GRU(units: 64); Dense(units: 1) }
        },
        summaryExample("stacked-lstm", "LSTM(64, returnSequences) → LSTM(32) → Dense(1): 30,369 parameters") {
            Sequential {
                Input(shape: [10, 5])
                LSTM(units: 64, returnSequences: true)
                LSTM(units: 32)
                Dense(units: 1)
            }
        },
        summaryExample("bidirectional", "Bidirectional(LSTM(64)) + Dense(1): 35,969 parameters") {
            Sequential { Input(shape: [10, 5]); Bidirectional(LSTM(units: 64)); Dense(units: 1) }
        },
        summaryExample("time-distributed", "LSTM(64, returnSequences) + TimeDistributed(Dense(1)): output (None, 10, 1)") {
            Sequential {
                Input(shape: [10, 5])
                LSTM(units: 64, returnSequences: true)
                TimeDistributed(Dense(units: 1))
            }
        },
    ]

    static func summaryExample(_ name: String, _ summary: String, _ make: @escaping @Sendable () -> Sequential) -> Example {
        Example(name: name, summary: summary) { print in
            let model = make()
            try model.summary(print: print)
            return ["parameters": Float(model.parameterCount)]
        }
    }

    /// Dropout on the inputs, recurrent dropout on the state, and a Dropout layer: trained
    /// briefly on a seeded task (predict the sum of a noisy sequence) to show dropout in use.
    static let dropoutModel = Example(
        name: "dropout", summary: "LSTM(64, dropout 0.2, recurrentDropout 0.2) + Dropout(0.5) + Dense(1), trained"
    ) { print in
        let model = Sequential {
            Input(shape: [10, 5])
            LSTM(units: 64, dropout: 0.2, recurrentDropout: 0.2)
            Dropout(rate: 0.5)
            Dense(units: 1)
        }
        try model.summary(print: print)
        var generator = SeededGenerator(seed: 7)
        let x = Tensor.randomNormal([256, 10, 5], generator: &generator)
        let y = try x.sum(axis: 2).sum(axis: 1, keepingAxis: true) * 0.1
        model.progressWriter = { print($0.hasSuffix("\n") ? String($0.dropLast()) : $0) }
        model.compile(optimizer: Adam(learningRate: 0.005), loss: .meanSquaredError, metrics: [.meanAbsoluteError])
        let history = try model.fit(x, y, batchSize: 32, epochs: 8, verbose: 2, validationSplit: 0.2, seed: 1)
        return ["firstLoss": history["loss"]!.first!, "lastLoss": history["loss"]!.last!,
                "lastValidationLoss": history["val_loss"]!.last!]
    }
}
