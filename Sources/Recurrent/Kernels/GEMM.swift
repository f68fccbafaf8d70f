import CRecurrentKernels

/// Single-precision matrix products on row-major operands.
///
/// The driver follows the BLIS scheme: op(B) is cut into kc × nc blocks and op(A) into mc × kc
/// blocks, each packed into the micro-kernel's panel layout (see `rk_gemm.h`), and a C
/// macro-kernel runs the register-tiled micro-kernel (AVX-512 12×32, AVX2 6×16, NEON 8×12,
/// portable 4×8) over the panels. m == 1 and n == 1 take a matrix-vector path without packing.
/// Large products split their columns (or rows) across `gemmMaxThreads` threads.
public enum GEMM {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major; op(A) is m×k, op(B) is k×n.
    /// With `transposeA`, A is stored k×m; with `transposeB`, B is stored n×k.
    /// When beta is 0, C is not read (NaN in C does not leak into the result); when alpha is 0,
    /// A and B are not read. Throws `RecurrentError.invalidArgument` for non-positive m, n, k or
    /// a leading dimension smaller than its row's width.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) throws {
        try checkDimensions("sgemm", m: m, n: n, k: k)
        try checkLeading("sgemm", "lda", lda, transposeA ? m : k, transposeA ? "m" : "k")
        try checkLeading("sgemm", "ldb", ldb, transposeB ? k : n, transposeB ? "k" : "n")
        try checkLeading("sgemm", "ldc", ldc, n, "n")
        if alpha == 0 {
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        let isa = rk_active_isa()  // read once: a concurrent setKernelISA cannot split this call
        if m == 1 {
            // One row of C: x = op(A) row 0, C = x · op(B).
            withContiguous(a, count: k, stride: transposeA ? lda : 1) { x in
                if transposeB {
                    rk_sgemv_t(isa, n, k, alpha, b, ldb, x, beta, c)
                } else {
                    rk_sgemv_n(isa, k, n, alpha, x, b, ldb, beta, c)
                }
            }
            return
        }
        if n == 1 {
            // One column of C: y = op(A) · x, x = op(B) column 0.
            withContiguous(b, count: k, stride: transposeB ? 1 : ldb) { x in
                withColumn(c, count: m, stride: ldc, load: beta != 0) { y in
                    if transposeA {
                        rk_sgemv_n(isa, k, m, alpha, x, a, lda, beta, y)
                    } else {
                        rk_sgemv_t(isa, m, k, alpha, a, lda, x, beta, y)
                    }
                }
            }
            return
        }
        let blocking = GEMMBlocking(isa)
        let threads = gemmMaxThreads
        let parts = GEMMBlocking.partition(m: m, n: n, k: k, mr: blocking.mr, nr: blocking.nr, threads: threads)
        let job = PlainProduct(
            blocking: blocking, transposeA: transposeA, transposeB: transposeB, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        GEMMThreads.shared.run(chunks: parts.count, threads: threads) { i in
            job.run(rows: parts[i].rows, columns: parts[i].columns)
        }
    }

    // MARK: Argument checks

    static func checkDimensions(_ op: String, m: Int, n: Int, k: Int) throws {
        guard m > 0, n > 0, k > 0 else {
            throw RecurrentError.invalidArgument(
                "\(op): dimensions must be positive, got m=\(m) n=\(n) k=\(k)")
        }
    }

    static func checkLeading(_ op: String, _ name: String, _ value: Int, _ minimum: Int, _ what: String) throws {
        guard value >= minimum else {
            throw RecurrentError.invalidArgument(
                "\(op): \(name) must be at least \(what) = \(minimum), got \(value)")
        }
    }

    // MARK: Helpers

    /// C = beta · C without reading C when beta is 0.
    static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }

    /// Calls `body` with `count` elements of `base` (spaced `stride` apart) made contiguous.
    static func withContiguous<R>(
        _ base: UnsafePointer<Float>, count: Int, stride: Int, _ body: (UnsafePointer<Float>) -> R
    ) -> R {
        if stride == 1 { return body(base) }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buffer in
            let tmp = buffer.baseAddress!
            for i in 0..<count { tmp[i] = base[i * stride] }
            return body(tmp)
        }
    }

    /// Calls `body` with a contiguous view of a strided column of C and writes it back.
    /// When `load` is false the column is not read (beta == 0).
    static func withColumn(
        _ base: UnsafeMutablePointer<Float>, count: Int, stride: Int, load: Bool,
        _ body: (UnsafeMutablePointer<Float>) -> Void
    ) {
        if stride == 1 { return body(base) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { buffer in
            let tmp = buffer.baseAddress!
            if load {
                for i in 0..<count { tmp[i] = base[i * stride] }
            }
            body(tmp)
            for i in 0..<count { base[i * stride] = tmp[i] }
        }
    }
}

/// One plain (B not pre-packed) product, run over a sub-rectangle of C by each thread.
/// Holds raw pointers only; the caller keeps the operands alive for the call.
struct PlainProduct: @unchecked Sendable {
    let blocking: GEMMBlocking
    let transposeA: Bool, transposeB: Bool
    let k: Int
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let beta: Float
    let c: UnsafeMutablePointer<Float>, ldc: Int

    /// C[rows, columns] over all of k. `columns.lowerBound` is a multiple of nr or 0.
    func run(rows: Range<Int>, columns: Range<Int>) {
        let bl = blocking
        let kc = GEMMBlocking.balanced(k, maximum: bl.kc, multiple: 1)
        let nc = min(bl.nc, GEMMBlocking.roundUp(columns.count, bl.nr))
        let mc = min(bl.mc, GEMMBlocking.roundUp(rows.count, bl.mr))
        let aFloats = GEMMBlocking.roundUp(mc * kc, 16)
        GEMMScratch.shared.withBuffer(count: aFloats + kc * nc) { scratch in
            let aBuf = scratch, bBuf = scratch + aFloats
            var jc = columns.lowerBound
            while jc < columns.upperBound {
                let ncb = min(nc, columns.upperBound - jc)
                var pc = 0
                while pc < k {
                    let kcb = min(kc, k - pc)
                    GEMMPacking.packB(
                        isa: bl.isa, transposed: transposeB, b, ldb: ldb, rows: pc, kc: kcb, columns: jc, nc: ncb,
                        nr: bl.nr, into: bBuf)
                    var ic = rows.lowerBound
                    while ic < rows.upperBound {
                        let mcb = min(mc, rows.upperBound - ic)
                        GEMMPacking.packA(
                            isa: bl.isa, transposed: transposeA, a, lda: lda, rows: ic, mc: mcb, columns: pc, kc: kcb,
                            mr: bl.mr, into: aBuf)
                        rk_sgemm_packed(
                            bl.isa, mcb, ncb, kcb, alpha, aBuf, bBuf, kcb * bl.nr, pc == 0 ? beta : 1,
                            c + ic * ldc + jc, ldc)
                        ic += mcb
                    }
                    pc += kcb
                }
                jc += ncb
            }
        }
    }
}

/// Cache-blocking parameters for one ISA, and how a product is split across threads.
struct GEMMBlocking: Sendable {
    let isa: rk_isa
    /// Register tile (from the C kernel).
    let mr: Int, nr: Int
    /// Depth of a packed block (B micro-panel kc × nr streams through L1/L2).
    let kc: Int
    /// Rows of a packed A block (mc × kc stays in L2).
    let mc: Int
    /// Columns of a packed B block (kc × nc stays in L2/L3).
    let nc: Int

    /// Products with at least this many multiply-adds (m·n·k) are split across threads
    /// (measured on the 2-core Zen 4 VM with spinning helpers; see `GEMMThreads`).
    static let parallelThreshold = 1 << 19

    init(_ isa: rk_isa) {
        self.isa = isa
        mr = Int(rk_gemm_mr(isa))
        nr = Int(rk_gemm_nr(isa))
        switch isa {
        case RK_ISA_AVX512:
            kc = 512; mc = 96; nc = 1024
        case RK_ISA_AVX2:
            kc = 256; mc = 72; nc = 1024
        case RK_ISA_NEON:
            kc = 256; mc = 64; nc = 1020
        default:
            kc = 256; mc = 64; nc = 512
        }
    }

    static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }

    /// The block size that splits `total` into the fewest blocks of at most `maximum`, as evenly
    /// as possible (rounded up to `multiple`), so no block is a sliver.
    static func balanced(_ total: Int, maximum: Int, multiple: Int) -> Int {
        let blocks = (total + maximum - 1) / maximum
        return min(maximum, roundUp((total + blocks - 1) / blocks, multiple))
    }

    /// Splits C into pieces for `threads` threads (two per thread, so a thread that starts late
    /// is covered by the others): by columns (in whole nr panels) when C has at least as many
    /// column panels as row panels, else by rows (in whole mr panels). Small products are one piece.
    static func partition(m: Int, n: Int, k: Int, mr: Int, nr: Int, threads: Int)
        -> [(rows: Range<Int>, columns: Range<Int>)]
    {
        let whole = [(rows: 0..<m, columns: 0..<n)]
        guard threads > 1, m * n * k >= parallelThreshold else { return whole }
        let colPanels = (n + nr - 1) / nr, rowPanels = (m + mr - 1) / mr
        let byColumns = colPanels >= rowPanels
        let panels = byColumns ? colPanels : rowPanels
        // Deep products (k ≫ m, n: weight gradients summed over every step) pack a whole
        // operand per piece, so they get one piece per thread rather than two.
        let perThread = k >= 4 * max(m, n) ? 1 : 2
        let parts = min(perThread * threads, panels)
        guard parts > 1 else { return whole }
        let width = byColumns ? nr : mr, extent = byColumns ? n : m
        var result: [(rows: Range<Int>, columns: Range<Int>)] = []
        for t in 0..<parts {
            let lo = min(extent, panels * t / parts * width)
            let hi = min(extent, panels * (t + 1) / parts * width)
            if lo < hi {
                result.append(byColumns ? (rows: 0..<m, columns: lo..<hi) : (rows: lo..<hi, columns: 0..<n))
            }
        }
        return result
    }
}

/// Packing of op(A) and op(B) blocks into the micro-kernel's panel layout (see `rk_gemm.h`);
/// the copying is done in C (`rk_pack_a`, `rk_pack_b`), vectorised for AVX-512.
enum GEMMPacking {
    /// Packs op(A)[rows ..< rows+mc, columns ..< columns+kc] into panels of mr rows
    /// (the last panel holds the remaining rows, packed tight).
    @inline(__always)
    static func packA(
        isa: rk_isa, transposed: Bool, _ a: UnsafePointer<Float>, lda: Int, rows i0: Int, mc: Int, columns p0: Int,
        kc: Int, mr: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let origin = transposed ? a + p0 * lda + i0 : a + i0 * lda + p0
        rk_pack_a(isa, transposed ? 1 : 0, origin, lda, mc, kc, mr, dst)
    }

    /// Packs op(B)[rows ..< rows+kc, columns ..< columns+nc] into panels of nr columns, each
    /// kc × nr, `kc * nr` floats apart; columns past nc are zero.
    @inline(__always)
    static func packB(
        isa: rk_isa, transposed: Bool, _ b: UnsafePointer<Float>, ldb: Int, rows p0: Int, kc: Int, columns j0: Int,
        nc: Int, nr: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let origin = transposed ? b + j0 * ldb + p0 : b + p0 * ldb + j0
        rk_pack_b(isa, transposed ? 1 : 0, origin, ldb, kc, nc, nr, dst)
    }
}
