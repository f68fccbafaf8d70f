import Testing
@testable import Recurrent

@Suite struct LayerTests {
    @Test func denseGradients() throws {
        let layer = Dense(inputSize: 4, units: 3, activation: .tanh, seed: 1)
        let x = random([5, 4], seed: 2)
        try checkGradients([x, layer.weight!.value, layer.bias!.value]) { v in
            let w = v[1], b = v[2]
            return (try (try v[0].matmul(w, transposeOther: true)) + b).tanh()
        }
        // The layer computes that same function, and its gradients reach its parameters.
        let y = try layer(Variable(x))
        let expected = (try x.matmul(layer.weight!.value, transposeOther: true) + layer.bias!.value).tanh()
        expectClose(y.value, expected)
        try y.sum().backward()
        #expect(layer.weight!.grad?.shape == [3, 4])
        #expect(layer.bias!.grad?.shape == [3])
    }

    @Test func denseInfersInputSizeAndAppliesToLastAxis() throws {
        let layer = Dense(units: 2, seed: 3)
        #expect(layer.parameterCount == 0)
        let y = try layer(Variable(random([4, 7, 5], seed: 4)))
        #expect(y.shape == [4, 7, 2])
        #expect(layer.parameterCount == 5 * 2 + 2)
        #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
        #expect(throws: RecurrentError.self) { try layer(Variable(random([4, 6], seed: 5))) }
        #expect(String(describing: layer) == "Dense(5 => 2)  # 12 parameters")
    }

    @Test func kerasAndPyTorchInitializers() throws {
        let keras = Dense(inputSize: 100, units: 50, seed: 6)
        let limit = (6.0 / 150.0).squareRoot()
        let w = keras.weight!.value.scalars
        #expect(w.allSatisfy { abs(Double($0)) <= limit })
        #expect(w.map { abs(Double($0)) }.max()! > 0.9 * limit)
        #expect(keras.bias!.value.scalars.allSatisfy { $0 == 0 })
        let torch = Dense(inputSize: 100, units: 50, initializer: .pytorch, seed: 6)
        #expect(torch.weight!.value.scalars.allSatisfy { abs($0) <= 0.1 })
        #expect(torch.bias!.value.scalars.contains { $0 != 0 })
        // Same seed, same weights; another seed, others.
        #expect(Dense(inputSize: 3, units: 2, seed: 9).weight!.value == Dense(inputSize: 3, units: 2, seed: 9).weight!.value)
        #expect(Dense(inputSize: 3, units: 2, seed: 9).weight!.value != Dense(inputSize: 3, units: 2, seed: 8).weight!.value)
    }

    @Test(arguments: [[6, 4], [4, 6], [5, 5]])
    func orthogonalInitializerIsOrthonormal(shape: [Int]) throws {
        var generator = SeededGenerator(seed: 7)
        let q = Initializer.orthogonal().make(shape: shape, fanIn: shape[1], fanOut: shape[0], generator: &generator)
        // QᵀQ = I when rows ≥ columns, QQᵀ = I otherwise.
        let product = shape[0] >= shape[1] ? try q.matmul(q, transposeSelf: true) : try q.matmul(q, transposeOther: true)
        let n = min(shape[0], shape[1])
        for i in 0..<n {
            for j in 0..<n { #expect(abs(product[i, j] - (i == j ? 1 : 0)) < 1e-5) }
        }
    }

    @Test func glorotNormalIsTruncated() throws {
        var generator = SeededGenerator(seed: 8)
        let t = Initializer.glorotNormal.make(shape: [200, 200], fanIn: 200, fanOut: 200, generator: &generator)
        let std = (2.0 / 400.0).squareRoot() / 0.87962566
        #expect(t.scalars.allSatisfy { abs(Double($0)) <= 2 * std + 1e-6 })
        let variance = t.scalars.reduce(0.0) { $0 + Double($1 * $1) } / Double(t.count)
        #expect(abs(variance.squareRoot() - (2.0 / 400.0).squareRoot()) < 0.002)
    }
}
