import Foundation
import Recurrent
import Testing

/// The tutorial "From PyTorch" (`Sources/Recurrent/Recurrent.docc/FromPyTorch.md`): each snippet
/// as the page shows it, then checked against PyTorch 2.13.0's reprs and outputs
/// (`torch_models.safetensors`).
@Suite struct FromPyTorchTests {
    @Test func tensors() throws {
        try withRandomSeed(1) {
            // snippet: tensors
            manualSeed(0)                                       // torch.manual_seed(0)
            let x = Tensor.randn(32, 50, 100)                   // torch.randn(32, 50, 100)
            let labels = try Tensor.randint(0, 2, [32])         // torch.randint(0, 2, (32,))
            let out = Variable(x)
            let last = try out[.all, -1, .all]                  // out[:, -1, :]         [32, 100]
            let firstTen = try out[.all, ..<10, .all]           // out[:, :10, :]        [32, 10, 100]
            let pooled = try out.max(dim: 1).values             // out.max(dim=1).values [32, 100]
            let means = try out.mean(dim: 1, keepdim: true)     // out.mean(1, keepdim=True) [32, 1, 100]
            let both = try Variable.stack([last, pooled], dim: 1)   // torch.stack(..., dim=1) [32, 2, 100]
            let flat = try both.view(32, -1)                    // .view(32, -1)          [32, 200]
            let scores = try flat.permute(1, 0).unsqueeze(0)    // .permute(1, 0).unsqueeze(0) [1, 200, 32]
            // end snippet
            #expect(labels.shape == [32] && labels.scalars.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(last.shape == [32, 100] && firstTen.shape == [32, 10, 100] && pooled.shape == [32, 100])
            #expect(means.shape == [32, 1, 100] && flat.shape == [32, 200] && scores.shape == [1, 200, 32])
            #expect(last.value.scalars.prefix(100) == x.scalars[(49 * 100)..<(50 * 100)])
        }
    }

    @Test func simpleRNNModel() throws {
        try withRandomSeed(2) {
            // snippet: simple-rnn-model
            final class SimpleRNNModel: Model {                 // class SimpleRNN(nn.Module)
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

            let model = SimpleRNNModel(inputSize: 10, hiddenSize: 20, outputSize: 1)
            print(model)
            // end snippet
            try matchesPyTorch(model, "simple_rnn_model")
        }
    }

    @Test func multiLayerRNN() throws {
        try withRandomSeed(3) {
            // snippet: multi-layer-rnn
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
                    let h0 = Variable(Tensor.zeros(numLayers, x.shape[0], hiddenSize))
                    let (out, _) = try rnn.forward(x, h0)
                    return try fc(try out[.all, -1, .all])
                }
            }

            let model = MultiLayerRNN(inputSize: 10, hiddenSize: 20, numLayers: 2, outputSize: 1)
            // end snippet
            try matchesPyTorch(model, "multi_layer_rnn")
        }
    }

    @Test func rnnWithCell() throws {
        try withRandomSeed(4) {
            // snippet: rnn-with-cell
            final class RNNWithCell: Model {
                let cell: RNNCell
                let fc: Linear
                let hiddenSize: Int

                init(inputSize: Int, hiddenSize: Int, outputSize: Int) {
                    self.hiddenSize = hiddenSize
                    cell = RNNCell(inputSize, hiddenSize)
                    fc = Linear(hiddenSize, outputSize)
                }

                override func callAsFunction(_ x: Variable) throws -> Variable {
                    var h = Variable(Tensor.zeros(x.shape[0], hiddenSize))
                    for t in 0..<x.shape[1] {
                        h = try cell(try x[.all, t, .all], h)   // h = self.cell(x[:, t, :], h)
                    }
                    return try fc(h)
                }
            }
            // end snippet
            try matchesPyTorch(RNNWithCell(inputSize: 10, hiddenSize: 20, outputSize: 1), "rnn_with_cell")
        }
    }

    @Test func multiLayerRNNCell() throws {
        try withRandomSeed(5) {
            // snippet: multi-layer-rnn-cell
            final class MultiLayerRNNCell: Model {
                let cells: ModuleList<RNNCell>
                let fc: Linear
                let hiddenSize: Int

                init(inputSize: Int, hiddenSize: Int, numLayers: Int, outputSize: Int) {
                    self.hiddenSize = hiddenSize
                    cells = ModuleList((0..<numLayers).map { RNNCell($0 == 0 ? inputSize : hiddenSize, hiddenSize) })
                    fc = Linear(hiddenSize, outputSize)
                }

                override func callAsFunction(_ x: Variable) throws -> Variable {
                    var h = cells.map { _ in Variable(Tensor.zeros(x.shape[0], hiddenSize)) }
                    for t in 0..<x.shape[1] {
                        var input = try x[.all, t, .all]
                        for (i, cell) in cells.enumerated() {
                            h[i] = try cell(input, h[i])
                            input = h[i]
                        }
                    }
                    return try fc(h[h.count - 1])
                }
            }

            let model = MultiLayerRNNCell(inputSize: 10, hiddenSize: 20, numLayers: 3, outputSize: 1)
            print(model)
            // end snippet
            try matchesPyTorch(model, "multi_layer_rnn_cell")
        }
    }

    @Test func sequentialOfModules() throws {
        try withRandomSeed(6) {
            // snippet: sequential
            let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 8), Tanh(), Linear(8, 1), Sigmoid())
            print(model.stateDict().keys.sorted())              // ["0.bias", "0.weight", "2.bias", …]
            // end snippet
            try matchesPyTorch(model, "sequential")
        }
    }

    /// The module prints as PyTorch prints it, counts as many parameters, and with PyTorch's
    /// state dict gives PyTorch's output.
    func matchesPyTorch(_ model: Model, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (tensors, metadata) = try Package.torchModels.get()
        #expect(String(describing: model) == metadata["repr.\(name)"], sourceLocation: sourceLocation)
        #expect(String(model.parameterCount) == metadata["count.\(name)"], sourceLocation: sourceLocation)
        try model.loadStateDict(try Package.stateDict(name))
        let x = try #require(tensors["\(name).x"]), y = try #require(tensors["\(name).y"])
        expectClose(try model.predict(x), y, sourceLocation: sourceLocation)
    }

    @Test func trainingLoop() throws {
        try withRandomSeed(7) {
            var losses: [Float] = []
            // snippet: training-loop
            final class TextClassifier: Model {
                let embedding = Embedding(numEmbeddings: 31, embeddingDim: 16, paddingIdx: 0)
                let lstm = LSTM(inputSize: 16, hiddenSize: 32, batchFirst: true)
                let fc = Linear(32, 3)

                override func callAsFunction(_ x: Variable) throws -> Variable {
                    let (out, _) = try lstm.forward(try embedding(x))
                    return try fc(try out[.all, -1, .all])
                }
            }

            manualSeed(0)
            let model = TextClassifier()
            let criterion = CrossEntropyLoss()
            let optimizer = Adam(model.parameters(), lr: 1e-2)
            let x = try Tensor.randint(1, 31, [64, 10])
            let y = try Tensor.randint(0, 3, [64])

            model.train()
            for epoch in 0..<20 {
                optimizer.zeroGradients()                       // optimizer.zero_grad()
                let loss = try criterion(try model(Variable(x)), y)
                try loss.backward()
                try optimizer.step()
                if epoch % 5 == 0 { print("epoch \(epoch): loss \(try loss.item())") }
                losses.append(try loss.item())
            }
            model.eval()
            let predicted = try noGrad { try model(Variable(x)).argmax(dim: 1) }   // with torch.no_grad():
            // end snippet
            #expect(losses.last! < losses.first! / 2, "\(losses)")
            #expect(predicted.shape == [64])
        }
    }

    @Test func loadingAStateDict() throws {
        // The fixture's classifier, as a user would load a state dict saved by PyTorch.
        let (tensors, _) = try Package.torchModels.get()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("classifier-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try SafeTensors.write(try Package.stateDict("classifier"), to: scratch)
        try withRandomSeed(8) {
            let statePath = scratch
            // snippet: load-state-dict
            final class TextClassifier: Model {
                let embedding = Embedding(numEmbeddings: 50, embeddingDim: 8, paddingIdx: 0)
                let lstm = LSTM(inputSize: 8, hiddenSize: 16, numLayers: 2, batchFirst: true, bidirectional: true)
                let fc = Linear(32, 3)

                override func callAsFunction(_ x: Variable) throws -> Variable {
                    let (output, _) = try lstm.forward(try embedding(x))
                    return try fc(try output[.all, -1, .all])
                }
            }

            // Python: safetensors.torch.save_file(model.state_dict(), "classifier.safetensors")
            let model = TextClassifier()
            try model.loadStateDict(path: statePath)
            // end snippet
            expectClose(try model.predict(try #require(tensors["classifier.x"])), try #require(tensors["classifier.y"]))
        }
    }
}
