extension Variable {
    /// Sum of all elements, as a one-element tensor of shape [].
    public func sum() -> Variable {
        let shape = self.shape
        return Variable.record(Tensor(scalar: value.sum()), inputs: [self]) { g in
            [Tensor(shape: shape, repeating: g.scalar)]
        }
    }

    /// Mean of all elements, as a one-element tensor of shape [].
    public func mean() -> Variable {
        let shape = self.shape, n = Float(value.count)
        return Variable.record(Tensor(scalar: value.mean()), inputs: [self]) { g in
            [Tensor(shape: shape, repeating: g.scalar / n)]
        }
    }

    public func sum(axis: Int, keepingAxis: Bool = false) throws -> Variable {
        let axis = try value.normalizedAxis(axis, operation: "sum")
        let shape = self.shape
        var keptShape = shape
        keptShape[axis] = 1
        return Variable.record(try value.sum(axis: axis, keepingAxis: keepingAxis), inputs: [self]) { g in
            [try Tensor.zeros(shape) + (try g.reshaped(keptShape))]
        }
    }

    public func mean(axis: Int, keepingAxis: Bool = false) throws -> Variable {
        let axis = try value.normalizedAxis(axis, operation: "mean")
        return try sum(axis: axis, keepingAxis: keepingAxis) * (1 / Float(shape[axis]))
    }

    public func reshaped(_ newShape: [Int]) throws -> Variable {
        let shape = self.shape
        return Variable.record(try value.reshaped(newShape), inputs: [self]) { g in [try g.reshaped(shape)] }
    }

    /// Joins variables along `axis`.
    public static func concatenate(_ variables: [Variable], axis: Int = 0) throws -> Variable {
        let value = try Tensor.concatenate(variables.map(\.value), axis: axis)
        let resolved = try value.normalizedAxis(axis, operation: "concatenate")
        let sizes = variables.map { $0.shape[resolved] }
        return record(value, inputs: variables) { g in try g.split(sizes: sizes, axis: resolved) }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(sizes: [Int], axis: Int = 0) throws -> [Variable] {
        let resolved = try value.normalizedAxis(axis, operation: "split")
        let pieces = try value.split(sizes: sizes, axis: resolved)
        var start = 0
        return pieces.map { piece in
            let range = start..<(start + piece.shape[resolved])
            start = range.upperBound
            let shape = self.shape
            return Variable.record(piece, inputs: [self]) { g in
                // Place g into zeros at `range` along the axis.
                let before = range.lowerBound, after = shape[resolved] - range.upperBound
                var parts: [Tensor] = []
                var padShape = shape
                if before > 0 { padShape[resolved] = before; parts.append(.zeros(padShape)) }
                parts.append(g)
                if after > 0 { padShape[resolved] = after; parts.append(.zeros(padShape)) }
                return [try Tensor.concatenate(parts, axis: resolved)]
            }
        }
    }

    /// Rows of a 2-D table picked by `indices` (an embedding lookup): the result has shape
    /// `indexShape + [width]`. Indices must be whole numbers in 0..<rows.
    public func gather(rows indices: Tensor) throws -> Variable {
        guard rank == 2 else {
            throw RecurrentError.shapeMismatch(operation: "gather", expected: "a 2-D table", got: shape)
        }
        let rows = shape[0], width = shape[1]
        let positions = try indices.scalars.enumerated().map { offset, x -> Int in
            guard x == x.rounded(), x >= 0, Int(x) < rows else {
                throw RecurrentError.invalidArgument(
                    "gather: index \(x) at position \(offset) is not a row of a table with \(rows) rows")
            }
            return Int(x)
        }
        var result = Tensor.zeros(indices.shape + [width])
        value.withUnsafeBufferPointer { table in
            result.withUnsafeMutableBufferPointer { out in
                for (i, row) in positions.enumerated() {
                    for j in 0..<width { out[i * width + j] = table[row * width + j] }
                }
            }
        }
        return Variable.record(result, inputs: [self]) { g in
            var gradient = Tensor.zeros([rows, width])
            g.withUnsafeBufferPointer { src in
                gradient.withUnsafeMutableBufferPointer { dst in
                    for (i, row) in positions.enumerated() {
                        for j in 0..<width { dst[row * width + j] += src[i * width + j] }
                    }
                }
            }
            return [gradient]
        }
    }

    /// Inverted dropout: zeroes each element with probability `rate` and scales the rest by
    /// 1/(1−rate), so inference needs no rescaling. The identity when `rate` is 0.
    public func dropout(rate: Float, generator: inout SeededGenerator) throws -> Variable {
        guard rate >= 0, rate < 1 else {
            throw RecurrentError.invalidArgument("dropout: rate must be in [0, 1), got \(rate)")
        }
        if rate == 0 { return self }
        let mask = Tensor.dropoutMask(shape, rate: rate, generator: &generator)
        return Variable.record(try value * mask, inputs: [self]) { g in [try g * mask] }
    }
}

extension Variable {
    /// Exchanges the first two axes (batch-first ⇄ time-major).
    public func swappingFirstTwoAxes() throws -> Variable {
        Variable.record(try value.swappingFirstTwoAxes(), inputs: [self]) { g in [try g.swappingFirstTwoAxes()] }
    }

    /// The first axis in reverse order.
    public func reversedFirstAxis() -> Variable {
        Variable.record(value.reversedFirstAxis(), inputs: [self]) { g in [g.reversedFirstAxis()] }
    }
}

extension Variable {
    /// The sub-tensor at `index` of the first axis, without that axis.
    public func selecting(_ index: Int) throws -> Variable {
        let shape = self.shape
        let value = try self.value.selecting(index)
        return Variable.record(value, inputs: [self]) { g in
            var full = Tensor.zeros(shape)
            let inner = g.count
            g.withUnsafeBufferPointer { src in
                full.withUnsafeMutableBufferPointer { dst in
                    guard inner > 0 else { return }
                    (dst.baseAddress! + index * inner).update(from: src.baseAddress!, count: inner)
                }
            }
            return [full]
        }
    }
}
