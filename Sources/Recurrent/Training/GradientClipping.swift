/// Rescales all gradients together so their global L2 norm is at most `maximumNorm`
/// (PyTorch's `clip_grad_norm_`, with its 1e-6 guard). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Variable], maximumNorm: Float) throws -> Float {
    guard maximumNorm > 0 else {
        throw RecurrentError.invalidArgument("clipGradientNorm: maximum norm must be positive, got \(maximumNorm)")
    }
    let norm = gradientNorm(parameters)
    let coefficient = maximumNorm / (norm + 1e-6)
    if coefficient < 1 {
        for parameter in parameters where parameter.grad != nil {
            parameter.grad = parameter.grad! * coefficient
        }
    }
    return norm
}

/// The global L2 norm of the parameters' gradients (those without one count as zero),
/// accumulated in Double.
public func gradientNorm(_ parameters: [Variable]) -> Float {
    let squares = parameters.compactMap(\.grad).reduce(0.0) { total, g in
        g.withUnsafeBufferPointer { $0.reduce(total) { $0 + Double($1) * Double($1) } }
    }
    return Float(squares.squareRoot())
}

/// Clamps every gradient element to [−maximum, maximum] (PyTorch's `clip_grad_value_`).
public func clipGradientValues(_ parameters: [Variable], maximum: Float) {
    let limit = abs(maximum)
    for parameter in parameters where parameter.grad != nil {
        parameter.grad = parameter.grad!.map { min(max($0, -limit), limit) }
    }
}
