import Foundation
import Glibc
import Recurrent

/// `recurrent-bench rnn`: sequences per second of SimpleRNN / LSTM / GRU stacks over the peer
/// benchmark's configurations (bench/README.md), inference and training step, time-major.
/// The PyTorch / ONNX Runtime side is `bench/peer.py`; `bench/compare.sh` runs both interleaved.
enum RNNBench {
    /// One benchmark configuration (bench/configs.py holds the same list for the peers).
    struct Config {
        var name: String
        let batch: Int, steps: Int, input: Int, hidden: Int, layers: Int
        var bidirectional = false
        /// Per-example lengths (`Config.lengths`) rather than full sequences.
        var variableLengths = false
        var semantics = MaskSemantics.packed
        /// Keras recurrent dropout, in training.
        var recurrentDropout: Float = 0

        /// Lengths spread over [10, 50] (32 distinct values for A's batch), the same formula as
        /// bench/configs.py.
        var lengths: [Int]? {
            variableLengths ? (0..<batch).map { b in min(steps, 10 + (b * 37 + 11) % 41) } : nil
        }

        /// Real steps over all steps.
        var validFraction: Double {
            lengths.map { Double($0.reduce(0, +)) / Double(batch * steps) } ?? 1
        }

        /// This configuration renamed, with `change` applied.
        func with(_ name: String, _ change: (inout Config) -> Void) -> Config {
            var c = self
            c.name = name
            change(&c)
            return c
        }
    }

    static let a = Config(name: "A", batch: 32, steps: 50, input: 100, hidden: 128, layers: 2)
    static let configs: [Config] = [
        a,
        Config(name: "B", batch: 64, steps: 100, input: 32, hidden: 256, layers: 1),
        Config(name: "C", batch: 1, steps: 100, input: 64, hidden: 128, layers: 1),
        Config(name: "D", batch: 128, steps: 35, input: 512, hidden: 512, layers: 2),
        a.with("E") { $0.variableLengths = true },
        a.with("F") { $0.bidirectional = true },
        // Ours only, against our own A per real step: Keras masks with E's lengths, and
        // recurrent dropout 0.2.
        a.with("EK") { ($0.variableLengths, $0.semantics) = (true, .keras) },
        a.with("AD") { $0.recurrentDropout = 0.2 },
    ]
    static let cells = ["rnn", "lstm", "gru"]
    static let modes = ["inference", "training"]

    static let usage = """
        usage: recurrent-bench rnn [--configs A,B,C,D,E,F,EK,AD] [--cells rnn,lstm,gru] [--modes inference,training]
                                   [--min-time SECONDS] [--min-iters N] [--threads N] [--json]
               recurrent-bench rnn --memory CONFIG CELL [--steps N]
          Prints one line per row (JSON with --json): sequences per second and GFLOP/s (of the real
          steps). E: A with lengths in [10, 50]; F: A bidirectional; EK: E with Keras masks; AD: A
          with recurrent dropout 0.2 (bench/README.md).
          --memory runs N training steps (default 3) and prints the peak resident memory.
        """

    struct Options {
        var configs = ["A", "B", "C", "D"]
        var cells = RNNBench.cells
        var modes = RNNBench.modes
        var minTime = 0.5
        var minIters = 3
        var threads: Int?
        var json = false
        var memory: (config: String, cell: String)?
        var steps = 3
    }

    static func run(_ arguments: [String]) throws {
        var o = Options()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw RecurrentError.invalidArgument("rnn: \(flag) needs a value") }
            return v
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--configs": o.configs = try value(argument).split(separator: ",").map(String.init)
            case "--cells": o.cells = try value(argument).split(separator: ",").map(String.init)
            case "--modes": o.modes = try value(argument).split(separator: ",").map(String.init)
            case "--min-time": o.minTime = Double(try value(argument)) ?? o.minTime
            case "--min-iters": o.minIters = Int(try value(argument)) ?? o.minIters
            case "--threads": o.threads = Int(try value(argument))
            case "--json": o.json = true
            case "--steps": o.steps = Int(try value(argument)) ?? o.steps
            case "--memory": o.memory = (try value(argument), try value(argument))
            case "-h", "--help": print(usage); return
            default: throw RecurrentError.invalidArgument("rnn: unknown option \(argument)\n\(usage)")
            }
        }
        if let threads = o.threads { gemmMaxThreads = threads }
        if let (configName, cell) = o.memory {
            try memory(config: config(named: configName), cell: cell, steps: o.steps)
            return
        }
        if !o.json { print("recurrent-bench rnn — \(kernelInfo), \(gemmMaxThreads) threads") }
        for name in o.configs {
            let c = try config(named: name)
            for cell in o.cells {
                for mode in o.modes {
                    let r = try measure(config: c, cell: cell, training: mode == "training",
                                        minTime: o.minTime, minIters: o.minIters)
                    let sequences = Double(r.iterations * c.batch) / r.seconds
                    let gflops = flops(c, cell: cell, training: mode == "training") * Double(r.iterations)
                        / r.seconds / 1e9
                    if o.json {
                        print("{\"side\": \"ours\", \"config\": \"\(c.name)\", \"cell\": \"\(cell)\", "
                              + "\"mode\": \"\(mode)\", \"seq_per_s\": \(sequences), \"gflops\": \(gflops), "
                              + "\"iterations\": \(r.iterations), \"seconds\": \(r.seconds)}")
                    } else {
                        print("\(c.name) \(pad(cell, 5)) \(pad(mode, 10)) "
                              + String(format: "%10.1f seq/s %8.1f GFLOP/s  (%d iterations)", sequences, gflops,
                                       r.iterations))
                    }
                    fflush(nil)
                }
            }
        }
    }

    static func config(named name: String) throws -> Config {
        guard let c = configs.first(where: { $0.name == name.uppercased() }) else {
            throw RecurrentError.invalidArgument("rnn: unknown configuration \(name)")
        }
        return c
    }

    static func gateCount(_ cell: String) throws -> Int {
        switch cell {
        case "rnn": return 1
        case "lstm": return 4
        case "gru": return 3
        default: throw RecurrentError.invalidArgument("rnn: unknown cell \(cell) (rnn, lstm, gru)")
        }
    }

    /// GEMM flops of one batch over its real steps: per layer and direction, 2·(T·B)·I_l·(G·H)
    /// for the input projection and 2·(T·B)·H·(G·H) for the recurrent products (I_l = D·H
    /// above the first layer); a training step counts three times that.
    static func flops(_ c: Config, cell: String, training: Bool) -> Double {
        let g = (try? gateCount(cell)) ?? 1, directions = c.bidirectional ? 2 : 1
        var total = 0.0
        for layer in 0..<c.layers {
            let width = layer == 0 ? c.input : directions * c.hidden
            total += 2 * Double(c.steps * c.batch * directions) * Double(width + c.hidden) * Double(g * c.hidden)
        }
        return (training ? 3 : 1) * total * c.validFraction
    }

    /// A model and its step functions.
    struct Model {
        let layer: RecurrentLayer
        let forward: (Variable) throws -> Variable
    }

    static func makeModel(_ c: Config, cell: String) throws -> Model {
        let (i, h, l, bi) = (c.input, c.hidden, c.layers, c.bidirectional)
        let mask = c.lengths.map { SequenceMask.lengths($0) }
        let model: Model
        switch cell {
        case "rnn":
            let m = SimpleRNN(inputSize: i, hiddenSize: h, numLayers: l, bidirectional: bi, seed: 1)
            model = Model(layer: m) { try m.forward($0, mask: mask).output }
        case "lstm":
            let m = LSTM(inputSize: i, hiddenSize: h, numLayers: l, bidirectional: bi, seed: 1)
            model = Model(layer: m) { try m.forward($0, mask: mask).output }
        case "gru":
            let m = GRU(inputSize: i, hiddenSize: h, numLayers: l, bidirectional: bi, seed: 1)
            model = Model(layer: m) { try m.forward($0, mask: mask).output }
        default:
            throw RecurrentError.invalidArgument("rnn: unknown cell \(cell) (rnn, lstm, gru)")
        }
        model.layer.maskSemantics = c.semantics
        model.layer.recurrentDropout = c.recurrentDropout
        return model
    }

    /// A closure that runs one iteration (one batch) of the row.
    static func makeStep(_ c: Config, cell: String, training: Bool) throws -> () throws -> Void {
        var generator = SeededGenerator(seed: 7)
        let model = try makeModel(c, cell: cell)
        let x = Variable(Tensor.randomNormal([c.steps, c.batch, c.input], generator: &generator))
        if !training {
            return {
                _ = try withoutGradients { try model.forward(x) }
            }
        }
        let target = Tensor.randomNormal([c.batch, (c.bidirectional ? 2 : 1) * c.hidden], generator: &generator)
        model.layer.isTraining = true
        let optimizer = Adam(parameters: model.layer.parameters(), learningRate: 1e-3, epsilon: 1e-8)
        let last = c.steps - 1
        return {
            optimizer.zeroGradients()
            let output = try model.forward(x)
            let loss = try Loss.meanSquaredError(try output.selecting(last), target)
            try loss.backward()
            try optimizer.step()
        }
    }

    static func measure(config c: Config, cell: String, training: Bool, minTime: Double, minIters: Int) throws
        -> (iterations: Int, seconds: Double)
    {
        let step = try makeStep(c, cell: cell, training: training)
        // Warm-up: first-call allocations, helper threads, caches.
        let warmStart = now()
        try step()
        if now() - warmStart < 0.05 { for _ in 0..<3 { try step() } }
        var iterations = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            try step()
            iterations += 1
            elapsed = now() - start
        } while elapsed < minTime || iterations < minIters
        return (iterations, elapsed)
    }

    /// Runs training steps and prints the peak resident set (ru_maxrss) in kilobytes, before and after.
    static func memory(config c: Config, cell: String, steps: Int) throws {
        let before = maxRSS()
        let step = try makeStep(c, cell: cell, training: true)
        for _ in 0..<max(1, steps) { try step() }
        let after = maxRSS()
        print("{\"side\": \"ours\", \"config\": \"\(c.name)\", \"cell\": \"\(cell)\", "
              + "\"baseline_kb\": \(before), \"maxrss_kb\": \(after)}")
    }

    static func maxRSS() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
