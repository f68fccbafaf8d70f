extension Variable {
    /// Each row over the last axis shifted to mean 0 and scaled to variance 1:
    /// (x − mean) / √(variance + ε), the variance over the row's n values divided by n.
    public func normalizedOverLastAxis(epsilon: Float) throws -> Variable {
        guard let width = shape.last, width > 0 else {
            throw RecurrentError.shapeMismatch(operation: "layer normalization", expected: "[..., features]", got: shape)
        }
        let rows = value.count / width
        var y = Tensor.zeros(shape)
        var inverse = [Float](repeating: 0, count: rows)
        value.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                for r in 0..<rows {
                    let row = x[(r * width)..<((r + 1) * width)]
                    let mean = row.reduce(0, +) / Float(width)
                    let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(width)
                    let inv = 1 / (variance + epsilon).squareRoot()
                    inverse[r] = inv
                    for i in 0..<width { y[r * width + i] = (x[r * width + i] - mean) * inv }
                }
            }
        }
        return Variable.record(y, inputs: [self]) { g in
            // dx = inv · (g − mean(g) − y · mean(g ⊙ y)), per row.
            var dx = Tensor.zeros(g.shape)
            g.withUnsafeBufferPointer { g in
                y.withUnsafeBufferPointer { y in
                    dx.withUnsafeMutableBufferPointer { dx in
                        for r in 0..<rows {
                            var meanG: Float = 0, meanGY: Float = 0
                            for i in (r * width)..<((r + 1) * width) {
                                meanG += g[i]
                                meanGY += g[i] * y[i]
                            }
                            meanG /= Float(width)
                            meanGY /= Float(width)
                            for i in (r * width)..<((r + 1) * width) { dx[i] = inverse[r] * (g[i] - meanG - y[i] * meanGY) }
                        }
                    }
                }
            }
            return [dx]
        }
    }
}
