/// The maximum over the time axis of [B, T, F] (`keras.layers.GlobalMaxPooling1D`). With a
/// mask, padded steps are left out, as `GlobalAveragePooling1D` leaves them out; an example with
/// no real step gives zeros. Keras 3.15 differs here: its GlobalMaxPooling1D does not support
/// masking (it warns, and padded steps take part in the maximum).
public final class GlobalMaxPooling1D: MaskAware {
    public init() {}
    public var namedParameters: [(name: String, variable: Variable)] { [] }
    public func callAsFunction(_ input: Variable) throws -> Variable { try input.maxOverTime(mask: nil) }
    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try input.maxOverTime(mask: mask), nil)
    }
}

/// The mean over the time axis of [B, T, F] (`keras.layers.GlobalAveragePooling1D`). With a
/// mask, the mean of the real steps only, as in Keras.
public final class GlobalAveragePooling1D: MaskAware {
    public init() {}
    public var namedParameters: [(name: String, variable: Variable)] { [] }
    public func callAsFunction(_ input: Variable) throws -> Variable { try input.meanOverTime(mask: nil) }
    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try input.meanOverTime(mask: mask), nil)
    }
}

extension Variable {
    /// [B, T, F] → [B, F]: the largest value of each feature over the steps the [B, T] 0/1 mask
    /// keeps (all steps without a mask). The gradient goes to the first step holding the maximum.
    public func maxOverTime(mask: Tensor?) throws -> Variable {
        let (B, T, F) = try poolingShape(mask, operation: "GlobalMaxPooling1D")
        let keep = mask?.scalars
        var result = Tensor.zeros([B, F])
        var winner = [Int](repeating: -1, count: B * F)
        value.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { out in
                for b in 0..<B {
                    for t in 0..<T where keep == nil || keep![b * T + t] != 0 {
                        let row = (b * T + t) * F
                        for f in 0..<F where winner[b * F + f] < 0 || x[row + f] > out[b * F + f] {
                            out[b * F + f] = x[row + f]
                            winner[b * F + f] = t
                        }
                    }
                }
            }
        }
        return Variable.record(result, inputs: [self]) { g in
            var gradient = Tensor.zeros([B, T, F])
            g.withUnsafeBufferPointer { g in
                gradient.withUnsafeMutableBufferPointer { dx in
                    for b in 0..<B {
                        for f in 0..<F where winner[b * F + f] >= 0 {
                            dx[(b * T + winner[b * F + f]) * F + f] = g[b * F + f]
                        }
                    }
                }
            }
            return [gradient]
        }
    }

    /// [B, T, F] → [B, F]: the mean over the steps the [B, T] 0/1 mask keeps.
    public func meanOverTime(mask: Tensor?) throws -> Variable {
        let (B, T, F) = try poolingShape(mask, operation: "GlobalAveragePooling1D")
        let keep = mask?.scalars ?? [Float](repeating: 1, count: B * T)
        let counts = (0..<B).map { b in Swift.max((0..<T).reduce(0) { $0 + (keep[b * T + $1] != 0 ? 1 : 0) }, 1) }
        var result = Tensor.zeros([B, F])
        value.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { out in
                for b in 0..<B {
                    for t in 0..<T where keep[b * T + t] != 0 {
                        for f in 0..<F { out[b * F + f] += x[(b * T + t) * F + f] }
                    }
                    for f in 0..<F { out[b * F + f] /= Float(counts[b]) }
                }
            }
        }
        return Variable.record(result, inputs: [self]) { g in
            var gradient = Tensor.zeros([B, T, F])
            g.withUnsafeBufferPointer { g in
                gradient.withUnsafeMutableBufferPointer { dx in
                    for b in 0..<B {
                        for t in 0..<T where keep[b * T + t] != 0 {
                            for f in 0..<F { dx[(b * T + t) * F + f] = g[b * F + f] / Float(counts[b]) }
                        }
                    }
                }
            }
            return [gradient]
        }
    }

    private func poolingShape(_ mask: Tensor?, operation: String) throws -> (Int, Int, Int) {
        guard rank == 3 else {
            throw RecurrentError.shapeMismatch(operation: "\(operation) input", expected: "[batch, steps, features]", got: shape)
        }
        if let mask, mask.shape != [shape[0], shape[1]] {
            throw RecurrentError.shapeMismatch(
                operation: "\(operation) mask", expected: "[\(shape[0]), \(shape[1])]", got: mask.shape)
        }
        return (shape[0], shape[1], shape[2])
    }
}
