import Foundation

/// Whose defaults a layer follows where Keras and PyTorch differ (initial weights, bias layout).
public enum Convention: String, Sendable, Equatable, Codable { case keras, pytorch }

/// How a parameter tensor is filled before training; Keras's and PyTorch's defaults both exist.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    case constant(Float)
    /// Uniform in [low, high).
    case uniform(low: Float, high: Float)
    /// Keras's default kernel initializer: uniform in ±√(6 / (fanIn + fanOut)).
    case glorotUniform
    /// Normal with standard deviation √(2 / (fanIn + fanOut)), truncated at two deviations as Keras does.
    case glorotNormal
    /// Keras's default recurrent-kernel initializer: a random orthogonal matrix times `gain`.
    case orthogonal(gain: Float = 1)
    /// PyTorch's default for `nn.Linear` and recurrent layers: uniform in ±1/√fanIn.
    case pytorchUniform

    /// A tensor of `shape`; for a 2-D weight `[out, in]`, fanIn is `in` and fanOut is `out`.
    public func make(shape: [Int], fanIn: Int, fanOut: Int, generator: inout SeededGenerator) -> Tensor {
        switch self {
        case .zeros:
            return Tensor.zeros(shape)
        case .ones:
            return Tensor.ones(shape)
        case .constant(let value):
            return Tensor(shape: shape, repeating: value)
        case .uniform(let low, let high):
            return Tensor.randomUniform(shape, low: low, high: high, generator: &generator)
        case .glorotUniform:
            let limit = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
            return Tensor.randomUniform(shape, low: -limit, high: limit, generator: &generator)
        case .glorotNormal:
            let deviation = (2 / Float(max(fanIn + fanOut, 1))).squareRoot() / 0.879_625_76
            var t = Tensor.zeros(shape)
            t.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices {
                    var x: Float
                    repeat { x = generator.nextNormal() } while abs(x) > 2
                    buffer[i] = x * deviation
                }
            }
            return t
        case .orthogonal(let gain):
            return Self.orthogonal(shape: shape, gain: gain, generator: &generator)
        case .pytorchUniform:
            let bound = 1 / Float(max(fanIn, 1)).squareRoot()
            return Tensor.randomUniform(shape, low: -bound, high: bound, generator: &generator)
        }
    }

    /// Rows (or columns, whichever are fewer) orthonormal: Gram–Schmidt on a Gaussian matrix,
    /// which is the Q of its QR decomposition with the sign convention Keras uses.
    private static func orthogonal(shape: [Int], gain: Float, generator: inout SeededGenerator) -> Tensor {
        let rows = shape.count >= 2 ? shape.dropLast().reduce(1, *) : 1
        let cols = shape.last ?? 1
        // Orthonormalise the `short` vectors of length `long`.
        let short = min(rows, cols), long = max(rows, cols)
        var vectors = (0..<short).map { _ in (0..<long).map { _ in Double(generator.nextNormal()) } }
        for i in 0..<short {
            for j in 0..<i {
                let dot = zip(vectors[i], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<long { vectors[i][k] -= dot * vectors[j][k] }
            }
            let norm = vectors[i].reduce(0) { $0 + $1 * $1 }.squareRoot()
            for k in 0..<long { vectors[i][k] /= max(norm, 1e-12) }
        }
        var t = Tensor.zeros(shape)
        t.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<rows {
                for c in 0..<cols {
                    // Fewer rows: the rows are the vectors; fewer columns: the columns are.
                    let value = rows <= cols ? vectors[r][c] : vectors[c][r]
                    buffer[r * cols + c] = gain * Float(value)
                }
            }
        }
        return t
    }
}

/// The generator layers draw their initial weights from unless given a seed of their own.
/// `setRandomSeed` makes a whole program reproducible, like `torch.manual_seed` (inside
/// `withRandomSeed`, it reseeds that scope's generator).
public func setRandomSeed(_ seed: UInt64) {
    GlobalGenerator.shared.reset(seed: seed)
}

/// Runs `body` with a generator of its own seeded with `seed`: layers created inside draw
/// their weights from it, whatever other threads or tasks do meanwhile (parallel tests, a
/// server building models concurrently). Like `torch.random.fork_rng` plus a seed.
public func withRandomSeed<R>(_ seed: UInt64, _ body: () throws -> R) rethrows -> R {
    try GlobalGenerator.$scoped.withValue(GlobalGenerator(seed: seed)) { try body() }
}

final class GlobalGenerator: @unchecked Sendable {
    private static let global = GlobalGenerator(seed: 0x5EED)
    @TaskLocal static var scoped: GlobalGenerator?
    /// The scope's generator inside `withRandomSeed`, the program's otherwise.
    static var shared: GlobalGenerator { scoped ?? global }

    private let lock = NSLock()
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    func reset(seed: UInt64) {
        lock.withLock { generator = SeededGenerator(seed: seed) }
    }

    /// A generator of its own for one layer, split off the stream.
    func split() -> SeededGenerator {
        lock.withLock { SeededGenerator(seed: generator.next()) }
    }

    /// Draws from the stream itself (`Tensor.randn` and friends).
    func draw<R>(_ body: (inout SeededGenerator) throws -> R) rethrows -> R {
        try lock.withLock { try body(&generator) }
    }
}
