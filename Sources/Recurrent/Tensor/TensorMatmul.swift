extension Tensor {
    /// Matrix product. `self` is [..., M, K] (leading axes are flattened into rows) or, with
    /// `transposeSelf`, a 2-D [K, M]; `other` is 2-D [K, N], or [N, K] with `transposeOther`.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Tensor {
        guard rank >= 2, other.rank == 2, !(transposeSelf && rank != 2) else {
            throw RecurrentError.shapeMismatch(
                operation: "matmul with \(Shape.describe(other.shape))",
                expected: transposeSelf ? "rank 2 on both sides" : "rank ≥ 2 times rank 2", got: shape)
        }
        let k = transposeSelf ? shape[0] : shape[rank - 1]
        let m = transposeSelf ? shape[1] : count / Swift.max(k, 1)
        let otherK = transposeOther ? other.shape[1] : other.shape[0]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        guard k == otherK else {
            throw RecurrentError.shapeMismatch(
                operation: "matmul of \(Shape.describe(shape)) by \(Shape.describe(other.shape))",
                expected: "inner extents to agree", got: [k, otherK])
        }
        var outShape = transposeSelf ? [m] : Array(shape.dropLast())
        outShape.append(n)
        var result = Tensor.zeros(outShape)
        guard m > 0, n > 0, k > 0 else { return result }
        try withUnsafeBufferPointer { a in
            try other.withUnsafeBufferPointer { b in
                try result.withUnsafeMutableBufferPointer { c in
                    try GEMM.sgemm(
                        transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                        a: a.baseAddress!, lda: transposeSelf ? m : k,
                        b: b.baseAddress!, ldb: transposeOther ? k : n,
                        c: c.baseAddress!, ldc: n)
                }
            }
        }
        return result
    }
}
