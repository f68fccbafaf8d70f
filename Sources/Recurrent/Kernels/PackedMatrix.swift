import CRecurrentKernels

/// A matrix packed once into the SGEMM micro-kernel's panel layout, to be the right operand B of
/// many products: a recurrent layer packs W_hhᵀ once per forward pass and multiplies it by
/// h_{t-1} at every time step, which skips re-packing B (the dominant cost at small batch).
///
/// The layout is that of the kernel ISA active when the matrix was packed; products with it
/// always use that ISA's kernel (so a later `setKernelISA` takes effect at the next packing).
public final class PackedMatrix: @unchecked Sendable {  // immutable except through `repack`
    /// Rows of op(B) (the shared dimension of the product).
    public let k: Int
    /// Columns of op(B) (the columns of the product).
    public let n: Int
    /// Whether the source is stored n×k (op(B) = Bᵀ), e.g. a weight W_hh stored [G·H, H].
    public let transposed: Bool
    /// The kernel ISA this matrix is laid out for.
    public var isa: KernelISA { KernelISA(cISA) }

    let cISA: rk_isa
    let nr: Int
    /// Depth of every k block but possibly the last.
    let kc: Int
    /// Column panels (n rounded up to nr, over nr).
    let panels: Int
    let base: UnsafeMutablePointer<Float>

    /// Packs op(B) (k×n) from `b`: stored k×n with row stride `ldb`, or when `transposed`,
    /// stored n×k with row stride `ldb`.
    public convenience init(_ b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int, transposed: Bool = false) throws {
        guard k > 0, n > 0 else {
            throw RecurrentError.invalidArgument("PackedMatrix: dimensions must be positive, got k=\(k) n=\(n)")
        }
        try GEMM.checkLeading("PackedMatrix", "ldb", ldb, transposed ? k : n, transposed ? "k" : "n")
        self.init(k: k, n: n, transposed: transposed)
        pack(b, ldb: ldb)
    }

    /// Packs a 2-D tensor: shape [k, n], or [n, k] when `transposed`.
    public convenience init(_ matrix: Tensor, transposed: Bool = false) throws {
        guard matrix.rank == 2 else {
            throw RecurrentError.shapeMismatch(
                operation: "PackedMatrix", expected: transposed ? "[n, k]" : "[k, n]", got: matrix.shape)
        }
        let rows = matrix.shape[0], cols = matrix.shape[1]
        guard rows > 0, cols > 0 else {
            throw RecurrentError.invalidArgument("PackedMatrix: empty matrix of shape \(Shape.describe(matrix.shape))")
        }
        self.init(k: transposed ? cols : rows, n: transposed ? rows : cols, transposed: transposed)
        matrix.withUnsafeBufferPointer { pack($0.baseAddress!, ldb: cols) }
    }

    /// Allocates the layout for the active ISA; the caller packs.
    private init(k: Int, n: Int, transposed: Bool) {
        self.k = k
        self.n = n
        self.transposed = transposed
        cISA = rk_active_isa()
        let blocking = GEMMBlocking(cISA)
        nr = blocking.nr
        kc = GEMMBlocking.balanced(k, maximum: blocking.kc, multiple: 1)
        panels = (n + nr - 1) / nr
        base = GEMMScratch.allocate(k * panels * nr)
    }

    /// Packs new values of the same shape and orientation into this matrix's storage (after an
    /// optimizer step), without allocating. Must not run while a product reads this matrix.
    public func repack(_ b: UnsafePointer<Float>, ldb: Int) throws {
        try GEMM.checkLeading("PackedMatrix.repack", "ldb", ldb, transposed ? k : n, transposed ? "k" : "n")
        pack(b, ldb: ldb)
    }

    /// Packs a tensor of the shape this matrix was created from.
    public func repack(_ matrix: Tensor) throws {
        let expected = transposed ? [n, k] : [k, n]
        guard matrix.shape == expected else {
            throw RecurrentError.shapeMismatch(
                operation: "PackedMatrix.repack", expected: Shape.describe(expected), got: matrix.shape)
        }
        try matrix.withUnsafeBufferPointer { try repack($0.baseAddress!, ldb: expected[1]) }
    }

    deinit {
        GEMMScratch.free(base)
    }

    /// Bytes of packed storage.
    var byteCount: Int { k * panels * nr * MemoryLayout<Float>.stride }

    /// k block starting at row `p0`: (depth, pointer to its first panel).
    @inline(__always)
    func block(at p0: Int) -> (depth: Int, pointer: UnsafeMutablePointer<Float>) {
        (min(kc, k - p0), base + p0 * panels * nr)
    }

    private func pack(_ b: UnsafePointer<Float>, ldb: Int) {
        var p0 = 0
        while p0 < k {
            let (depth, dst) = block(at: p0)
            GEMMPacking.packB(
                isa: cISA, transposed: transposed, b, ldb: ldb, rows: p0, kc: depth, columns: 0, nc: n, nr: nr, into: dst)
            p0 += depth
        }
    }
}

extension GEMM {
    /// C = alpha · op(A) · B + beta · C with B pre-packed; op(A) is m×k (stored k×m when
    /// `transposeA`), B is `packedB` (k×n), C is m×n with row stride `ldc`.
    /// When beta is 0, C is not read; when alpha is 0, A and B are not read.
    public static func sgemm(
        m: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        packedB: PackedMatrix, alpha: Float = 1, beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) throws {
        let k = packedB.k, n = packedB.n
        try checkDimensions("sgemm(packedB:)", m: m, n: n, k: k)
        try checkLeading("sgemm(packedB:)", "lda", lda, transposeA ? m : k, transposeA ? "m" : "k")
        try checkLeading("sgemm(packedB:)", "ldc", ldc, n, "n")
        if alpha == 0 {
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        let blocking = GEMMBlocking(packedB.cISA)
        let threads = gemmMaxThreads
        let parts = GEMMBlocking.partition(m: m, n: n, k: k, mr: blocking.mr, nr: blocking.nr, threads: threads)
        let job = PrepackedProduct(
            blocking: blocking, transposeA: transposeA, alpha: alpha, a: a, lda: lda, packed: packedB,
            beta: beta, c: c, ldc: ldc)
        GEMMThreads.shared.run(chunks: parts.count, threads: threads) { i in
            job.run(rows: parts[i].rows, columns: parts[i].columns)
        }
    }
}

/// One product with a pre-packed B, run over a sub-rectangle of C by each thread.
struct PrepackedProduct: @unchecked Sendable {
    let blocking: GEMMBlocking
    let transposeA: Bool
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let packed: PackedMatrix
    let beta: Float
    let c: UnsafeMutablePointer<Float>, ldc: Int

    /// C[rows, columns]; `columns.lowerBound` is a multiple of nr.
    func run(rows: Range<Int>, columns: Range<Int>) {
        let bl = blocking, nr = packed.nr, k = packed.k
        let mc = min(bl.mc, GEMMBlocking.roundUp(rows.count, bl.mr))
        let panel0 = columns.lowerBound / nr
        GEMMScratch.shared.withBuffer(count: mc * packed.kc) { aBuf in
            var ic = rows.lowerBound
            while ic < rows.upperBound {
                let mcb = min(mc, rows.upperBound - ic)
                var pc = 0
                while pc < k {
                    let (kcb, block) = packed.block(at: pc)
                    GEMMPacking.packA(
                        isa: bl.isa, transposed: transposeA, a, lda: lda, rows: ic, mc: mcb, columns: pc, kc: kcb, mr: bl.mr,
                        into: aBuf)
                    rk_sgemm_packed(
                        bl.isa, mcb, columns.count, kcb, alpha, aBuf, block + panel0 * kcb * nr, kcb * nr,
                        pc == 0 ? beta : 1, c + ic * ldc + columns.lowerBound, ldc)
                    pc += kcb
                }
                ic += mcb
            }
        }
    }
}

extension PackedMatrix {
    /// Floats of A-packing scratch that `multiply(m:…)` needs for `m` rows.
    func scratchCount(m: Int) -> Int {
        GEMMBlocking.roundUp(stepRows(m) * kc, 16)
    }

    /// Rows of A packed at once by `multiply(m:…)`: all of a recurrent step's batch up to 240
    /// rows (≤ 480 KB of A at kc = 512, within L2), so each k block of B streams through once
    /// per step instead of once per 96 rows.
    func stepRows(_ m: Int) -> Int {
        let mr = GEMMBlocking(cISA).mr
        return GEMMBlocking.roundUp(m <= 240 ? m : 96, mr)
    }

    /// C = A·B + beta·C on the calling thread only, packing A into `scratch` (at least
    /// `scratchCount(m:)` floats): for the pieces of a recurrent step that already run on their
    /// own thread (`GEMMThreads.runSteps`). A is m×k with row stride `lda`.
    func multiply(
        m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        guard m > 0 else { return }
        if m == 1 {
            multiply(vector: a, beta: beta, into: c)
            return
        }
        let bl = GEMMBlocking(cISA)
        let mc = stepRows(m)
        var ic = 0
        while ic < m {
            let mcb = min(mc, m - ic)
            var pc = 0
            while pc < k {
                let (kcb, block) = self.block(at: pc)
                GEMMPacking.packA(
                    isa: bl.isa, transposed: false, a, lda: lda, rows: ic, mc: mcb, columns: pc, kc: kcb, mr: bl.mr, into: scratch)
                rk_sgemm_packed(bl.isa, mcb, n, kcb, 1, scratch, block, kcb * nr, pc == 0 ? beta : 1, c + ic * ldc, ldc)
                pc += kcb
            }
            ic += mcb
        }
    }

    /// y = x·B + beta·y for one row x (k floats) into y (n floats), straight from the packed
    /// panels without packing x: the batch-1 step of a recurrent layer.
    public func multiply(vector x: UnsafePointer<Float>, beta: Float = 0, into y: UnsafeMutablePointer<Float>) {
        rk_sgemv_packed(cISA, k, n, kc, nr, x, base, 1, beta, y)
    }
}
