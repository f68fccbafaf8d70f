extension Tensor {
    /// The same elements under a new shape; one extent may be -1 and is inferred.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let inferred = newShape.filter { $0 == -1 }.count
        guard inferred <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw RecurrentError.invalidArgument("reshape: invalid target shape \(Shape.describe(newShape))")
        }
        var resolved = newShape
        if inferred == 1 {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw RecurrentError.shapeMismatch(
                    operation: "reshape to \(Shape.describe(newShape))",
                    expected: "a multiple of \(known) elements", got: shape)
            }
            resolved[newShape.firstIndex(of: -1)!] = count / known
        }
        guard Shape.count(resolved) == count else {
            throw RecurrentError.shapeMismatch(
                operation: "reshape to \(Shape.describe(newShape))",
                expected: "\(Shape.count(resolved)) elements", got: shape)
        }
        return Tensor(storage: storage, shape: resolved)
    }

    /// Swaps the last two axes (a matrix transpose for each leading index).
    public func transposedLastTwo() throws -> Tensor {
        guard rank >= 2 else {
            throw RecurrentError.shapeMismatch(operation: "transpose", expected: "rank ≥ 2", got: shape)
        }
        let rows = shape[rank - 2], cols = shape[rank - 1]
        let batches = count / Swift.max(rows * cols, 1)
        var newShape = shape
        newShape.swapAt(rank - 2, rank - 1)
        var result = Tensor.zeros(newShape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for batch in 0..<batches {
                    let offset = batch * rows * cols
                    for r in 0..<rows {
                        for c in 0..<cols {
                            dst[offset + c * rows + r] = src[offset + r * cols + c]
                        }
                    }
                }
            }
        }
        return result
    }

    /// Elements `range` along `axis`, keeping the axis.
    public func sliced(_ range: Range<Int>, axis: Int = 0) throws -> Tensor {
        let axis = try normalizedAxis(axis, operation: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw RecurrentError.invalidArgument(
                "slice: range \(range) is outside axis \(axis) of shape \(Shape.describe(shape))")
        }
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        newShape[axis] = range.count
        if axis == 0 || outer == 1 {
            // Contiguous block: copy once.
            var result = Tensor.zeros(newShape)
            let start = range.lowerBound * inner
            withUnsafeBufferPointer { src in
                result.withUnsafeMutableBufferPointer { dst in
                    guard dst.count > 0 else { return }
                    dst.baseAddress!.update(from: src.baseAddress! + start, count: dst.count)
                }
            }
            return result
        }
        var result = Tensor.zeros(newShape)
        let block = range.count * inner
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                guard block > 0 else { return }
                for o in 0..<outer {
                    (dst.baseAddress! + o * block).update(
                        from: src.baseAddress! + (o * shape[axis] + range.lowerBound) * inner, count: block)
                }
            }
        }
        return result
    }

    /// The sub-tensor at `index` along `axis`, without that axis (`t.selecting(2)` is `t[2]` in NumPy).
    public func selecting(_ index: Int, axis: Int = 0) throws -> Tensor {
        let axis = try normalizedAxis(axis, operation: "select")
        guard index >= 0, index < shape[axis] else {
            throw RecurrentError.invalidArgument(
                "select: index \(index) is outside axis \(axis) of shape \(Shape.describe(shape))")
        }
        var newShape = shape
        newShape.remove(at: axis)
        return try sliced(index..<(index + 1), axis: axis).reshaped(newShape)
    }

    /// The rows (entries of the first axis) at `indices`, in that order: a batch of examples.
    public func rows(at indices: [Int]) throws -> Tensor {
        guard rank >= 1 else {
            throw RecurrentError.shapeMismatch(operation: "rows(at:)", expected: "rank ≥ 1", got: shape)
        }
        if let bad = indices.first(where: { !(0..<shape[0]).contains($0) }) {
            throw RecurrentError.invalidArgument("rows(at:): index \(bad) is outside 0..<\(shape[0])")
        }
        let width = shape[0] == 0 ? 0 : count / shape[0]
        var result = Tensor.zeros([indices.count] + shape.dropFirst())
        withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for (i, row) in indices.enumerated() {
                    for j in 0..<width { target[i * width + j] = source[row * width + j] }
                }
            }
        }
        return result
    }

    /// Joins tensors along `axis`; all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else {
            throw RecurrentError.invalidArgument("concatenate: no tensors given")
        }
        let axis = try first.normalizedAxis(axis, operation: "concatenate")
        for t in tensors where t.rank != first.rank
            || zip(t.shape, first.shape).enumerated().contains(where: { $0.offset != axis && $0.element.0 != $0.element.1 }) {
            var expected = first.shape.map(String.init)
            expected[axis] = "*"
            throw RecurrentError.shapeMismatch(
                operation: "concatenate along axis \(axis)", expected: "[" + expected.joined(separator: ", ") + "]",
                got: t.shape)
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        var newShape = first.shape
        newShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        var result = Tensor.zeros(newShape)
        let rowLength = newShape[axis] * inner
        result.withUnsafeMutableBufferPointer { dst in
            var column = 0
            for t in tensors {
                let block = t.shape[axis] * inner
                t.withUnsafeBufferPointer { src in
                    guard block > 0 else { return }
                    for o in 0..<outer {
                        (dst.baseAddress! + o * rowLength + column).update(
                            from: src.baseAddress! + o * block, count: block)
                    }
                }
                column += block
            }
        }
        return result
    }

    /// Splits along `axis` into pieces of the given sizes (the inverse of `concatenate`).
    public func split(sizes: [Int], axis: Int = 0) throws -> [Tensor] {
        let axis = try normalizedAxis(axis, operation: "split")
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[axis] else {
            throw RecurrentError.invalidArgument(
                "split: sizes \(sizes) do not add up to \(shape[axis]), axis \(axis) of shape \(Shape.describe(shape))")
        }
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try sliced(start..<(start + size), axis: axis)
        }
    }

    /// `axis` with negative values counted from the end, checked against the rank.
    func normalizedAxis(_ axis: Int, operation: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < rank else {
            throw RecurrentError.invalidArgument(
                "\(operation): axis \(axis) is out of range for shape \(Shape.describe(shape))")
        }
        return resolved
    }
}

extension Tensor {
    /// Exchanges the first two axes: [A, B, …] → [B, A, …] (batch-first ⇄ time-major).
    public func swappingFirstTwoAxes() throws -> Tensor {
        guard rank >= 2 else {
            throw RecurrentError.shapeMismatch(operation: "swap axes 0 and 1", expected: "rank ≥ 2", got: shape)
        }
        let a = shape[0], b = shape[1], inner = count / Swift.max(a * b, 1)
        var newShape = shape
        newShape.swapAt(0, 1)
        var result = Tensor.zeros(newShape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                guard inner > 0 else { return }
                for i in 0..<a {
                    for j in 0..<b {
                        (dst.baseAddress! + (j * a + i) * inner).update(
                            from: src.baseAddress! + (i * b + j) * inner, count: inner)
                    }
                }
            }
        }
        return result
    }

    /// The first axis in reverse order (time reversal of a time-major sequence).
    public func reversedFirstAxis() -> Tensor {
        guard rank >= 1, shape[0] > 1 else { return self }
        let n = shape[0], inner = count / n
        var result = Tensor.zeros(shape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    (dst.baseAddress! + (n - 1 - i) * inner).update(from: src.baseAddress! + i * inner, count: inner)
                }
            }
        }
        return result
    }
}
