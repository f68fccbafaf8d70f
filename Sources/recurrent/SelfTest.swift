import ArgumentParser
import Foundation
import Recurrent

/// Trains a small network on a seeded problem and shows its loss falling: a quick check that
/// kernels, autograd, losses and optimizers work together on this machine.
struct SelfTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest", abstract: "Train a tiny network and print its loss falling.")

    @Option(help: "Training epochs.") var epochs = 300
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func run() throws {
        print("Recurrent \(Recurrent.version) — \(Recurrent.kernelInfo)")
        // Fit y = sin(3x)·x on [-1, 1] with a 1-32-32-1 tanh network, full batch, Adam.
        var generator = SeededGenerator(seed: seed)
        let x = Tensor.randomUniform([256, 1], low: -1, high: 1, generator: &generator)
        let y = x.map { Foundation.sin(3 * $0) * $0 }
        let layers = [
            Dense(inputSize: 1, units: 32, activation: .tanh, seed: seed &+ 1),
            Dense(inputSize: 32, units: 32, activation: .tanh, seed: seed &+ 2),
            Dense(inputSize: 32, units: 1, seed: seed &+ 3),
        ]
        let optimizer = Adam(parameters: layers.flatMap(\.parameters), learningRate: 0.01)
        var first: Float = .nan, last: Float = .nan
        let start = Date()
        for epoch in 1...epochs {
            optimizer.zeroGradients()
            let prediction = try layers.reduce(Variable(x)) { try $1($0) }
            let loss = try Loss.meanSquaredError(prediction, y)
            try loss.backward()
            try optimizer.step()
            last = loss.value.scalar
            if epoch == 1 { first = last }
            if epoch == 1 || epoch % max(epochs / 10, 1) == 0 {
                print("epoch \(String(epoch).leftPadded(to: 4))  loss \(String(format: "%.6f", last))")
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "loss %.6f → %.6f in %.2f s", first, last, seconds))
        guard last.isFinite, last < first / 10 else {
            print("selftest FAILED: the loss did not fall by 10×")
            throw ExitCode.failure
        }
        print("selftest passed")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(width - count, 0)) + self
    }
}
