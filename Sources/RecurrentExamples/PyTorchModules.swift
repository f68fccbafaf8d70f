import Recurrent

/// `nn.RNN` + `nn.Linear` on the last step (the PyTorch tutorial's `SimpleRNN` module).
final class SimpleRNNModule: Model {
    let rnn: SimpleRNN
    let fc: Linear

    init(inputSize: Int, hiddenSize: Int, outputSize: Int) {
        rnn = SimpleRNN(inputSize: inputSize, hiddenSize: hiddenSize, batchFirst: true)
        fc = Linear(hiddenSize, outputSize)
    }

    override func callAsFunction(_ x: Variable) throws -> Variable {
        let (out, _) = try rnn.forward(x)
        return try fc(try out[.all, -1, .all])
    }
}

/// Stacked `nn.RNN(num_layers:)` with an explicit zero initial state.
final class MultiLayerRNN: Model {
    let rnn: SimpleRNN
    let fc: Linear
    let numLayers: Int, hiddenSize: Int

    init(inputSize: Int, hiddenSize: Int, numLayers: Int, outputSize: Int) {
        (self.numLayers, self.hiddenSize) = (numLayers, hiddenSize)
        rnn = SimpleRNN(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, batchFirst: true)
        fc = Linear(hiddenSize, outputSize)
    }

    override func callAsFunction(_ x: Variable) throws -> Variable {
        let h0 = Variable(Tensor.zeros([numLayers, x.shape[0], hiddenSize]))
        let (out, _) = try rnn.forward(x, h0)
        return try fc(try out[.all, -1, .all])
    }
}

/// A hand-written loop over time with `nn.RNNCell`.
final class RNNWithCell: Model {
    let cell: SimpleRNNCell
    let fc: Linear

    init(inputSize: Int, hiddenSize: Int, outputSize: Int) {
        cell = SimpleRNNCell(inputSize: inputSize, hiddenSize: hiddenSize)
        fc = Linear(hiddenSize, outputSize)
    }

    override func callAsFunction(_ x: Variable) throws -> Variable {
        var h = cell.zeroState(batch: x.shape[0])
        let steps = try x.swappingFirstTwoAxes()
        for t in 0..<x.shape[1] { h = try cell(try steps.selecting(t), h) }
        return try fc(h)
    }
}

/// A stack of `nn.RNNCell`s in a `ModuleList`, each feeding the next at every step.
final class MultiLayerRNNCell: Model {
    let cells: [SimpleRNNCell]
    let fc: Linear

    init(inputSize: Int, hiddenSize: Int, numLayers: Int, outputSize: Int) {
        cells = (0..<numLayers).map { SimpleRNNCell(inputSize: $0 == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize) }
        fc = Linear(hiddenSize, outputSize)
    }

    override func callAsFunction(_ x: Variable) throws -> Variable {
        var h = cells.map { $0.zeroState(batch: x.shape[0]) }
        let steps = try x.swappingFirstTwoAxes()
        for t in 0..<x.shape[1] {
            var input = try steps.selecting(t)
            for (layer, cell) in cells.enumerated() {
                h[layer] = try cell(input, h[layer])
                input = h[layer]
            }
        }
        return try fc(h[h.count - 1])
    }
}

extension Example {
    /// The PyTorch tutorial's four modules on a batch of 3 sequences of 5 steps of 10 features.
    static let pytorchModules: [Example] = [
        moduleExample("pytorch-simple-rnn", "nn.RNN + nn.Linear on the last step") {
            SimpleRNNModule(inputSize: 10, hiddenSize: 20, outputSize: 1)
        },
        moduleExample("pytorch-multilayer-rnn", "nn.RNN(num_layers: 2) with an explicit h0") {
            MultiLayerRNN(inputSize: 10, hiddenSize: 20, numLayers: 2, outputSize: 1)
        },
        moduleExample("pytorch-rnn-cell", "a loop over time with nn.RNNCell") {
            RNNWithCell(inputSize: 10, hiddenSize: 20, outputSize: 1)
        },
        moduleExample("pytorch-multilayer-rnn-cell", "two nn.RNNCells in a ModuleList") {
            MultiLayerRNNCell(inputSize: 10, hiddenSize: 20, numLayers: 2, outputSize: 1)
        },
    ]

    static func moduleExample(_ name: String, _ summary: String, _ make: @escaping @Sendable () -> Model) -> Example {
        Example(name: name, summary: summary) { print in
            let model = make()
            print(String(describing: model))
            var generator = SeededGenerator(seed: 1)
            let x = Tensor.randomNormal([3, 5, 10], generator: &generator)
            let output = try model(x)
            print("input \(x.shape) → output \(output.shape); \(model.parameterCount) parameters")
            return ["outputRows": Float(output.shape[0]), "outputWidth": Float(output.shape[1]),
                    "parameters": Float(model.parameterCount)]
        }
    }
}
