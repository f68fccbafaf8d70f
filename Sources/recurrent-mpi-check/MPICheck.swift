// Run by .ci/run under `mpirun -np 2` in a build with the MPI trait: data-parallel `fit` must
// reach the weights one process reaches on the concatenated batches, and a rank that fails must
// end the job. `recurrent-mpi-check fail` makes rank 1 fail at its second batch.
import Foundation
import Recurrent

#if MPI
struct Planned: Error, CustomStringConvertible { var description: String { "a failure planned by the check" } }

final class FailOnce: Callback {
    let rank: Int
    init(rank: Int) { self.rank = rank }
    func onBatchEnd(_ batch: Int, logs: [String: Float], model: Model) throws {
        if rank == 1 && batch == 1 { throw Planned() }
    }
}

@main
enum MPICheck {
    static func model(_ cell: String, masked: Bool) -> Sequential {
        Sequential {
            Input(shape: [6, 3])
            if masked { Masking(maskValue: 0) }
            switch cell {
            case "lstm": LSTM(units: 8, seed: 11)
            case "gru": GRU(units: 8, seed: 11)
            default: SimpleRNN(units: 8, seed: 11)
            }
            Dense(units: 1, seed: 12)
        }
    }

    static func main() throws {
        let world = try MPICommunicator.world()
        var generator = SeededGenerator(seed: 1)
        var x = Tensor.randomNormal([100, 6, 3], generator: &generator)
        let y = Tensor.randomNormal([100, 1], generator: &generator)
        if CommandLine.arguments.dropFirst().first == "fail" {
            let m = model("lstm", masked: false)
            m.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
            try m.fit(x, y, batchSize: 8, epochs: 1, verbose: .silent, callbacks: [FailOnce(rank: world.rank)], distributed: world)
            print("rank \(world.rank): the planned failure did not stop the run")
            exit(1)
        }
        // Padding for the masked cases: each example's steps from its length on are zeros.
        x.withUnsafeMutableBufferPointer { p in
            for b in 0..<100 { for t in (2 + b % 5)..<6 { for f in 0..<3 { p[(b * 6 + t) * 3 + f] = 0 } } }
        }
        var worst: Float = 0
        for cell in ["rnn", "lstm", "gru"] {
            for masked in [false, true] {
                let distributed = model(cell, masked: masked)
                distributed.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
                try distributed.fit(x, y, batchSize: 8, epochs: 3, verbose: .silent, validationSplit: 0.2, seed: 5, distributed: world)
                guard world.rank == 0 else { continue }
                // One process on the concatenated batches: the global batch of all ranks.
                let single = model(cell, masked: masked)
                single.compile(optimizer: Adam(learningRate: 0.01), loss: .meanSquaredError)
                try single.fit(x, y, batchSize: 8 * world.size, epochs: 3, verbose: .silent, validationSplit: 0.2, seed: 5)
                let a = distributed.stateDict(), b = single.stateDict()
                let difference = a.keys.map { key in zip(a[key]!.scalars, b[key]!.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
                worst = max(worst, difference)
                print("\(cell)\(masked ? " masked" : ""): \(world.size) ranks against one process, largest weight difference \(difference)")
            }
        }
        // Float32 sums in another order: the tolerance for three epochs of Adam.
        var failed: [Float] = [world.rank == 0 && worst > 1e-5 ? 1 : 0]
        try world.allReduceSum(&failed)
        if world.rank == 0 { print(failed[0] == 0 ? "ok: data-parallel fit equals one process (≤ 1e-5)" : "FAILED: difference \(worst) > 1e-5") }
        exit(failed[0] == 0 ? 0 : 1)
    }
}
#else
@main
enum MPICheck {
    static func main() {
        print("recurrent-mpi-check needs the MPI trait: swift build --traits MPI, then mpirun -np 2 recurrent-mpi-check")
    }
}
#endif
