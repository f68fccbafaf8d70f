/// One time step of a sequence, without the time axis: PyTorch's `output[:, -1, :]` when
/// batch-first ([B, T, F] → [B, F]) or `output[-1]` when time-major ([T, B, F] → [B, F]).
/// A negative index counts from the end.
public final class SelectTimeStep: Layer {
    public let index: Int
    public let batchFirst: Bool

    public init(_ index: Int = -1, batchFirst: Bool = true) {
        self.index = index
        self.batchFirst = batchFirst
    }

    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        let axis = batchFirst ? 1 : 0
        guard input.rank >= 2 else {
            throw RecurrentError.shapeMismatch(
                operation: "SelectTimeStep", expected: batchFirst ? "[batch, time, ...]" : "[time, batch, ...]", got: input.shape)
        }
        let steps = input.shape[axis]
        let step = index < 0 ? steps + index : index
        guard (0..<steps).contains(step) else {
            throw RecurrentError.invalidArgument("SelectTimeStep: step \(index) of a sequence of \(steps) steps")
        }
        return batchFirst ? try input.swappingFirstTwoAxes().selecting(step) : try input.selecting(step)
    }
}
