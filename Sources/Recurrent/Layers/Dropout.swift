/// Inverted dropout (`keras.layers.Dropout`, `nn.Dropout`): in training each element is zeroed
/// with probability `rate` and the rest scaled by 1/(1 − rate); at inference, the identity.
public final class Dropout: MaskAware, TrainingAware {
    public let rate: Float
    public var isTraining = false
    private var generator: SeededGenerator

    public init(rate: Float, seed: UInt64? = nil) {
        self.rate = rate
        generator = seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split()
    }

    /// PyTorch spelling: `Dropout(p: 0.5)`.
    public convenience init(p: Float, seed: UInt64? = nil) { self.init(rate: p, seed: seed) }

    public func useRandomStream(ofRank rank: Int) { generator = generator.derived(forRank: rank) }

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard (0..<1).contains(rate) else {
            throw RecurrentError.invalidArgument("Dropout: rate must be in [0, 1), got \(rate)")
        }
        return isTraining ? try input.dropout(rate: rate, generator: &generator) : input
    }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try self(input), mask)
    }
}
