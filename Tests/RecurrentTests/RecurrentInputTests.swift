import Testing
@testable import Recurrent

/// Bad input to the recurrent layers is a thrown error that names the problem.
@Suite struct RecurrentInputTests {
    @Test func wrongInputWidthOrRank() {
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, batchFirst: true)
        #expect(message { _ = try lstm.forward(Variable(Tensor.zeros([2, 5, 4]))) }
                == "LSTM input: expected shape [batch, steps, 3], got [2, 5, 4]")
        #expect(message { _ = try lstm.forward(Variable(Tensor.zeros([5]))) }
                == "LSTM input: expected shape [batch, steps, features], got [5]")
        // Rank 2 is PyTorch's unbatched input [steps, features], with states [layers·directions, H].
        #expect(message { _ = try lstm.forward(Variable(Tensor.zeros([2, 5]))) }
                == "LSTM input: expected shape [steps, 3] (unbatched) or [batch, steps, 3], got [2, 5]")
        let h0 = Variable(Tensor.zeros([1, 1, 4]))
        #expect(message { _ = try lstm.forward(Variable(Tensor.zeros([2, 3])), (h0, h0)) }
                == "LSTM h0 for unbatched input [steps, features]: expected shape [layers·directions, hidden], got [1, 1, 4]")
        #expect(message { _ = try lstm.forward(Variable(Tensor.zeros([2, 0, 3]))) }.contains("no empty axis"))
        // A Keras layer fixes its input size at the first call.
        let gru = GRU(units: 4)
        _ = try? gru(Variable(Tensor.zeros([1, 2, 3])))
        #expect(message { _ = try gru(Variable(Tensor.zeros([1, 2, 5]))) }.contains("expected shape [batch, steps, 3]"))
    }

    @Test func wrongInitialStateShape() {
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2)
        let x = Variable(Tensor.zeros([5, 2, 3]))
        let good = Variable(Tensor.zeros([2, 2, 4])), bad = Variable(Tensor.zeros([1, 2, 4]))
        #expect(message { _ = try lstm.forward(x, (bad, good)) }
                == "LSTM initial hidden state: expected shape [2, 2, 4], got [1, 2, 4]")
        #expect(message { _ = try lstm.forward(x, (good, bad)) }
                == "LSTM initial cell state: expected shape [2, 2, 4], got [1, 2, 4]")
        let rnn = SimpleRNN(inputSize: 3, hiddenSize: 4, bidirectional: true)
        #expect(message { _ = try rnn.forward(x, Variable(Tensor.zeros([1, 2, 4]))) }.contains("expected shape [2, 2, 4]"))
        #expect(message { _ = try LSTM(units: 4).call(Variable(Tensor.zeros([2, 5, 3])), initialState: [good]) }
                .contains("expected 2 tensors, got 1"))
    }

    @Test func badLengthsAndMasks() {
        let gru = GRU(inputSize: 3, hiddenSize: 4)
        let x = Variable(Tensor.zeros([5, 2, 3]))
        #expect(message { _ = try gru.forward(x, mask: .lengths([6, 2])) } == "GRU: length 6 of example 0 is outside 1...5")
        #expect(message { _ = try gru.forward(x, mask: .lengths([0, 2])) } == "GRU: length 0 of example 0 is outside 1...5")
        #expect(message { _ = try gru.forward(x, mask: .lengths([2])) } == "GRU: 1 lengths for a batch of 2")
        #expect(message { _ = try gru.forward(x, mask: .mask(Tensor.ones([5, 2]))) }
                == "GRU mask: expected shape [2, 5], got [5, 2]")
        #expect(message { _ = try gru.forward(x, mask: .mask(Tensor(shape: [2, 5], repeating: 0.5))) }
                .contains("value 0.5 at position 0 is not 0 or 1"))
    }

    @Test func nonFiniteInputs() throws {
        let rnn = SimpleRNN(inputSize: 2, hiddenSize: 3)
        var x = Tensor.zeros([4, 1, 2])
        x[2, 0, 1] = .nan
        #expect(message { _ = try rnn.forward(Variable(x)) } == "SimpleRNN input contains NaN or infinity")
        x[2, 0, 1] = .infinity
        #expect(message { _ = try rnn.forward(Variable(x)) } == "SimpleRNN input contains NaN or infinity")
        var h0 = Tensor.zeros([1, 1, 3])
        h0[0, 0, 0] = .nan
        #expect(message { _ = try rnn.forward(Variable(Tensor.zeros([4, 1, 2])), Variable(h0)) }
                .contains("initial state contains NaN"))
    }

    @Test func kerasCallIsForOneLayerOneDirection() {
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, bidirectional: true)
        #expect(message { _ = try lstm(Variable(Tensor.zeros([5, 2, 3]))) }.contains("one layer and one direction"))
    }

    @Test func stateDictMismatchNamesTheTensor() {
        let lstm = LSTM(inputSize: 3, hiddenSize: 4)
        var dict = Dictionary(uniqueKeysWithValues: lstm.namedParameters.map { ($0.name, $0.variable.value) })
        dict["weight_hh_l0"] = Tensor.zeros([16, 5])
        #expect(message { try lstm.loadStateDict(dict) }
                == "state dict entry weight_hh_l0: expected shape [16, 4], got [16, 5]")
        dict["weight_hh_l0"] = nil
        #expect(message { try lstm.loadStateDict(dict) } == "state dict: missing weight_hh_l0 [16, 4]")
        // Missing and unexpected keys are named together, as PyTorch's load_state_dict does.
        dict["weight_hh"] = Tensor.zeros([16, 4])
        dict["bias_ih_l0"] = nil
        #expect(message { try lstm.loadStateDict(dict) }
                == "state dict: missing weight_hh_l0 [16, 4], bias_ih_l0 [16]; unexpected weight_hh for this LSTM layer")
    }

    @Test func badConfigurationIsAnErrorNotACrash() throws {
        let x = Variable(Tensor.zeros([5, 2, 3]))
        #expect(message { _ = try LSTM(inputSize: 3, hiddenSize: 0).forward(x) } == "LSTM: hidden size must be positive, got 0")
        #expect(message { _ = try GRU(inputSize: 3, hiddenSize: 4, numLayers: 0).forward(x) }
                == "GRU: number of layers must be positive, got 0")
        #expect(message { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: 4).forward(x) }.contains("projSize 4"))
        #expect(message { _ = try LSTM(inputSize: 0, hiddenSize: 4).forward(x) }.contains("input size must be positive"))
        #expect(message { _ = try GRU(inputSize: 3, hiddenSize: 4, dropout: 1).forward(x) }
                == "GRU: dropout must be in [0, 1), got 1.0")
        #expect(message { _ = try LSTM(units: 4, recurrentDropout: -0.5)(x) }.contains("recurrentDropout must be in [0, 1)"))
        #expect(message { _ = try SimpleRNN(units: 4, activation: .softmax)(x) }.contains("softmax"))
        #expect(message { _ = try Bidirectional(LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2))(x) }
                .contains("one layer and one direction"))
        #expect(message { _ = try Dense(units: 0)(x) }.contains("units and input size must be positive"))
        #expect(message { _ = try Dense(inputSize: -1, units: 2)(x) }.contains("must be positive"))
        #expect(message { _ = try LSTMCell(inputSize: 0, hiddenSize: 4)(Variable(Tensor.zeros([2, 3]))) }
                .contains("sizes must be positive"))
        #expect(message { _ = try SimpleRNNCell(inputSize: 3, hiddenSize: 4, nonlinearity: .sigmoid)(Variable(Tensor.zeros([2, 3]))) }
                .contains("nonlinearity must be tanh or relu"))
        #expect(message { _ = try StepDecay(stepSize: 0) }.contains("stepSize must be positive"))
        #expect(message { _ = try CosineAnnealing(period: -1) }.contains("period must be positive"))
    }
}
