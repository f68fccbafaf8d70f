import Testing
@testable import Recurrent

/// Finite-difference gradient check by central differences.
///
/// The function's output is reduced to a scalar through fixed random weights (so every output
/// element matters with a different sign), its analytic gradients are compared with
/// (L(x+ε) − L(x−ε)) / 2ε for every element of every input. Float32 forward passes make the
/// numerical estimate good to about 1e-3 with ε = 1e-2, hence the default tolerances:
/// |analytic − numeric| ≤ atol + rtol · max(|analytic|, |numeric|), atol 1e-3, rtol 5e-3.
func checkGradients(
    _ inputs: [Tensor], epsilon: Float = 1e-2, atol: Float = 1e-3, rtol: Float = 5e-3, seed: UInt64 = 99,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: ([Variable]) throws -> Variable
) throws {
    let variables = inputs.map { Variable($0, requiresGrad: true) }
    let output = try function(variables)
    var generator = SeededGenerator(seed: seed)
    let weights = Variable(Tensor.randomUniform(output.shape, low: -1, high: 1, generator: &generator))
    try (try output * weights).sum().backward()

    func loss(_ perturbed: [Tensor]) throws -> Double {
        try withoutGradients {
            let out = try function(perturbed.map { Variable($0) }).value
            return zip(out.scalars, weights.value.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    for (index, input) in inputs.enumerated() {
        let analytic = variables[index].grad ?? Tensor.zeros(input.shape)
        #expect(analytic.shape == input.shape, sourceLocation: sourceLocation)
        for element in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[index].withUnsafeMutableBufferPointer { $0[element] += epsilon }
            minus[index].withUnsafeMutableBufferPointer { $0[element] -= epsilon }
            let numeric = Float((try loss(plus) - loss(minus)) / Double(2 * epsilon))
            let a = analytic.scalars[element]
            let ok = abs(a - numeric) <= atol + rtol * max(abs(a), abs(numeric))
            #expect(ok, "input \(index) element \(element): analytic \(a), numeric \(numeric)",
                    sourceLocation: sourceLocation)
            if !ok { return }
        }
    }
}

/// A seeded random tensor in [-1, 1).
func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, generator: &generator)
}

/// Element-wise closeness: |a − b| ≤ atol + rtol · |b|.
func expectClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float = 1e-6, rtol: Float = 1e-5, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.shape == expected.shape, "\(what) shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    for (i, (a, e)) in zip(actual.scalars, expected.scalars).enumerated()
    where !(abs(a - e) <= atol + rtol * abs(e)) {
        Issue.record("\(what) element \(i): got \(a), expected \(e)", sourceLocation: sourceLocation)
        return
    }
}

/// Finite-difference check of a module's parameter gradients: the output of `run` is reduced
/// through fixed random weights, and each parameter element (up to `maxElements` per
/// parameter, spread evenly) is perturbed in place.
func checkParameterGradients(
    _ module: any Module, epsilon: Float = 1e-2, atol: Float = 1e-3, rtol: Float = 5e-3, maxElements: Int = 40,
    sourceLocation: SourceLocation = #_sourceLocation, _ run: () throws -> Variable
) throws {
    let parameters = module.namedParameters
    #expect(!parameters.isEmpty, "no parameters to check", sourceLocation: sourceLocation)
    for p in parameters { p.variable.zeroGradient() }
    let output = try run()
    var generator = SeededGenerator(seed: 7)
    let weights = Tensor.randomUniform(output.shape, low: -1, high: 1, generator: &generator)
    try (try output * Variable(weights)).sum().backward()
    func loss() throws -> Double {
        try withoutGradients {
            zip(try run().value.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }
    for (name, variable) in parameters {
        let analytic = variable.grad ?? Tensor.zeros(variable.shape)
        let stride = max(1, variable.value.count / maxElements)
        for element in Swift.stride(from: 0, to: variable.value.count, by: stride) {
            let original = variable.value.scalars[element]
            variable.value.withUnsafeMutableBufferPointer { $0[element] = original + epsilon }
            let plus = try loss()
            variable.value.withUnsafeMutableBufferPointer { $0[element] = original - epsilon }
            let minus = try loss()
            variable.value.withUnsafeMutableBufferPointer { $0[element] = original }
            let numeric = Float((plus - minus) / Double(2 * epsilon))
            let a = analytic.scalars[element]
            let ok = abs(a - numeric) <= atol + rtol * max(abs(a), abs(numeric))
            #expect(ok, "\(name) element \(element): analytic \(a), numeric \(numeric)", sourceLocation: sourceLocation)
            if !ok { return }
        }
    }
}
