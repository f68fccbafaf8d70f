import Testing
@testable import Recurrent

/// Conv1D, MaxPooling1D and LayerNormalization: gradients by finite differences (their values are
/// held to Keras in ModelParityTests: cnn_lstm, conv_causal, layer_norm_gru, masked_pooling).
@Suite struct ConvolutionTests {
    static func input(_ shape: [Int], seed: UInt64 = 3) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.randomUniform(shape, low: -1, high: 1, generator: &generator)
    }

    static let geometries: [(String, TimePadding, Int, Int)] = [
        ("valid", .valid, 1, 1), ("same", .same, 1, 1), ("causal dilated", .causal, 1, 2), ("same strided", .same, 2, 1),
        ("valid strided", .valid, 3, 1),
    ]

    @Test(arguments: geometries.map(\.0))
    func convolutionGradients(_ name: String) throws {
        let (_, padding, strides, dilation) = try #require(Self.geometries.first { $0.0 == name })
        let conv = Conv1D(filters: 3, kernelSize: 3, strides: strides, padding: padding, dilationRate: dilation, activation: .tanh, seed: 1)
        let x = Self.input([2, 7, 4])
        _ = try conv(Variable(x))
        let weight = try #require(conv.weight).value, bias = Self.input([3], seed: 5)
        try #require(conv.bias).value = bias
        // The layer is windows · kernel + bias through the activation; its gradients by finite differences.
        let geometry = padding.geometry(steps: 7, size: 3, stride: strides, dilation: dilation)
        func expression(_ v: [Variable]) throws -> Variable {
            let windows = try v[0].slidingWindows(geometry, operation: "test")
            let w = windows.shape[1]
            return try (windows.reshaped([2 * w, 12]).matmul(v[1].reshaped([3, 12]), transposeOther: true) + v[2])
                .reshaped([2, w, 3]).tanh()
        }
        #expect(try conv(x) == expression([x, weight, bias].map { Variable($0) }).value)
        try checkGradients([x, weight, bias], expression)
    }

    @Test func convolutionOutputLengthsFollowKeras() throws {
        // Keras: valid ⌊(T − span)/s⌋ + 1, same ⌈T/s⌉, causal T (stride 1).
        let x = Variable(Self.input([1, 10, 2]))
        #expect(try Conv1D(filters: 1, kernelSize: 4)(x).shape == [1, 7, 1])
        #expect(try Conv1D(filters: 1, kernelSize: 4, strides: 3)(x).shape == [1, 3, 1])
        #expect(try Conv1D(filters: 1, kernelSize: 4, strides: 3, padding: .same)(x).shape == [1, 4, 1])
        #expect(try Conv1D(filters: 1, kernelSize: 3, padding: .causal, dilationRate: 4)(x).shape == [1, 10, 1])
        #expect(try MaxPooling1D(poolSize: 3)(x).shape == [1, 3, 2])
        #expect(try MaxPooling1D(poolSize: 3, padding: .same)(x).shape == [1, 4, 2])
    }

    @Test func causalOutputSeesNoFutureStep() throws {
        let conv = Conv1D(filters: 2, kernelSize: 3, padding: .causal, dilationRate: 2, seed: 4)
        var x = Self.input([1, 9, 3])
        let before = try conv(x)
        x.withUnsafeMutableBufferPointer { for i in (6 * 3)..<(9 * 3) { $0[i] += 5 } }
        let after = try conv(x)
        #expect(before.scalars.prefix(6 * 2) == after.scalars.prefix(6 * 2))
        #expect(before.scalars.suffix(3 * 2) != after.scalars.suffix(3 * 2))
    }

    @Test func poolingGradients() throws {
        try checkGradients([Self.input([2, 9, 3])]) { v in try MaxPooling1D(poolSize: 2)(v[0]) }
        try checkGradients([Self.input([2, 9, 3])]) { v in try MaxPooling1D(poolSize: 4, strides: 3, padding: .same)(v[0]) }
    }

    @Test func layerNormalizationGradients() throws {
        let x = Self.input([3, 4, 6])
        try checkGradients([x]) { v in try v[0].normalizedOverLastAxis(epsilon: 1e-3) }
        let norm = LayerNormalization()
        _ = try norm(Variable(x))
        let gamma = Self.input([6], seed: 8), beta = Self.input([6], seed: 9)
        try checkGradients([x, gamma, beta]) { v in
            try v[0].normalizedOverLastAxis(epsilon: 1e-3) * v[1] + v[2]
        }
        // The layer is that expression.
        try #require(norm.weight).value = gamma
        try #require(norm.bias).value = beta
        let layer = try norm(x)
        let expression = try (Variable(x).normalizedOverLastAxis(epsilon: 1e-3) * Variable(gamma) + Variable(beta)).value
        #expect(layer == expression)
    }

    @Test func layerNormalizationMatchesTheDefinition() throws {
        let x = try Tensor.tensor([[1, 2, 3, 6]] as [[Float]])
        let y = try LayerNorm(4)(x)  // PyTorch's ε = 1e-5
        let mean: Float = 3, variance: Float = (4 + 1 + 0 + 9) / 4
        let expected = [1, 2, 3, 6].map { ($0 - mean) / (variance + 1e-5).squareRoot() }
        for (a, b) in zip(y.scalars, expected) { #expect(abs(a - b) < 1e-6) }
        #expect(LayerNorm(4).parameterCount == 8)
    }

    @Test func badInputIsNamed() throws {
        let conv = Conv1D(filters: 2, kernelSize: 5)
        #expect(message { _ = try conv(Tensor.zeros([1, 3, 2])) }.contains("3 steps are too few for a window of 5 taps"))
        _ = try conv(Tensor.zeros([1, 8, 2]))
        #expect(message { _ = try conv(Tensor.zeros([1, 8, 3])) }.contains("expected shape [batch, steps, 2], got [1, 8, 3]"))
        #expect(message { _ = try Conv1D(filters: 2, kernelSize: 3, strides: 2, dilationRate: 2)(Tensor.zeros([1, 8, 2])) }
            .contains("strides > 1 together with dilation rate > 1"))
        #expect(message { _ = try MaxPooling1D(poolSize: 2, padding: .causal)(Tensor.zeros([1, 8, 2])) }.contains("padding valid or same"))
        #expect(message { _ = try LayerNormalization()(Tensor.zeros([2, 0])) }.contains("[..., features]"))
    }
}
