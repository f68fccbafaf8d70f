import CRecurrentKernels

/// Single-precision matrix products on row-major operands.
public enum GEMM {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major; op(A) is m×k, op(B) is k×n.
    /// With `transposeA`, A is stored k×m; with `transposeB`, B is stored n×k.
    /// When beta is 0, C is not read (NaN in C does not leak into the result).
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) throws {
        guard m > 0, n > 0, k > 0 else {
            throw RecurrentError.invalidArgument("sgemm: dimensions must be positive, got m=\(m) n=\(n) k=\(k)")
        }
        // Naive placeholder; replaced by the packed, blocked driver.
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let av = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += av * bv
                }
                c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}
