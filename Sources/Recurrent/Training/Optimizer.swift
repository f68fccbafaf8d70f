/// Updates parameters from their accumulated gradients.
///
/// Usage is PyTorch's loop: `optimizer.zeroGradients()`, forward, `loss.backward()`,
/// `optimizer.step()`. Default hyperparameters are Keras's; the update rules are PyTorch's
/// (they agree with Keras's to within the placement of epsilon). Parameters without a
/// gradient are skipped, as in PyTorch.
public class Optimizer {
    /// The parameters updated by `step()`; state is kept per parameter object.
    public var parameters: [Variable]
    public var learningRate: Float
    /// Clip each gradient element to ±clipValue before the update (Keras `clipvalue`).
    public var clipValue: Float?
    /// Rescale all gradients together to at most this global L2 norm (Keras `global_clipnorm`,
    /// PyTorch `clip_grad_norm_`).
    public var clipNorm: Float?
    /// Number of `step()` calls so far.
    public private(set) var iterations = 0
    private var state: [ObjectIdentifier: [Tensor]] = [:]

    init(parameters: [Variable], learningRate: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// Applies one update to every parameter that has a gradient.
    public func step() throws {
        guard learningRate.isFinite, learningRate >= 0 else {
            throw RecurrentError.invalidArgument("optimizer: learning rate must be finite and ≥ 0, got \(learningRate)")
        }
        if let clipValue { clipGradientValues(parameters, maximum: clipValue) }
        if let clipNorm { try clipGradientNorm(parameters, maximumNorm: clipNorm) }
        iterations += 1
        for parameter in parameters {
            guard let gradient = parameter.grad else { continue }
            guard gradient.shape == parameter.value.shape else {
                throw RecurrentError.shapeMismatch(
                    operation: "optimizer step for \(parameter.name ?? "parameter")",
                    expected: Shape.describe(parameter.value.shape), got: gradient.shape)
            }
            let key = ObjectIdentifier(parameter)
            var slots = state[key] ?? (0..<stateSlots).map { _ in initialState(like: parameter.value) }
            update(&parameter.value, gradient: gradient, state: &slots, step: iterations)
            state[key] = slots
        }
    }

    /// The optimizer's state for a checkpoint: each parameter's slots as `"<index>.<slot>"`
    /// (the index into `parameters`), and the step count as `"iterations"`.
    public func stateDict() -> [String: Tensor] {
        var tensors = ["iterations": Tensor([Float(iterations)])]
        for (index, parameter) in parameters.enumerated() {
            for (slot, tensor) in (state[ObjectIdentifier(parameter)] ?? []).enumerated() {
                tensors["\(index).\(slot)"] = tensor
            }
        }
        return tensors
    }

    /// Restores what `stateDict()` gave, for the same parameters in the same order.
    public func loadStateDict(_ tensors: [String: Tensor]) throws {
        guard let count = tensors["iterations"]?.scalars.first, count >= 0, count == count.rounded() else {
            throw RecurrentError.invalidArgument("optimizer state: no valid \"iterations\" entry")
        }
        var restored: [ObjectIdentifier: [Tensor]] = [:]
        for (index, parameter) in parameters.enumerated() {
            let slots = (0..<stateSlots).compactMap { tensors["\(index).\($0)"] }
            if slots.isEmpty { continue }
            guard slots.count == stateSlots, slots.allSatisfy({ $0.shape == parameter.value.shape }) else {
                throw RecurrentError.invalidArgument(
                    "optimizer state: parameter \(index) (\(parameter.name ?? "unnamed")) needs \(stateSlots) slots of shape "
                        + Shape.describe(parameter.value.shape))
            }
            restored[ObjectIdentifier(parameter)] = slots
        }
        state = restored
        iterations = Int(count)
    }

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }

    // MARK: To override

    /// Number of state tensors per parameter (momentum, second moment, …).
    var stateSlots: Int { 0 }
    func initialState(like parameter: Tensor) -> Tensor { Tensor.zeros(parameter.shape) }
    /// Updates `parameter` in place; `step` counts from 1.
    func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        fatalError("Optimizer subclasses implement update")
    }
}

/// Runs `body` over raw buffers of a parameter, its gradient and its state tensors.
func withBuffers(
    _ parameter: inout Tensor, _ gradient: Tensor, _ state: inout [Tensor],
    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>, [UnsafeMutableBufferPointer<Float>]) -> Void
) {
    // Every pointer is used only inside the closure that lends it: the (at most three) state
    // tensors are moved out of the array, so that their closures nest without overlapping
    // accesses to it, and moved back afterwards.
    precondition(state.count <= 3, "an optimizer keeps at most three state tensors per parameter")
    func take(_ i: Int) -> Tensor {
        var t = Tensor.zeros([0])
        if i < state.count { swap(&t, &state[i]) }
        return t
    }
    var (s0, s1, s2) = (take(0), take(1), take(2))
    defer {
        for (i, t) in [s0, s1, s2].enumerated() where i < state.count { state[i] = t }
    }
    let count = state.count
    s0.withUnsafeMutableBufferPointer { a in
        s1.withUnsafeMutableBufferPointer { b in
            s2.withUnsafeMutableBufferPointer { c in
                gradient.withUnsafeBufferPointer { g in
                    parameter.withUnsafeMutableBufferPointer { p in body(p, g, Array([a, b, c].prefix(count))) }
                }
            }
        }
    }
}
