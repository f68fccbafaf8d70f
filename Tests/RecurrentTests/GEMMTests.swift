import Foundation
import Synchronization
import Testing
@testable import Recurrent

/// SGEMM against a naive double-accumulating reference, on every kernel ISA this CPU supports.
/// Serialized because the tests force the process-wide kernel ISA and thread count in turn
/// (other suites running meanwhile only see a different, equally correct ISA).
/// Tolerance: |got - ref| <= 1e-5 · sqrt(k) · (|alpha| Σ|a||b| + |beta c|) + 1e-30 per element.
@Suite(.serialized) struct GEMMTests {
    // MARK: Helpers


    func forEachISA(_ body: (KernelISA) throws -> Void) throws { try ForcedISA.forEach(body) }

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in g.nextUnitFloat() * 2 - 1 }
    }

    /// One product's operands, stored with the given leading dimensions; gaps hold NaN so
    /// that reading outside the logical matrices shows up.
    struct Problem {
        let transA: Bool, transB: Bool
        let m: Int, n: Int, k: Int
        let lda: Int, ldb: Int, ldc: Int
        let alpha: Float, beta: Float
        var a: [Float], b: [Float], c: [Float]

        init(
            m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, pad: Int = 0,
            alpha: Float = 1, beta: Float = 0, nanC: Bool = false, seed: UInt64 = 1
        ) {
            self.m = m; self.n = n; self.k = k
            self.transA = transA; self.transB = transB
            self.alpha = alpha; self.beta = beta
            let (aRows, aCols) = transA ? (k, m) : (m, k)
            let (bRows, bCols) = transB ? (n, k) : (k, n)
            lda = aCols + pad; ldb = bCols + pad; ldc = n + pad
            a = Self.filled(rows: aRows, cols: aCols, ld: lda, seed: seed)
            b = Self.filled(rows: bRows, cols: bCols, ld: ldb, seed: seed &+ 1)
            c = nanC ? [Float](repeating: .nan, count: m * ldc)
                : Self.filled(rows: m, cols: n, ld: ldc, seed: seed &+ 2)
        }

        static func filled(rows: Int, cols: Int, ld: Int, seed: UInt64) -> [Float] {
            let values = GEMMTests.random(rows * cols, seed: seed)
            var result = [Float](repeating: .nan, count: rows * ld)
            for i in 0..<rows { for j in 0..<cols { result[i * ld + j] = values[i * cols + j] } }
            return result
        }

        /// Reference result and error scale per element of C (m × n, dense).
        func reference() -> (value: [Double], scale: [Double]) {
            var value = [Double](repeating: 0, count: m * n), scale = value
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    for i in 0..<m {
                        for j in 0..<n {
                            var s = 0.0, t = 0.0
                            for p in 0..<k {
                                let av = Double(transA ? a[p * lda + i] : a[i * lda + p])
                                let bv = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                                s += av * bv
                                t += abs(av * bv)
                            }
                            let old = beta == 0 ? 0 : Double(c[i * ldc + j])
                            value[i * n + j] = Double(alpha) * s + Double(beta) * old
                            scale[i * n + j] = abs(Double(alpha)) * t + abs(Double(beta) * old)
                        }
                    }
                }
            }
            return (value, scale)
        }

        /// Plain sgemm into a copy of C.
        func run() throws -> [Float] {
            var out = c
            try a.withUnsafeBufferPointer { a in
                try b.withUnsafeBufferPointer { b in
                    try out.withUnsafeMutableBufferPointer { c in
                        try GEMM.sgemm(
                            transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha,
                            a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta,
                            c: c.baseAddress!, ldc: ldc)
                    }
                }
            }
            return out
        }

        /// sgemm with B packed first into a copy of C.
        func runPacked() throws -> [Float] {
            var out = c
            let packed = try b.withUnsafeBufferPointer {
                try PackedMatrix($0.baseAddress!, k: k, n: n, ldb: ldb, transposed: transB)
            }
            try a.withUnsafeBufferPointer { a in
                try out.withUnsafeMutableBufferPointer { c in
                    try GEMM.sgemm(
                        m: m, a: a.baseAddress!, lda: lda, transposeA: transA, packedB: packed, alpha: alpha,
                        beta: beta, c: c.baseAddress!, ldc: ldc)
                }
            }
            return out
        }

        /// Worst error relative to the tolerance (<= 1 passes); also checks the gaps of C.
        func check(_ out: [Float], against ref: (value: [Double], scale: [Double])) -> Double {
            var worst = 0.0
            let tol = 1e-5 * Double(k).squareRoot()
            for i in 0..<m {
                for j in 0..<n {
                    let got = Double(out[i * ldc + j])
                    let bound = tol * ref.scale[i * n + j] + 1e-30
                    let err = got.isFinite ? abs(got - ref.value[i * n + j]) / bound : .infinity
                    worst = max(worst, err)
                }
                for j in n..<ldc where !(out[i * ldc + j].isNaN && c[i * ldc + j].isNaN)
                    && out[i * ldc + j] != c[i * ldc + j]
                {
                    worst = .infinity  // wrote outside the logical C
                }
            }
            return worst
        }

        var label: String {
            "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) ld+pad alpha=\(alpha) beta=\(beta) isa=\(kernelInfo.isa)"
        }
    }

    /// Checks plain and packed products of `problem` on every supported ISA.
    func verify(_ problem: Problem, packed: Bool = true) throws {
        let ref = problem.reference()
        try forEachISA { _ in
            let plain = problem.check(try problem.run(), against: ref)
            #expect(plain <= 1, "sgemm \(problem.label): error \(plain) × tolerance")
            if packed {
                let viaPacked = problem.check(try problem.runPacked(), against: ref)
                #expect(viaPacked <= 1, "packed sgemm \(problem.label): error \(viaPacked) × tolerance")
            }
        }
    }

    // MARK: Correctness

    @Test func oddShapesAllTransposes() throws {
        let shapes = [
            (1, 1, 1), (7, 13, 29), (2, 3, 5), (13, 31, 17), (12, 32, 64), (25, 65, 33), (37, 41, 43),
            (5, 97, 3), (3, 2, 1),
        ]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    try verify(Problem(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(m * n * k)))
                }
            }
        }
    }

    @Test func matrixVectorPaths() throws {
        // m == 1 (batch-1 streaming), n == 1, both; long vectors to cover the SIMD tails.
        for (m, n, k) in [(1, 100, 37), (1, 300, 129), (1, 17, 300), (50, 1, 30), (257, 1, 70), (1, 1, 50)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    try verify(Problem(m: m, n: n, k: k, transA: transA, transB: transB, pad: 3, alpha: 0.75, beta: -0.5))
                }
            }
        }
    }

    @Test func alphaBetaAndNaNInC() throws {
        for (alpha, beta) in [(Float(1), Float(1)), (-0.5, 1.5), (2, 0), (1, -1)] {
            for transA in [false, true] {
                try verify(Problem(m: 19, n: 45, k: 23, transA: transA, transB: !transA, alpha: alpha, beta: beta))
            }
        }
        // beta == 0 must not read C: NaN garbage in C never leaks (blocked, m == 1, n == 1 paths).
        for (m, n, k) in [(19, 45, 23), (1, 45, 23), (19, 1, 23), (14, 40, 600)] {
            for transB in [false, true] {
                try verify(Problem(m: m, n: n, k: k, transB: transB, pad: 2, alpha: 1.25, beta: 0, nanC: true))
            }
        }
    }

    @Test func alphaZeroScalesCOnly() throws {
        var a = [Float](repeating: .nan, count: 6), b = a
        var c: [Float] = [1, 2, 3, 4]
        try GEMM.sgemm(m: 2, n: 2, k: 3, alpha: 0, a: &a, lda: 3, b: &b, ldb: 2, beta: 2, c: &c, ldc: 2)
        #expect(c == [2, 4, 6, 8])
        c = [.nan, .nan, .nan, .nan]
        try GEMM.sgemm(m: 2, n: 2, k: 3, alpha: 0, a: &a, lda: 3, b: &b, ldb: 2, beta: 0, c: &c, ldc: 2)
        #expect(c == [0, 0, 0, 0])
    }

    @Test func leadingDimensionsLargerThanWidth() throws {
        for transA in [false, true] {
            for transB in [false, true] {
                try verify(Problem(m: 29, n: 35, k: 31, transA: transA, transB: transB, pad: 5, alpha: 1, beta: 0.5))
            }
        }
    }

    @Test func largeProductWithThreads() throws {
        // Several mc and kc blocks (k = 513 > kc), edge tiles in both directions, two threads.
        let saved = gemmMaxThreads
        defer { gemmMaxThreads = saved }
        gemmMaxThreads = 2
        try verify(Problem(m: 300, n: 257, k: 513, transA: true, transB: false, alpha: 1, beta: 0.5), packed: true)
        // Several nc blocks (n > nc) split by columns.
        try verify(Problem(m: 9, n: 1100, k: 20, transA: false, transB: true, pad: 1, beta: 1))
    }

    @Test func threadCountDoesNotChangeResults() throws {
        let saved = gemmMaxThreads
        defer { gemmMaxThreads = saved }
        for (m, n, k) in [(64, 1000, 40), (700, 40, 60)] {  // split by columns, by rows
            let p = Problem(m: m, n: n, k: k, beta: 0.5)
            try forEachISA { _ in
                gemmMaxThreads = 1
                let one = try p.run(), onePacked = try p.runPacked()
                gemmMaxThreads = 2
                #expect(try p.run() == one)
                #expect(try p.runPacked() == onePacked)
            }
        }
    }

    final class Counts: @unchecked Sendable {  // guarded by `lock`
        private let lock = NSLock()
        private var storage: [Int]
        init(_ n: Int) { storage = [Int](repeating: 0, count: n) }
        func bump(_ i: Int) { lock.lock(); storage[i] += 1; lock.unlock() }
        var values: [Int] { lock.lock(); defer { lock.unlock() }; return storage }
    }

    @Test func helperThreadsRunEveryPieceOnce() {
        // Back-to-back jobs (helpers spinning) and jobs after a pause (helpers parked).
        let pool = GEMMThreads.shared
        for round in 0..<300 {
            let chunks = 1 + round % 37
            let counts = Counts(chunks)
            pool.run(chunks: chunks, threads: 2) { i in counts.bump(i) }
            #expect(counts.values == [Int](repeating: 1, count: chunks), "round \(round)")
            if round % 50 == 49 { Thread.sleep(forTimeInterval: 0.002) }
        }
    }

    @Test func steppedLoopsRunEveryPieceOnceAfterTheWholePreviousStep() {
        // Pieces that sometimes stall (so the other thread takes them over), loops started
        // back to back and after a pause, and several loops at once (one gets the helpers).
        let steps = 40, parts = 2
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 3) { caller in
            for round in 0..<20 {
                let counts = Counts(steps * parts)
                GEMMThreads.shared.runSteps(steps: steps, parts: parts, threads: 2) { s, p in
                    let values = counts.values
                    if s > 0 && (0..<parts).contains(where: { values[(s - 1) * parts + $0] != 1 }) {
                        failures.add(1, ordering: .relaxed)
                    }
                    if (s + round + caller) % 13 == 0 && p == 1 { Thread.sleep(forTimeInterval: 0.0005) }
                    counts.bump(s * parts + p)
                }
                if counts.values != [Int](repeating: 1, count: steps * parts) { failures.add(1, ordering: .relaxed) }
                if round % 7 == 6 { Thread.sleep(forTimeInterval: 0.002) }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test func concurrentCallersGetCorrectResults() throws {
        // Products large enough to be split, started from several threads at once: one caller
        // gets the helpers, the others run alone; all must equal the single-threaded result.
        let saved = gemmMaxThreads
        defer { gemmMaxThreads = saved }
        let p = Problem(m: 40, n: 256, k: 64, transB: true, beta: 0.5)
        gemmMaxThreads = 1
        let expected = try p.run(), expectedPacked = try p.runPacked()
        gemmMaxThreads = 2
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            for _ in 0..<3 {
                let ok = i % 2 == 0 ? (try? p.run()) == expected : (try? p.runPacked()) == expectedPacked
                if !ok { mismatches.add(1, ordering: .relaxed) }
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }

    @Test func packedMatrixRecurrentShapes() throws {
        // h [B, H] · W_hhᵀ with W_hh stored [G·H, H]: transposed, n = G·H, k = H.
        for (batch, hidden, gates) in [(1, 24, 4), (3, 33, 3), (32, 64, 4), (1, 600, 1)] {
            try verify(Problem(m: batch, n: gates * hidden, k: hidden, transB: true, beta: 1, seed: UInt64(hidden)))
        }
    }

    @Test func packedVectorProducts() throws {
        // The batch-1 step: one row times packed B straight from its panels (the row is not
        // packed), over several k blocks and a partial last panel; NaN in C with beta 0.
        for (n, k) in [(1, 1), (33, 5), (512, 128), (70, 700), (40, 1500)] {
            for transB in [false, true] {
                for beta: Float in [0, 0.5] {
                    let p = Problem(m: 1, n: n, k: k, transB: transB, beta: beta, nanC: beta == 0, seed: UInt64(n * k))
                    let ref = p.reference()
                    try forEachISA { _ in
                        let packed = try p.b.withUnsafeBufferPointer {
                            try PackedMatrix($0.baseAddress!, k: k, n: n, ldb: p.ldb, transposed: transB)
                        }
                        var out = p.c
                        p.a.withUnsafeBufferPointer { a in
                            out.withUnsafeMutableBufferPointer { c in
                                packed.multiply(vector: a.baseAddress!, beta: beta, into: c.baseAddress!)
                            }
                        }
                        #expect(p.check(out, against: ref) <= 1, "packed vector product \(p.label)")
                    }
                }
            }
        }
    }

    @Test func packedMatrixFromTensorAndRepack() throws {
        let k = 5, n = 7, m = 3
        let w = try Tensor(shape: [n, k], scalars: Self.random(n * k, seed: 9))  // stored [n, k]
        let h = try Tensor(shape: [m, k], scalars: Self.random(m * k, seed: 10))
        let packed = try PackedMatrix(w, transposed: true)
        #expect(packed.k == k && packed.n == n && packed.transposed)
        func product(_ packed: PackedMatrix) throws -> [Float] {
            var out = [Float](repeating: 0, count: m * n)
            try h.withUnsafeBufferPointer { h in
                try GEMM.sgemm(m: m, a: h.baseAddress!, lda: k, packedB: packed, c: &out, ldc: n)
            }
            return out
        }
        func plain(_ w: Tensor) throws -> [Float] {
            var out = [Float](repeating: 0, count: m * n)
            try h.withUnsafeBufferPointer { h in
                try w.withUnsafeBufferPointer { w in
                    try GEMM.sgemm(
                        transposeB: true, m: m, n: n, k: k, a: h.baseAddress!, lda: k, b: w.baseAddress!, ldb: k,
                        c: &out, ldc: n)
                }
            }
            return out
        }
        try forEachISA { _ in
            let p = try PackedMatrix(w, transposed: true)
            #expect(try product(p) == plain(w))  // same kernel, same summation order
            let w2 = try Tensor(shape: [n, k], scalars: Self.random(n * k, seed: 11))
            try p.repack(w2)
            #expect(try product(p) == plain(w2))
        }
        // A packed matrix keeps working after the ISA changes (it keeps its own layout).
        let before = try product(packed)
        try forEachISA { _ in
            #expect(packed.isa == kernelInfo.bestISA)
            let now = try product(packed)
            #expect(now == before)
        }
    }

    // MARK: Errors and configuration

    @Test func invalidArgumentsThrow() throws {
        var a = [Float](repeating: 1, count: 64), b = a, c = a
        func gemm(m: Int = 2, n: Int = 2, k: Int = 2, lda: Int = 2, ldb: Int = 2, ldc: Int = 2,
                  tA: Bool = false, tB: Bool = false) throws {
            try GEMM.sgemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: &a, lda: lda, b: &b, ldb: ldb,
                           c: &c, ldc: ldc)
        }
        try gemm()
        #expect(throws: RecurrentError.self) { try gemm(k: 0) }
        #expect(throws: RecurrentError.self) { try gemm(m: -1) }
        #expect(throws: RecurrentError.self) { try gemm(n: -3) }
        #expect(throws: RecurrentError.self) { try gemm(k: 3, lda: 2) }  // lda < k
        #expect(throws: RecurrentError.self) { try gemm(m: 3, lda: 2, tA: true) }  // lda < m
        #expect(throws: RecurrentError.self) { try gemm(n: 3, ldb: 2, ldc: 3) }  // ldb < n
        #expect(throws: RecurrentError.self) { try gemm(k: 3, lda: 3, ldb: 2, tB: true) }  // ldb < k
        #expect(throws: RecurrentError.self) { try gemm(n: 3, ldb: 3, ldc: 2) }  // ldc < n
        do {
            try gemm(k: 0)
        } catch let error as RecurrentError {
            #expect(error.description.contains("k=0"))
        }

        #expect(throws: RecurrentError.self) { try PackedMatrix(&b, k: 0, n: 2, ldb: 2) }
        #expect(throws: RecurrentError.self) { try PackedMatrix(&b, k: 2, n: -1, ldb: 2) }
        #expect(throws: RecurrentError.self) { try PackedMatrix(&b, k: 2, n: 3, ldb: 2) }
        #expect(throws: RecurrentError.self) { try PackedMatrix(Tensor([1, 2, 3])) }
        let packed = try PackedMatrix(&b, k: 4, n: 3, ldb: 3)
        #expect(throws: RecurrentError.self) {
            try GEMM.sgemm(m: 2, a: &a, lda: 3, packedB: packed, c: &c, ldc: 3)  // lda < k
        }
        #expect(throws: RecurrentError.self) {
            try GEMM.sgemm(m: 0, a: &a, lda: 4, packedB: packed, c: &c, ldc: 3)
        }
        #expect(throws: RecurrentError.self) {
            try GEMM.sgemm(m: 2, a: &a, lda: 4, packedB: packed, c: &c, ldc: 2)  // ldc < n
        }
        #expect(throws: RecurrentError.self) { try packed.repack(Tensor.zeros([3, 4])) }
    }

    @Test func kernelSelection() throws {
        let info = kernelInfo
        #expect(info.supportedISAs.contains(.portable))
        #expect(info.supportedISAs.contains(info.bestISA))
        #expect(isKernelISASupported(info.bestISA))
        #expect(info.gemmThreads >= 1)
        #expect(info.description.contains(info.isa.rawValue))
        defer { try? setKernelISA(info.bestISA) }
        try forEachISA { isa in
            #expect(kernelInfo.isa == isa)
            #expect(kernelInfo.gemmTileRows >= 1 && kernelInfo.gemmTileColumns >= 4)
        }
        for isa in KernelISA.allCases where !isKernelISASupported(isa) {
            #expect(throws: RecurrentError.self) { try setKernelISA(isa) }
        }
        let saved = gemmMaxThreads
        gemmMaxThreads = 0
        #expect(gemmMaxThreads == 1)
        gemmMaxThreads = saved
        #expect(kernelInfo.gemmThreads == saved)
    }
}
