import Foundation

extension Variable {
    public func tanh() -> Variable {
        let y = value.tanh()
        return Variable.record(y, inputs: [self]) { g in
            [Tensor.zipMap(g, y) { g, y in g * (1 - y * y) }]
        }
    }

    public func sigmoid() -> Variable {
        let y = value.sigmoid()
        return Variable.record(y, inputs: [self]) { g in
            [Tensor.zipMap(g, y) { g, y in g * y * (1 - y) }]
        }
    }

    public func relu() -> Variable {
        let x = value
        return Variable.record(value.relu(), inputs: [self]) { g in
            [Tensor.zipMap(g, x) { g, x in x > 0 ? g : 0 }]
        }
    }

    public func exp() -> Variable {
        let y = value.exp()
        return Variable.record(y, inputs: [self]) { g in [Tensor.zipMap(g, y, *)] }
    }

    public func log() -> Variable {
        let x = value
        return Variable.record(value.log(), inputs: [self]) { g in [Tensor.zipMap(g, x, /)] }
    }

    /// Softmax over the last axis.
    public func softmax() throws -> Variable {
        let y = try value.softmax()
        return Variable.record(y, inputs: [self]) { g in
            // dx = y ⊙ (g − Σ g⊙y) per row.
            let dot = try (try g * y).sum(axis: -1, keepingAxis: true)
            return [try y * (try g - dot)]
        }
    }

    /// Log-softmax over the last axis (numerically stable).
    public func logSoftmax() throws -> Variable {
        let y = try value.logSoftmax()
        return Variable.record(y, inputs: [self]) { g in
            // dx = g − softmax · Σ g per row.
            let total = try g.sum(axis: -1, keepingAxis: true)
            return [try g - (try y.exp() * total)]
        }
    }
}

extension Tensor {
    /// Applies `op` to corresponding elements of two tensors of the same shape.
    static func zipMap(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
        precondition(a.shape == b.shape, "zipMap of \(a.shape) and \(b.shape)")
        var result = Tensor.zeros(a.shape)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                result.withUnsafeMutableBufferPointer { out in
                    for i in out.indices { out[i] = op(pa[i], pb[i]) }
                }
            }
        }
        return result
    }

    /// Softmax over the last axis.
    public func softmax() throws -> Tensor {
        try logSoftmax().exp()
    }

    /// Log-softmax over the last axis: x − max − log Σ exp(x − max).
    public func logSoftmax() throws -> Tensor {
        guard rank >= 1, let width = shape.last, width > 0 else {
            throw RecurrentError.shapeMismatch(operation: "softmax", expected: "a non-empty last axis", got: shape)
        }
        var result = Tensor.zeros(shape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for row in 0..<(count / width) {
                    let base = row * width
                    var m = -Float.infinity
                    for j in 0..<width { m = Swift.max(m, src[base + j]) }
                    if !m.isFinite { m = 0 }
                    var total: Double = 0
                    for j in 0..<width { total += Foundation.exp(Double(src[base + j] - m)) }
                    let logTotal = Float(Foundation.log(total))
                    for j in 0..<width { dst[base + j] = src[base + j] - m - logTotal }
                }
            }
        }
        return result
    }
}
