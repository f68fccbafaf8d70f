import Foundation
import Recurrent
import Synchronization

/// `recurrent-bench floor`: how fast a batch-1 recurrent layer could possibly run on this
/// machine in float32, from the two costs no implementation avoids. Every step multiplies h by
/// all of W_hh, which at batch 1 is read from cache once per step; split over two cores, each
/// core reads its half, and the halves of h must then cross between the cores before the next
/// step. Measured with the library's own GEMV kernel on packed panels, without gates:
///
/// 1. one thread, all of W_hh per step;
/// 2. one thread, half of W_hh per step (two cores with a free hand-over);
/// 3. two threads, half each, handing their halves of h over through one flag per thread;
/// 4. the input projection of a whole sequence, two threads.
///
/// Each is the best of several runs, so the bound — steps × (3) + (4) per sequence — is what
/// the machine allows at its fastest (bench/RESULTS.md uses it for configuration C).
enum FloorBench {
    static func run(_ arguments: [String]) throws {
        var (input, hidden, gates, steps) = (64, 128, 4, 100)
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard let value = rest.popFirst().flatMap(Int.init), value > 0 else {
                throw RecurrentError.invalidArgument("floor: \(argument) expects a positive integer")
            }
            switch argument {
            case "--input": input = value
            case "--hidden": hidden = value
            case "--gates": gates = value
            case "--steps": steps = value
            default: throw RecurrentError.invalidArgument("floor: unknown option \(argument)")
            }
        }
        guard hidden % 2 == 0 else { throw RecurrentError.invalidArgument("floor: --hidden must be even") }
        let saved = gemmMaxThreads
        defer { gemmMaxThreads = saved }
        let width = gates * hidden
        print("recurrent-bench floor — batch 1, input \(input), hidden \(hidden), \(gates) gate(s), "
              + "\(steps) steps; W_hh \(width * hidden * 4 / 1024) KB; \(kernelInfo)")

        gemmMaxThreads = 1
        let whole = try stepTime(rows: width, hidden: hidden)
        let half = try stepTime(rows: width / 2, hidden: hidden)
        print(String(format: "  one thread, all of W_hh:        %6.3f µs per step (%.0f GB/s)",
                     whole * 1e6, Double(width * hidden * 4) / whole / 1e9))
        print(String(format: "  one thread, half of W_hh:       %6.3f µs per step", half * 1e6))
        let shared = try twoThreadStepTime(rows: width / 2, hidden: hidden)
        print(String(format: "  two threads, half each + h:     %6.3f µs per step", shared * 1e6))
        gemmMaxThreads = saved
        let projection = try projectionTime(steps: steps, input: input, width: width)
        print(String(format: "  input projection (%d threads):   %6.1f µs per sequence", saved, projection * 1e6))
        let bound = Double(steps) * shared + projection
        print(String(format: "  bound: %.0f µs per sequence, at most %.0f sequences per second "
                     + "(with a free hand-over: %.0f)", bound * 1e6, 1 / bound,
                     1 / (Double(steps) * half + projection)))
    }

    /// W_hh rows packed as the right operand of h·W_hhᵀ, random.
    static func packedWeights(rows: Int, hidden: Int) throws -> PackedMatrix {
        var generator = SeededGenerator(seed: 7)
        let w = Tensor.randomUniform([rows, hidden], low: -0.1, high: 0.1, generator: &generator)
        return try PackedMatrix(w, transposed: true)
    }

    /// Best seconds per step (of 5 runs) of h·W_hhᵀ on the calling thread, each step's h taken from the
    /// previous product (a true dependency chain, as in a recurrent layer).
    static func stepTime(rows: Int, hidden: Int) throws -> Double {
        let w = try packedWeights(rows: rows, hidden: hidden)
        let h = UnsafeMutablePointer<Float>.allocate(capacity: hidden)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { h.deallocate(); out.deallocate() }
        h.update(repeating: 0.01, count: hidden)
        let carried = min(rows, hidden)  // the next h: as much of the product as fits
        return best(runs: 5, repeats: 20_000) {
            w.multiply(vector: h, into: out)
            for j in 0..<carried { h[j] = out[j] * 1e-3 }
        }
    }

    /// The fastest of `runs` timings of `repeats` calls of `body`, in seconds per call.
    static func best(runs: Int, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var fastest = Double.infinity
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { try body() }
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(repeats))
        }
        return fastest
    }

    /// One counter on its own cache lines (padding after the value, object header before it).
    final class Line: Sendable {
        let value = Atomic<Int>(0)
        let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    }

    /// Best seconds per step (of 5 runs) of two threads that each multiply h by their half of W_hh,
    /// write their half of the next h, publish the step on their line and wait for the other's.
    static func twoThreadStepTime(rows: Int, hidden: Int) throws -> Double {
        let weights = [try packedWeights(rows: rows, hidden: hidden), try packedWeights(rows: rows, hidden: hidden)]
        let steps = 20_000
        let h = UnsafeMutablePointer<Float>.allocate(capacity: (steps + 1) * hidden)
        defer { h.deallocate() }
        let lines = [Line(), Line()]
        nonisolated(unsafe) let states = h
        var samples: [Double] = []
        for _ in 0..<5 {
            states.update(repeating: 0.01, count: (steps + 1) * hidden)
            for line in lines { line.value.store(0, ordering: .relaxed) }
            let finished = Line()
            @Sendable func loop(_ me: Int) {
                let out = UnsafeMutablePointer<Float>.allocate(capacity: rows)
                defer { out.deallocate() }
                let half = hidden / 2
                for s in 0..<steps {
                    weights[me].multiply(vector: states + s * hidden, into: out)
                    let next = states + (s + 1) * hidden + me * half
                    for j in 0..<half { next[j] = out[j] * 1e-3 }
                    lines[me].value.store(s + 1, ordering: .releasing)
                    while lines[1 - me].value.load(ordering: .acquiring) < s + 1 {}
                }
            }
            Thread { loop(1); finished.value.store(1, ordering: .releasing) }.start()
            let start = DispatchTime.now().uptimeNanoseconds
            loop(0)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(steps))
            while finished.value.load(ordering: .acquiring) == 0 {}
        }
        return samples.min()!
    }

    /// Best seconds (of 7 runs) of the input projection of one sequence, [steps, input]·W_ihᵀ.
    static func projectionTime(steps: Int, input: Int, width: Int) throws -> Double {
        let w = try packedWeights(rows: width, hidden: input)
        var generator = SeededGenerator(seed: 8)
        let x = Tensor.randomUniform([steps, input], low: -1, high: 1, generator: &generator).scalars
        var out = [Float](repeating: 0, count: steps * width)
        return try best(runs: 7, repeats: 200) {
            try GEMM.sgemm(m: steps, a: x, lda: input, packedB: w, c: &out, ldc: width)
        }
    }
}
