import Foundation

/// A reproducible random number generator (xoshiro256**, seeded through SplitMix64).
/// The same seed gives the same stream on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mix = seed
        func splitMix() -> UInt64 {
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The generator's position, to save and resume a stream exactly.
    public var stateWords: [UInt64] {
        get { [state.0, state.1, state.2, state.3] }
        set {
            precondition(newValue.count == 4, "four state words")
            state = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    /// A stream of its own for rank `rank` of a data-parallel run, derived from this one.
    public func derived(forRank rank: Int) -> SeededGenerator {
        var copy = self
        return SeededGenerator(seed: copy.next() ^ (UInt64(rank) &* 0xD1B5_4A32_D192_ED03))
    }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// Standard normal (Box–Muller in Double for accuracy in the tails).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53)), Double.leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

extension Tensor {
    /// Elements drawn uniformly from [low, high).
    public static func randomUniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededGenerator
    ) -> Tensor {
        var t = Tensor.zeros(shape)
        t.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = low + (high - low) * generator.nextUnitFloat() }
        }
        return t
    }

    /// Elements drawn from a normal distribution.
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, generator: inout SeededGenerator
    ) -> Tensor {
        var t = Tensor.zeros(shape)
        t.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = mean + standardDeviation * generator.nextNormal() }
        }
        return t
    }
}

extension Tensor {
    /// An inverted-dropout mask: 0 with probability `rate`, else 1/(1 − rate).
    public static func dropoutMask(_ shape: [Int], rate: Float, generator: inout SeededGenerator) -> Tensor {
        let scale = 1 / (1 - rate)
        var mask = Tensor.zeros(shape)
        mask.withUnsafeMutableBufferPointer { m in
            for i in m.indices { m[i] = generator.nextUnitFloat() < rate ? 0 : scale }
        }
        return mask
    }
}
