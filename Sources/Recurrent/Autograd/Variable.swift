/// A node of the autograd graph: a tensor value, its gradient, and how it was computed.
///
/// Each differentiable op creates a `Variable` holding its inputs and a `backward` closure that
/// maps the gradient of the op's output to the gradients of its inputs (micrograd's design).
/// Gradients of leaf variables accumulate in `grad` across `backward()` calls, as PyTorch's
/// `.grad` does, until an optimizer or `zeroGradient()` clears them.
public final class Variable {
    public var value: Tensor
    /// The accumulated gradient of a leaf that requires gradients; nil until a backward pass reaches it.
    public var grad: Tensor?
    /// Whether gradients flow to (and, for a leaf, accumulate in) this variable.
    public let requiresGrad: Bool
    public var name: String?

    let inputs: [Variable]
    let backwardFunction: ((Tensor) throws -> [Tensor?])?
    /// For a result of an op with several results: the op's node and which result this is.
    private let producer: (op: Variable, index: Int)?
    /// For the node of an op with several results: its result count and backward, which maps
    /// all of their gradients at once to the inputs' gradients.
    private let results: (count: Int, backward: ([Tensor?]) throws -> [Tensor?])?

    /// A leaf: a constant input, or a trainable parameter when `requiresGrad`.
    public init(_ value: Tensor, requiresGrad: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
        inputs = []
        backwardFunction = nil
        producer = nil
        results = nil
    }

    private init(
        value: Tensor, inputs: [Variable], backward: ((Tensor) throws -> [Tensor?])?,
        producer: (op: Variable, index: Int)? = nil, results: (count: Int, backward: ([Tensor?]) throws -> [Tensor?])? = nil
    ) {
        self.value = value
        requiresGrad = true
        name = nil
        self.inputs = inputs
        backwardFunction = backward
        self.producer = producer
        self.results = results
    }

    /// Records an op's result. Without gradient mode, or when no input needs a gradient,
    /// the result is a constant and nothing is kept.
    public static func record(
        _ value: Tensor, inputs: [Variable], backward: @escaping (_ outputGradient: Tensor) throws -> [Tensor?]
    ) -> Variable {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else {
            return Variable(value)
        }
        return Variable(value: value, inputs: inputs, backward: backward)
    }

    /// Records an op with several results (a recurrent layer's outputs and final states). Its
    /// backward receives the gradients of all results at once, nil for a result that got none,
    /// and runs once, after every result's gradient is complete.
    public static func record(
        _ values: [Tensor], inputs: [Variable], backward: @escaping (_ outputGradients: [Tensor?]) throws -> [Tensor?]
    ) -> [Variable] {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else {
            return values.map { Variable($0) }
        }
        // The op's own node holds no value; its results are its only dependents.
        let op = Variable(value: Tensor.zeros([0]), inputs: inputs, backward: nil, results: (values.count, backward))
        return values.enumerated().map { i, value in
            Variable(value: value, inputs: [op], backward: nil, producer: (op, i))
        }
    }

    public var shape: [Int] { value.shape }
    public var rank: Int { value.rank }
    public var isLeaf: Bool { backwardFunction == nil && producer == nil && results == nil }

    /// Clears the accumulated gradient.
    public func zeroGradient() { grad = nil }

    /// Back-propagates from this variable. A scalar output gets the seed 1 by default;
    /// other outputs need an explicit `seed` of their own shape.
    ///
    /// `whenComplete` is called with each leaf as soon as its gradient is final — when the last
    /// op that used it has passed its gradient back — while the rest of the pass goes on (data-
    /// parallel training starts sending a layer's gradients then).
    public func backward(seed: Tensor? = nil, whenComplete: ((Variable) throws -> Void)? = nil) throws {
        let start: Tensor
        if let seed {
            guard seed.shape == value.shape else {
                throw RecurrentError.shapeMismatch(
                    operation: "backward seed", expected: Shape.describe(value.shape), got: seed.shape)
            }
            start = seed
        } else {
            guard value.count == 1 else {
                throw RecurrentError.invalidArgument(
                    "backward: output of shape \(Shape.describe(value.shape)) is not a scalar; pass a seed gradient")
            }
            start = Tensor(shape: value.shape, repeating: 1)
        }
        guard requiresGrad else {
            throw RecurrentError.invalidArgument(
                "backward: this value does not depend on any variable that requires gradients")
        }

        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        // The gradients of the results of multi-result ops, gathered until the op's node.
        var resultGradients: [ObjectIdentifier: [Tensor?]] = [:]
        let order = topologicalOrder()
        // How many uses of each leaf are still to pass their gradient back.
        var usesLeft: [ObjectIdentifier: Int] = [:]
        for node in order {
            for input in node.inputs where input.isLeaf && input.requiresGrad { usesLeft[ObjectIdentifier(input), default: 0] += 1 }
        }
        func accumulate(_ gradient: Tensor, into leaf: Variable) throws {
            leaf.grad = try leaf.grad.map { try $0 + gradient } ?? gradient
        }
        for node in order.reversed() {
            var inputGradients: [Tensor?] = []
            if let results = node.results {
                if let gathered = resultGradients.removeValue(forKey: ObjectIdentifier(node)) {
                    inputGradients = try results.backward(gathered)
                }
            } else if let gradient = gradients.removeValue(forKey: ObjectIdentifier(node)) {
                if let (op, index) = node.producer {
                    resultGradients[ObjectIdentifier(op), default: Array(repeating: nil, count: op.results!.count)][index] = gradient
                } else if let backward = node.backwardFunction {
                    inputGradients = try backward(gradient)
                } else {
                    try accumulate(gradient, into: node)   // the pass started at a leaf
                }
            }
            for (i, input) in node.inputs.enumerated() where input.requiresGrad {
                let key = ObjectIdentifier(input)
                if i < inputGradients.count, let inputGradient = inputGradients[i] {
                    guard inputGradient.shape == input.value.shape else {
                        preconditionFailure("gradient shape \(inputGradient.shape) for input of shape \(input.value.shape)")
                    }
                    gradients[key] = try gradients[key].map { try $0 + inputGradient } ?? inputGradient
                }
                // A leaf's gradient is final once its last use has passed back (or passed nothing).
                guard input.isLeaf, let left = usesLeft[key] else { continue }
                if left > 1 { usesLeft[key] = left - 1; continue }
                usesLeft[key] = nil
                guard let gradient = gradients.removeValue(forKey: key) else { continue }
                try accumulate(gradient, into: input)
                try whenComplete?(input)
            }
        }
    }

    /// Nodes that need gradients, each after all of its inputs.
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited: Set<ObjectIdentifier> = []
        // Iterative depth-first search: long unrolled graphs would overflow the stack.
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded {
                order.append(node)
                continue
            }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}

/// Whether operations record the graph for backpropagation.
public enum GradientMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording gradients (PyTorch's `torch.no_grad()`), e.g. for inference.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isEnabled.withValue(false) { try body() }
}
