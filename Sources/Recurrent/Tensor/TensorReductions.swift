extension Tensor {
    /// Sum of all elements (accumulated in Double).
    public func sum() -> Float {
        withUnsafeBufferPointer { buffer in Float(buffer.reduce(0.0) { $0 + Double($1) }) }
    }

    /// Mean of all elements.
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }

    /// Sum over `axis`, removing it unless `keepingAxis`.
    public func sum(axis: Int, keepingAxis: Bool = false) throws -> Tensor {
        let axis = try normalizedAxis(axis, operation: "sum")
        let outer = shape[..<axis].reduce(1, *)
        let extent = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        if keepingAxis { newShape[axis] = 1 } else { newShape.remove(at: axis) }
        var result = Tensor.zeros(newShape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for e in 0..<extent {
                        let base = (o * extent + e) * inner
                        for i in 0..<inner { dst[o * inner + i] += src[base + i] }
                    }
                }
            }
        }
        return result
    }

    /// Mean over `axis`, removing it unless `keepingAxis`.
    public func mean(axis: Int, keepingAxis: Bool = false) throws -> Tensor {
        let axis = try normalizedAxis(axis, operation: "mean")
        return try sum(axis: axis, keepingAxis: keepingAxis) / Float(shape[axis])
    }

    /// Maximum over `axis`, removing it unless `keepingAxis`.
    public func max(axis: Int, keepingAxis: Bool = false) throws -> Tensor {
        let (values, _) = try maxAndIndex(axis: axis, keepingAxis: keepingAxis)
        return values
    }

    /// Index of the maximum over `axis` (the first one on ties), as Float values, axis removed.
    public func argmax(axis: Int = -1) throws -> Tensor {
        try maxAndIndex(axis: axis, keepingAxis: false).1
    }

    func maxAndIndex(axis: Int, keepingAxis: Bool) throws -> (Tensor, Tensor) {
        let axis = try normalizedAxis(axis, operation: "max")
        guard shape[axis] > 0 else {
            throw RecurrentError.shapeMismatch(operation: "max/argmax", expected: "a non-empty axis \(axis)", got: shape)
        }
        let outer = shape[..<axis].reduce(1, *)
        let extent = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        if keepingAxis { newShape[axis] = 1 } else { newShape.remove(at: axis) }
        var values = Tensor.zeros(newShape)
        var indices = Tensor.zeros(newShape)
        withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { v in
                indices.withUnsafeMutableBufferPointer { ix in
                    for o in 0..<outer {
                        for i in 0..<inner {
                            var best = src[o * extent * inner + i], bestIndex = 0
                            for e in 1..<Swift.max(extent, 1) {
                                let x = src[(o * extent + e) * inner + i]
                                if x > best || (x.isNaN && !best.isNaN) { best = x; bestIndex = e }
                            }
                            v[o * inner + i] = best
                            ix[o * inner + i] = Float(bestIndex)
                        }
                    }
                }
            }
        }
        return (values, indices)
    }
}
