import Foundation
import Recurrent

/// `recurrent-bench allreduce`, under `mpirun -np N` in a build with the MPI trait: the gradient
/// all-reduce of the benchmark's configurations (time, bandwidth), training steps with and
/// without it, and the scaling a ring all-reduce gives across machines.
enum AllReduceBench {
    static let usage = """
        usage: mpirun -np 2 recurrent-bench allreduce [--configs A,D] [--cell lstm] [--steps 5] [--threads N] [--latency-us 25]
          needs a build with the MPI trait: swift build -c release --traits MPI
          run under mpirun -np 1 too: its step time is the one-rank baseline of the projection
        """

    struct Options {
        var configs = ["A", "D"]
        var cell = "lstm"
        var steps = 5
        var threads: Int?
        /// The per-hop latency of the projection's links (loopback TCP on one host is lower than a switched network's).
        var latency = 25e-6
    }

    static func parse(_ arguments: [String]) throws -> Options {
        var o = Options()
        var rest = arguments[...]
        func value(_ name: String) throws -> String {
            guard let v = rest.popFirst() else { throw RecurrentError.invalidArgument("\(name) needs a value\n\(usage)") }
            return v
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--configs": o.configs = try value(argument).split(separator: ",").map(String.init)
            case "--cell": o.cell = try value(argument)
            case "--steps": o.steps = Int(try value(argument)) ?? o.steps
            case "--threads": o.threads = Int(try value(argument))
            case "--latency-us": o.latency = (Double(try value(argument)) ?? 25) * 1e-6
            default: throw RecurrentError.invalidArgument("allreduce: unknown option \(argument)\n\(usage)")
            }
        }
        return o
    }

    #if MPI
    static func run(_ arguments: [String]) throws {
        let o = try parse(arguments)
        if let threads = o.threads { gemmMaxThreads = threads }
        let world = try MPICommunicator.world()
        func say(_ line: String) { if world.rank == 0 { print(line) } }
        say("ranks \(world.size), \(Recurrent.kernelInfo), \(gemmMaxThreads) thread(s) per rank, MPI_THREAD_MULTIPLE \(world.reducesInBackground ? "granted" : "not granted")")
        let hop = world.size > 1 ? try median(of: 200) { var one: [Float] = [1]; try world.allReduceSum(&one) } : 0
        if world.size > 1 { say(String(format: "all-reduce of one float: %.1f µs", hop * 1e6)) }
        for name in o.configs {
            let c = try RNNBench.config(named: name)
            let model = try RNNBench.makeModel(c, cell: o.cell)
            let parameters = model.layer.parameters()
            let floats = parameters.reduce(0) { $0 + $1.value.count }
            let bytes = Double(floats * 4)
            say("\nconfiguration \(c.name) (\(o.cell), batch \(c.batch) per rank, \(c.steps) steps, \(c.input) → \(c.hidden) × \(c.layers)): gradient \(floats) floats, \(String(format: "%.2f", bytes / 1_048_576)) MiB")
            if world.size > 1 {
                var buffer = [Float](repeating: 1, count: floats)
                let reduce = try median(of: 20) { try world.allReduceSum(&buffer) }
                // Bus bandwidth: what each link carried per second under a ring (NCCL's busbw).
                let ring = 2 * Double(world.size - 1) / Double(world.size)
                say(String(format: "  MPI_Allreduce: %.3f ms, algorithm bandwidth %.2f GB/s, bus bandwidth %.2f GB/s",
                           reduce * 1e3, bytes / reduce / 1e9, ring * bytes / reduce / 1e9))
            }
            let exchanges: [GradientExchange?] = [nil] + (world.size > 1
                ? [GradientExchange(parameters, world: world, overlap: false), GradientExchange(parameters, world: world, overlap: true),
                   GradientExchange(parameters, world: NoNetwork(size: world.size))] : [])
            let times = try stepTimes(c, o, model: model, exchanges: exchanges, world: world)
            let compute = times[0]
            // Every rank's time: a step with the exchange waits for the slowest rank.
            var computes = [Float](repeating: 0, count: world.size)
            computes[world.rank] = Float(compute)
            try world.allReduceSum(&computes)
            say(String(format: "  training step, no exchange: %.1f ms on rank 0", compute * 1e3)
                + (world.size > 1 ? String(format: ", %.1f–%.1f ms over the ranks", computes.min()! * 1e3, computes.max()! * 1e3) : ""))
            guard world.size > 1 else {
                projection(name: c.name, bytes: bytes, step: compute, latency: o.latency, say: say)
                continue
            }
            say(String(format: "  training step, gradients packed into the buckets and unpacked, nothing sent: %.1f ms", times[3] * 1e3))
            for (exchange, step) in zip(exchanges.dropFirst(), times.dropFirst()).prefix(2) {
                let blocked = exchange!.blockedSeconds / Double(o.steps + 1)
                say(String(format: "  training step, gradients averaged %@ (%d buckets): %.1f ms, %.1f ms of it blocked on the reductions",
                           exchange!.overlaps ? "on a background thread" : "blocking, as each bucket completes", exchange!.bucketSizes.count,
                           step * 1e3, blocked * 1e3))
            }
        }
    }

    /// Ranks that send nothing: what the exchange costs besides its reductions.
    final class NoNetwork: Communicator, @unchecked Sendable {
        let rank = 0, size: Int, reducesInBackground = false
        init(size: Int) { self.size = size }
        func allReduceSum(_ values: inout [Float]) throws {}
        func broadcast(_ values: inout [Float], from root: Int) throws {}
        func broadcast(_ bytes: inout [UInt8], from root: Int) throws {}
        func abort(_ message: String) -> Never { fatalError(message) }
    }

    /// The median seconds of `body` over `count` runs, after a warm-up.
    static func median(of count: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<count {
            let start = RNNBench.now()
            try body()
            times.append(RNNBench.now() - start)
        }
        return times.sorted()[count / 2]
    }

    /// The median seconds of a training step (forward, backward, the exchange when there is one,
    /// Adam) with each of `exchanges`, taking turns step by step so that the machine's drift
    /// spreads over all of them; the ranks meet before each step, so none waits for another's previous one.
    static func stepTimes(_ c: RNNBench.Config, _ o: Options, model: RNNBench.Model, exchanges: [GradientExchange?], world: Communicator) throws
        -> [Double]
    {
        var generator = SeededGenerator(seed: 7)
        let x = Variable(Tensor.randomNormal([c.steps, c.batch, c.input], generator: &generator))
        let target = Tensor.randomNormal([c.batch, (c.bidirectional ? 2 : 1) * c.hidden], generator: &generator)
        model.layer.isTraining = true
        let optimizer = Adam(parameters: model.layer.parameters(), learningRate: 1e-4, epsilon: 1e-8)
        func step(_ exchange: GradientExchange?) throws -> Double {
            var meet: [Float] = [0]
            try world.allReduceSum(&meet)
            let start = RNNBench.now()
            optimizer.zeroGradients()
            let loss = try Loss.meanSquaredError(try model.forward(x).selecting(c.steps - 1), target)
            exchange?.begin(examples: c.batch)
            try loss.backward(whenComplete: exchange?.gradientReady)
            try exchange?.finish()
            try optimizer.step()
            return RNNBench.now() - start
        }
        for exchange in exchanges { _ = try step(exchange) }
        var times = exchanges.map { _ in [Double]() }
        for _ in 0..<o.steps {
            for (i, exchange) in exchanges.enumerated() { times[i].append(try step(exchange)) }
        }
        return times.map { $0.sorted()[$0.count / 2] }
    }

    /// Ring all-reduce across N machines, each running this rank's step on its own batch: each
    /// sends and receives 2(N − 1)/N of the gradient, in 2(N − 1) hops of `latency`. The efficiency
    /// counts the reduction as not overlapped at all (the overlap only adds to it).
    static func projection(name: String, bytes: Double, step: Double, latency: Double, say: (String) -> Void) {
        say(String(format: "  projected scaling efficiency, ring all-reduce, %.0f µs per hop, no overlap counted:", latency * 1e6))
        say("    machines   10 Gb/s   25 Gb/s  100 Gb/s")
        for n in [2, 4, 8, 16, 32, 64] {
            let cells = [10.0, 25.0, 100.0].map { gigabits -> String in
                let reduce = 2 * Double(n - 1) / Double(n) * bytes / (gigabits * 1e9 / 8) + 2 * Double(n - 1) * latency
                return String(format: "%7.1f %%", 100 * step / (step + reduce))
            }
            say(String(format: "    %8d", n) + cells.map { " " + $0 }.joined())
        }
    }
    #else
    static func run(_ arguments: [String]) throws {
        _ = try parse(arguments)
        throw RecurrentError.invalidArgument("allreduce needs a build with the MPI trait: swift build -c release --traits MPI\n\(usage)")
    }
    #endif
}
