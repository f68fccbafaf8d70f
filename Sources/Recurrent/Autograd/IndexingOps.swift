// The PyTorch face's tensor vocabulary on `Variable`, each differentiable: indexing and
// slicing (`x[.all, -1, .all]`), `permute`, `squeeze` / `unsqueeze`, `stack` / `cat`,
// `view` / `reshape`, reductions over a dimension with `keepdim`, `max` with its indices,
// `argmax`, `item`, `detach`. Thin names over the library's ops where one exists.

extension Variable {
    /// The elements an index expression selects (`x[.all, -1, .all]` is PyTorch's
    /// `x[:, -1, :]`); the gradient flows back into the selected positions.
    public subscript(_ indices: any TensorIndexExpression...) -> Variable {
        get throws {
            let box = try IndexBox(indices, shape: shape)
            let boxShape = box.boxShape
            return Variable.record(try value.extracting(box), inputs: [self]) { g in
                [try g.reshaped(boxShape).placed(in: box)]
            }
        }
    }

    /// The axes reordered: axis k of the result is axis `dims[k]` (PyTorch's `permute`).
    public func permute(_ dims: Int...) throws -> Variable {
        let result = try value.permuted(dims)
        let resolved = try dims.map { try value.normalizedAxis($0, operation: "permute") }
        var inverse = [Int](repeating: 0, count: resolved.count)
        for (k, axis) in resolved.enumerated() { inverse[axis] = k }
        return Variable.record(result, inputs: [self]) { g in [try g.permuted(inverse)] }
    }

    /// The same elements in a new shape (one dimension may be −1): PyTorch's `view`.
    public func view(_ shape: Int...) throws -> Variable { try reshaped(shape) }

    /// PyTorch's `reshape` (here the same as `view`: tensors are always contiguous).
    public func reshape(_ shape: Int...) throws -> Variable { try reshaped(shape) }

    /// Without the size-1 axis `dim` (unchanged if that axis is not 1, as in PyTorch), or
    /// without every size-1 axis when `dim` is nil.
    public func squeeze(_ dim: Int? = nil) throws -> Variable {
        guard let dim else { return try reshaped(shape.filter { $0 != 1 }) }
        let axis = try value.normalizedAxis(dim, operation: "squeeze")
        guard shape[axis] == 1 else { return self }
        var newShape = shape
        newShape.remove(at: axis)
        return try reshaped(newShape)
    }

    /// With a new size-1 axis at `dim` (−1 appends it), as PyTorch's `unsqueeze`.
    public func unsqueeze(_ dim: Int) throws -> Variable {
        let position = dim < 0 ? dim + rank + 1 : dim
        guard position >= 0, position <= rank else {
            throw RecurrentError.invalidArgument(
                "unsqueeze: dimension \(dim) is out of range for shape \(Shape.describe(shape))")
        }
        var newShape = shape
        newShape.insert(1, at: position)
        return try reshaped(newShape)
    }

    /// Joins variables along an existing dimension (PyTorch's `torch.cat`).
    public static func cat(_ variables: [Variable], dim: Int = 0) throws -> Variable {
        try concatenate(variables, axis: dim)
    }

    /// Stacks variables of one shape along a new dimension (PyTorch's `torch.stack`).
    public static func stack(_ variables: [Variable], dim: Int = 0) throws -> Variable {
        guard let first = variables.first else {
            throw RecurrentError.invalidArgument("stack: expected at least one tensor, got none")
        }
        for v in variables where v.shape != first.shape {
            throw RecurrentError.shapeMismatch(operation: "stack", expected: Shape.describe(first.shape), got: v.shape)
        }
        return try concatenate(try variables.map { try $0.unsqueeze(dim) }, axis: dim)
    }

    /// Σ over `dim` (PyTorch's `sum(dim, keepdim)`).
    public func sum(dim: Int, keepdim: Bool = false) throws -> Variable { try sum(axis: dim, keepingAxis: keepdim) }

    /// Mean over `dim` (PyTorch's `mean(dim, keepdim)`).
    public func mean(dim: Int, keepdim: Bool = false) throws -> Variable { try mean(axis: dim, keepingAxis: keepdim) }

    /// The maximum over `dim` and where it is (the first on ties), as PyTorch's
    /// `max(dim, keepdim)`; the gradient flows to that position.
    public func max(dim: Int, keepdim: Bool = false) throws -> (values: Variable, indices: Tensor) {
        let axis = try value.normalizedAxis(dim, operation: "max")
        let (values, indices) = try value.maxAndIndex(axis: axis, keepingAxis: keepdim)
        let shape = self.shape
        let outer = shape[..<axis].reduce(1, *), extent = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        let result = Variable.record(values, inputs: [self]) { g in
            var d = Tensor.zeros(shape)
            d.withUnsafeMutableBufferPointer { dp in
                g.withUnsafeBufferPointer { gp in
                    indices.withUnsafeBufferPointer { ip in
                        for o in 0..<outer {
                            for i in 0..<inner {
                                let k = o * inner + i
                                dp[(o * extent + Int(ip[k])) * inner + i] += gp[k]
                            }
                        }
                    }
                }
            }
            return [d]
        }
        return (result, indices)
    }

    /// Where the maximum over `dim` is (the first on ties), as Float values (PyTorch's
    /// `argmax(dim, keepdim)`).
    public func argmax(dim: Int, keepdim: Bool = false) throws -> Tensor {
        let axis = try value.normalizedAxis(dim, operation: "argmax")
        return try value.maxAndIndex(axis: axis, keepingAxis: keepdim).1
    }

    /// The value of a one-element variable (PyTorch's `item()`).
    public func item() throws -> Float {
        guard value.count == 1 else {
            throw RecurrentError.invalidArgument(
                "item: only a one-element tensor has an item, this one has shape \(Shape.describe(shape))")
        }
        return value.scalars[0]
    }

    /// The same value cut from the graph: no gradient flows back through it (PyTorch's `detach`).
    public func detach() -> Variable { Variable(value) }
}
