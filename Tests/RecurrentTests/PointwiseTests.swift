import CRecurrentKernels
import Foundation
import Testing

@testable import Recurrent

/// The SIMD nonlinearities of CRecurrentKernels against double-precision references, on every
/// instruction set the CPU supports. Serialized: the ISA is a process-wide setting.
@Suite(.serialized) struct PointwiseTests {
    typealias Kernel = @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    static let kernels: [(name: String, kernel: Kernel, reference: @Sendable (Double) -> Double)] = [
        ("sigmoid", { Pointwise.sigmoid($0, $1, count: $2) }, { 1 / (1 + Foundation.exp(-$0)) }),
        ("tanh", { Pointwise.tanh($0, $1, count: $2) }, { Foundation.tanh($0) }),
        ("exp", { Pointwise.exp($0, $1, count: $2) }, { Foundation.exp($0) }),
        ("relu", { Pointwise.relu($0, $1, count: $2) }, { $0 > 0 ? $0 : 0 }),
    ]

    /// The instruction sets this CPU can run.
    static var supportedISAs: [rk_isa] {
        [RK_ISA_PORTABLE, RK_ISA_AVX2, RK_ISA_AVX512, RK_ISA_NEON].filter { rk_isa_supported($0) != 0 }
    }

    static func name(_ isa: rk_isa) -> String {
        switch isa {
        case RK_ISA_AVX512: return "AVX-512"
        case RK_ISA_AVX2: return "AVX2"
        case RK_ISA_NEON: return "NEON"
        default: return "portable"
        }
    }

    /// Runs `body` once per supported ISA, forced, and restores the best one.
    static func forEachISA(_ body: (rk_isa) throws -> Void) rethrows {
        try ForcedISA.forEach { isa in
            #expect(rk_active_isa() == isa.cValue)
            try body(isa.cValue)
        }
    }

    static func apply(_ kernel: Kernel, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                if let xBase = xs.baseAddress, let yBase = ys.baseAddress { kernel(xBase, yBase, xs.count) }
            }
        }
        return y
    }

    /// A dense sweep of [-110, 110] in steps of 1/1024 (every one exact in Float), plus values
    /// spread logarithmically over 1e-38 … 1e2 of both signs (tiny inputs of tanh and sigmoid).
    static let sweep: [Float] = {
        var values = (-110 * 1024...110 * 1024).map { Float($0) / 1024 }
        for exponent in stride(from: -38.0, through: 2.0, by: 0.001) {
            let magnitude = Float(Foundation.pow(10, exponent))
            values += [magnitude, -magnitude]
        }
        values += [Float.leastNormalMagnitude, -Float.leastNormalMagnitude, 88.72283, -87.33654, -103.2]
        return values
    }()

    @Test func denseSweepMatchesDoublePrecision() {
        // Relative error bound where the exact result is a normal float. Measured: sigmoid 1.8e-7,
        // tanh 1.3e-7, exp 8.2e-8 (a few ulp; 1 ulp = 1.19e-7 relative at most).
        let bound = 2e-6
        Self.forEachISA { isa in
            for (name, kernel, reference) in Self.kernels {
                let y = Self.apply(kernel, Self.sweep)
                var worst = 0.0
                var worstAt: Float = 0
                for (x, value) in zip(Self.sweep, y) {
                    let exact = reference(Double(x))
                    if exact.magnitude > Double(Float.greatestFiniteMagnitude) {
                        #expect(value == Float(exact.sign == .minus ? -Float.infinity : .infinity), "\(name)(\(x))")
                        continue
                    }
                    guard exact.magnitude >= Double(Float.leastNormalMagnitude) else {
                        // Subnormal or zero results: absolute error within a couple of subnormal steps.
                        #expect(Swift.abs(Double(value) - exact) <= 4 * Double(Float.leastNonzeroMagnitude),
                                "\(name)(\(x)) = \(value), exact \(exact)")
                        continue
                    }
                    let error = Swift.abs(Double(value) - exact) / exact.magnitude
                    if !(error <= worst) { worst = error; worstAt = x }
                }
                print("PointwiseTests: \(Self.name(isa)) \(name): max relative error \(worst) at x = \(worstAt)")
                #expect(worst <= bound, "\(Self.name(isa)) \(name): max relative error \(worst) at x = \(worstAt)")
            }
        }
    }

    @Test func tinyInputsStayRelativelyAccurate() {
        let tiny: [Float] = [1e-4, -1e-4, 3e-6, -7e-9, 1e-20, -1e-30, .leastNormalMagnitude, -.leastNonzeroMagnitude]
        Self.forEachISA { isa in
            let y = Self.apply(Self.kernels[1].kernel, tiny)
            for (x, value) in zip(tiny, y) {
                let exact = Foundation.tanh(Double(x))
                let error = Swift.abs(Double(value) - exact) / Swift.abs(exact)
                #expect(error <= 2e-7, "\(Self.name(isa)) tanh(\(x)) = \(value)")
            }
            // exp(tiny) is 1, sigmoid(tiny) is ½ (± the input's own size).
            #expect(Self.apply(Self.kernels[2].kernel, tiny).allSatisfy { $0 == 1 || Swift.abs($0 - 1) <= 1.5e-4 })
            #expect(Self.apply(Self.kernels[0].kernel, [1e-30, -1e-30, 0, -0.0]) == [0.5, 0.5, 0.5, 0.5])
        }
    }

    @Test func specialValues() {
        let x: [Float] = [.infinity, -.infinity, 100, -100, 1e30, -1e30, 0, -0.0, 88.8, -104, -200]
        Self.forEachISA { isa in
            let label = Self.name(isa)
            #expect(Self.apply(Self.kernels[0].kernel, x) == [1, 0, 1, Float(Foundation.exp(-100.0)), 1, 0, 0.5, 0.5, 1, 0, 0],
                    "\(label) sigmoid")
            #expect(Self.apply(Self.kernels[1].kernel, x) == [1, -1, 1, -1, 1, -1, 0, 0, 1, -1, -1], "\(label) tanh")
            #expect(Self.apply(Self.kernels[2].kernel, x)
                == [.infinity, 0, .infinity, Float(Foundation.exp(-100.0)), .infinity, 0, 1, 1, .infinity, 0, 0],
                "\(label) exp")
            #expect(Self.apply(Self.kernels[3].kernel, x) == [.infinity, 0, 100, 0, 1e30, 0, 0, 0, 88.8, 0, 0], "\(label) relu")
            // Signs of zero: tanh(−0) = −0 (odd), relu(−0) = +0.
            #expect(Self.apply(Self.kernels[1].kernel, [-0.0])[0].sign == .minus, "\(label) tanh(-0)")
            #expect(Self.apply(Self.kernels[3].kernel, [-0.0])[0].sign == .plus, "\(label) relu(-0)")
            // NaN propagates through every function, wherever it sits in a vector.
            for (name, kernel, _) in Self.kernels {
                var input = [Float](repeating: 0.25, count: 19)
                input[0] = .nan
                input[7] = -.nan
                input[18] = .nan
                let y = Self.apply(kernel, input)
                #expect(y[0].isNaN && y[7].isNaN && y[18].isNaN, "\(label) \(name) NaN")
                #expect(y.enumerated().filter { ![0, 7, 18].contains($0.offset) }.allSatisfy { !$0.element.isNaN },
                        "\(label) \(name) NaN leaked")
            }
        }
    }

    @Test func inPlaceAndOddLengths() {
        Self.forEachISA { isa in
            for (name, kernel, _) in Self.kernels {
                for length in [0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100] {
                    let x = (0..<length).map { Float($0) * 0.37 - 5 }
                    let expected = x.map { value in Self.apply(kernel, [value])[0] }  // one element at a time
                    let outOfPlace = Self.apply(kernel, x)
                    #expect(outOfPlace == expected, "\(Self.name(isa)) \(name) length \(length)")

                    // In place: y and x are the same buffer.
                    var buffer = x
                    buffer.withUnsafeMutableBufferPointer { b in
                        if let base = b.baseAddress { kernel(UnsafePointer(base), base, b.count) }
                    }
                    #expect(buffer == expected, "\(Self.name(isa)) \(name) in place, length \(length)")

                    // Nothing is written past the end: a guard element after `length` stays untouched.
                    let padded = x + [42]
                    var out = [Float](repeating: -7, count: length + 1)
                    padded.withUnsafeBufferPointer { p in
                        out.withUnsafeMutableBufferPointer { o in kernel(p.baseAddress!, o.baseAddress!, length) }
                    }
                    #expect(out[length] == -7, "\(Self.name(isa)) \(name) wrote past length \(length)")
                }
            }
        }
    }

    @Test func isasAgree() {
        // Every ISA runs the same algorithm: results agree to within 2 ulp of each other.
        let x = Self.sweep
        var results: [String: [[Float]]] = [:]
        Self.forEachISA { _ in
            for (name, kernel, _) in Self.kernels { results[name, default: []].append(Self.apply(kernel, x)) }
        }
        for (name, runs) in results {
            for run in runs.dropFirst() {
                var worst: Float = 0
                for (a, b) in zip(runs[0], run) where a.isFinite && b.isFinite && a != b {
                    worst = max(worst, Swift.abs(a - b) / max(a.ulp, b.ulp))
                }
                #expect(worst <= 2, "\(name): ISAs differ by \(worst) ulp")
            }
        }
        #expect(rk_active_isa() == rk_best_isa())
    }
}
