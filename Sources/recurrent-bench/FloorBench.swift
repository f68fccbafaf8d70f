import CRecurrentKernels
import Foundation
import Recurrent
import Synchronization

/// `recurrent-bench floor`: how fast a batch-1 recurrent layer could possibly run on this
/// machine in float32, from the costs no implementation avoids. Every step multiplies h by all
/// of W_hh, which at batch 1 is read from cache once per step; split over two cores, each core
/// reads its half, and the halves of h must then cross between the cores before the next step.
/// Measured without any kernel of ours: W_hh is read with the widest loads of the active ISA
/// (`rk_floor_stream`, a sum, no products), and the input projection costs its multiply-adds at
/// the machine's peak (`rk_floor_fma`, independent chains on every thread):
///
/// 1. one thread, all of W_hh per step;
/// 2. one thread, half of W_hh per step (two cores with a free hand-over);
/// 3. two threads, half each, handing their halves of h over through one flag per thread;
/// 4. the input projection of a whole sequence at peak multiply-add rate, all threads.
///
/// Each is the best of several runs, so the bound — steps × (3) + (4) per sequence — holds
/// whatever our kernels do (bench/RESULTS.md uses it for configuration C).
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
        let threads = gemmMaxThreads
        let width = gates * hidden
        print("recurrent-bench floor — batch 1, input \(input), hidden \(hidden), \(gates) gate(s), "
              + "\(steps) steps; W_hh \(width * hidden * 4 / 1024) KB; \(kernelInfo)")

        let whole = stepTime(floats: width * hidden)
        let half = stepTime(floats: width * hidden / 2)
        print(String(format: "  one thread, all of W_hh:        %6.3f µs per step (%.0f GB/s)",
                     whole * 1e6, Double(width * hidden * 4) / whole / 1e9))
        print(String(format: "  one thread, half of W_hh:       %6.3f µs per step", half * 1e6))
        let ours = try gemvStepTime(rows: width, hidden: hidden)
        print(String(format: "  (our packed GEMV, all of W_hh:  %6.3f µs per step)", ours * 1e6))
        let shared = twoThreadStepTime(floats: width * hidden / 2, hidden: hidden)
        print(String(format: "  two threads, half each + h:     %6.3f µs per step", shared * 1e6))
        let peak = peakFlops(threads: threads)
        let projection = Double(2 * steps * input * width) / peak
        print(String(format: "  input projection at peak (%.0f GFLOP/s, %d threads): %6.1f µs per sequence",
                     peak / 1e9, threads, projection * 1e6))
        let bound = Double(steps) * shared + projection
        print(String(format: "  bound: %.0f µs per sequence, at most %.0f sequences per second "
                     + "(with a free hand-over: %.0f)", bound * 1e6, 1 / bound,
                     1 / (Double(steps) * half + projection)))
    }

    /// Random weights standing in for W_hh, 64-byte aligned as the library's packed panels (a
    /// misaligned wide load touches two cache lines).
    static func weights(_ count: Int) -> UnsafeMutablePointer<Float> {
        let w = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        var generator = SeededGenerator(seed: 7)
        for i in 0..<count { w[i] = Float.random(in: -0.1...0.1, using: &generator) }
        return w
    }

    /// Best seconds per step (of 5 runs) of reading `floats` of W_hh on the calling thread, each
    /// step's read depending on the previous one (a true chain, as in a recurrent layer).
    static func stepTime(floats: Int) -> Double {
        let w = weights(floats)
        defer { w.deallocate() }
        var carried: Float = 0
        let time = best(runs: 5, repeats: 20_000) {
            w[0] = carried * 1e-30
            carried = rk_floor_stream(w, floats)
        }
        if carried.isNaN { print("  (unexpected NaN)") }
        return time
    }

    /// Best seconds per step (of 5 runs) of the library's packed GEMV h·W_hhᵀ on the calling
    /// thread, for comparison with the machine's stream time.
    static func gemvStepTime(rows: Int, hidden: Int) throws -> Double {
        var generator = SeededGenerator(seed: 7)
        let w = try PackedMatrix(
            Tensor.randomUniform([rows, hidden], low: -0.1, high: 0.1, generator: &generator), transposed: true)
        let h = UnsafeMutablePointer<Float>.allocate(capacity: hidden)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { h.deallocate(); out.deallocate() }
        h.update(repeating: 0.01, count: hidden)
        let carried = min(rows, hidden)
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

    /// Best seconds per step (of 5 runs) of two threads that each read their half of W_hh,
    /// write their half of the next h, publish the step on their line and wait for the other's.
    static func twoThreadStepTime(floats: Int, hidden: Int) -> Double {
        nonisolated(unsafe) let halves = [weights(floats), weights(floats)]
        defer { halves.forEach { $0.deallocate() } }
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
                let half = hidden / 2
                for s in 0..<steps {
                    halves[me][0] = states[s * hidden] * 1e-30
                    let sum = rk_floor_stream(halves[me], floats)
                    let next = states + (s + 1) * hidden + me * half
                    for j in 0..<half { next[j] = sum * 1e-3 }
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

    /// The best multiply-add rate (FLOP/s, of 5 runs) of `threads` threads at once, each running
    /// independent chains on the widest vectors.
    static func peakFlops(threads: Int) -> Double {
        let iterations = 2_000_000
        var fastest = 0.0
        for _ in 0..<5 {
            let done = Line()
            for _ in 1..<threads {
                Thread {
                    var flops = 0
                    if rk_floor_fma(iterations, &flops).isNaN { print("  (unexpected NaN)") }
                    done.value.add(1, ordering: .releasing)
                }.start()
            }
            var flops = 0
            let start = DispatchTime.now().uptimeNanoseconds
            if rk_floor_fma(iterations, &flops).isNaN { print("  (unexpected NaN)") }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            while done.value.load(ordering: .acquiring) < threads - 1 {}
            fastest = max(fastest, Double(flops * threads) / seconds)
        }
        return fastest
    }
}
