/// Applies a layer to every time step independently (`keras.layers.TimeDistributed`):
/// [B, T, …] is folded to [B·T, …], passed through the wrapped layer, and unfolded.
public final class TimeDistributed: MaskAware, TrainingAware {
    public let layer: any Layer

    public init(_ layer: any Layer) { self.layer = layer }

    public var namedParameters: [(name: String, variable: Variable)] { layer.namedParameters }

    public var isTraining: Bool {
        get { (layer as? TrainingAware)?.isTraining ?? false }
        set { (layer as? TrainingAware)?.isTraining = newValue }
    }

    public func useRandomStream(ofRank rank: Int) { (layer as? TrainingAware)?.useRandomStream(ofRank: rank) }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard input.rank >= 3, input.shape[0] > 0, input.shape[1] > 0 else {
            throw RecurrentError.shapeMismatch(
                operation: "TimeDistributed input", expected: "[batch, steps, ...]", got: input.shape)
        }
        let (batch, steps) = (input.shape[0], input.shape[1])
        let folded = try input.reshaped([batch * steps] + input.shape.dropFirst(2))
        let output = try layer(folded)
        return try output.reshaped([batch, steps] + output.shape.dropFirst())
    }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        (try self(input), mask)
    }
}
