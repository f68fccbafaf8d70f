import Foundation
import Recurrent

/// `recurrent-bench gemm`: GFLOP/s of the SGEMM engine on the shapes that matter for RNNs.
enum GEMMBench {
    struct Options {
        var quick = false
        var scanThreads = false
    }

    static func run(_ arguments: [String]) throws {
        var options = Options()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--quick":
                options.quick = true
            case "--scan-threads":
                options.scanThreads = true
            default:
                throw RecurrentError.invalidArgument("gemm: unknown option \(argument)")
            }
        }
        let maxThreads = gemmMaxThreads
        print("recurrent-bench gemm — \(kernelInfo)")
        print("  CPU cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        print(pad("problem", 40) + pad("threads", 9, left: true) + pad("best GFLOP/s", 15, left: true)
              + pad("median GFLOP/s", 17, left: true) + pad("median time", 14, left: true))
        let threadCounts = maxThreads >= 2 ? [1, 2] : [1]
        defer { gemmMaxThreads = maxThreads }

        if options.scanThreads {
            try scanThreads(threadCounts: threadCounts, quick: options.quick)
            return
        }
        let cases: [Case] = [
            Case(name: "1024×1024×1024 sgemm", m: 1024, n: 1024, k: 1024, packed: false),
            Case(name: "M=32 K=256 N=1024 packed B", m: 32, n: 1024, k: 256, packed: true),
            Case(name: "M=32 K=256 N=1024 plain (packs B)", m: 32, n: 1024, k: 256, packed: false),
            Case(name: "M=1 K=256 N=1024 packed B (GEMV)", m: 1, n: 1024, k: 256, packed: true),
            Case(name: "M=1 K=256 N=1024ᵀ plain (GEMV)", m: 1, n: 1024, k: 256, packed: false, transB: true),
        ]
        for c in cases {
            for threads in threadCounts {
                gemmMaxThreads = threads
                let r = try c.measure(quick: options.quick)
                print(pad(c.name, 40) + pad("\(threads)", 9, left: true)
                      + pad(String(format: "%.1f", r.best), 15, left: true)
                      + pad(String(format: "%.1f", r.median), 17, left: true)
                      + pad(formatTime(r.medianSeconds), 14, left: true))
            }
        }
    }

    /// 1 versus 2 threads over growing products, to place the threading threshold
    /// (m·n·k above which a product is split).
    static func scanThreads(threadCounts: [Int], quick: Bool) throws {
        let shapes = [
            (32, 256, 64), (32, 256, 128), (32, 512, 128), (32, 512, 256), (32, 1024, 256),
            (64, 1024, 256), (128, 1024, 256), (256, 64, 256), (1024, 64, 256),
        ]
        for (m, n, k) in shapes {
            for packed in [true, false] {
                let c = Case(name: "M=\(m) N=\(n) K=\(k) \(packed ? "packed" : "plain") m·n·k=\(m * n * k)",
                             m: m, n: n, k: k, packed: packed)
                var line = pad(c.name, 46)
                for threads in threadCounts {
                    gemmMaxThreads = threads
                    let r = try c.measure(quick: quick)
                    line += "  \(threads)T " + pad(formatTime(r.medianSeconds), 10, left: true)
                }
                print(line)
            }
        }
    }

    struct Case {
        let name: String
        let m: Int, n: Int, k: Int
        let packed: Bool
        var transB = false

        /// Best and median GFLOP/s over samples, after warm-up. Each sample times enough calls
        /// to last about 20 ms.
        func measure(quick: Bool) throws -> (best: Double, median: Double, medianSeconds: Double) {
            let a = Tensor(shape: [m, k], repeating: 0.5)
            let b = Tensor(shape: transB ? [n, k] : [k, n], repeating: 0.25)
            var c = Tensor.zeros([m, n])
            let packedB = packed ? try PackedMatrix(b, transposed: transB) : nil
            let flops = 2.0 * Double(m) * Double(n) * Double(k)
            return try a.withUnsafeBufferPointer { a in
                try b.withUnsafeBufferPointer { b in
                    try c.withUnsafeMutableBufferPointer { c in
                        func call() throws {
                            if let packedB {
                                try GEMM.sgemm(
                                    m: m, a: a.baseAddress!, lda: k, packedB: packedB, c: c.baseAddress!, ldc: n)
                            } else {
                                try GEMM.sgemm(
                                    transposeB: transB, m: m, n: n, k: k, a: a.baseAddress!, lda: k,
                                    b: b.baseAddress!, ldb: transB ? k : n, c: c.baseAddress!, ldc: n)
                            }
                        }
                        // Warm-up, and calls per sample for ~20 ms samples.
                        var start = now()
                        var warm = 0
                        while now() - start < (quick ? 0.02 : 0.2) || warm < 3 {
                            try call()
                            warm += 1
                        }
                        let perCall = (now() - start) / Double(warm)
                        let calls = max(1, Int(0.02 / perCall))
                        var samples: [Double] = []
                        for _ in 0..<(quick ? 5 : 25) {
                            start = now()
                            for _ in 0..<calls { try call() }
                            samples.append((now() - start) / Double(calls))
                        }
                        samples.sort()
                        let median = samples[samples.count / 2]
                        return (flops / samples[0] / 1e9, flops / median / 1e9, median)
                    }
                }
            }
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    static func formatTime(_ seconds: Double) -> String {
        seconds >= 1e-3 ? String(format: "%.2f ms", seconds * 1e3) : String(format: "%.1f µs", seconds * 1e6)
    }

    static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? fill + s : s + fill
    }
}
