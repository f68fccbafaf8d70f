/// Single-step cells for hand-written loops over time (PyTorch's `RNNCell`, `LSTMCell`,
/// `GRUCell`). Each step is built from ordinary autograd ops, so any loop trains; the
/// sequence layers compute the same function in one fused op per layer and direction.
///
/// Parameters use PyTorch's names and layout: `weight_ih` [G·H, I], `weight_hh` [G·H, H],
/// `bias_ih` and `bias_hh` [G·H]; PyTorch's initialisation, uniform in ±1/√H, by default.
public class RecurrentCell: Module {
    public let kind: CellKind
    public let inputSize: Int
    public let hiddenSize: Int
    public var weightIH: Variable
    public var weightHH: Variable
    public var biasIH: Variable?
    public var biasHH: Variable?

    /// What is wrong with the constructor's arguments, thrown at the first call.
    let configurationProblem: String?

    init(kind: CellKind, inputSize: Int, hiddenSize: Int, bias: Bool, seed: UInt64?, problem: String? = nil) {
        configurationProblem = problem ?? (inputSize > 0 && hiddenSize > 0 ? nil
            : "sizes must be positive, got input \(inputSize) and hidden \(hiddenSize)")
        let inputSize = max(inputSize, 0), hiddenSize = max(hiddenSize, 0)
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        var generator = seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split()
        let rows = kind.gateCount * hiddenSize
        func make(_ shape: [Int], _ name: String) -> Variable {
            Variable(
                Initializer.pytorchUniform.make(shape: shape, fanIn: hiddenSize, fanOut: rows, generator: &generator),
                requiresGrad: true, name: name)
        }
        weightIH = make([rows, inputSize], "weight_ih")
        weightHH = make([rows, hiddenSize], "weight_hh")
        biasIH = bias ? make([rows], "bias_ih") : nil
        biasHH = bias ? make([rows], "bias_hh") : nil
    }

    public var namedParameters: [(name: String, variable: Variable)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH), ("bias_ih", biasIH), ("bias_hh", biasHH)]
            .compactMap { name, v in v.map { (name, $0) } }
    }

    /// x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh, after checking shapes.
    func projections(_ x: Variable, _ h: Variable) throws -> (input: Variable, hidden: Variable) {
        if let configurationProblem { throw RecurrentError.invalidArgument("\(Self.self): \(configurationProblem)") }
        guard x.rank == 2, x.shape[1] == inputSize else {
            throw RecurrentError.shapeMismatch(
                operation: "\(Self.self) input", expected: "[batch, \(inputSize)]", got: x.shape)
        }
        guard h.shape == [x.shape[0], hiddenSize] else {
            throw RecurrentError.shapeMismatch(
                operation: "\(Self.self) state", expected: "[\(x.shape[0]), \(hiddenSize)]", got: h.shape)
        }
        var input = try x.matmul(weightIH, transposeOther: true)
        if let biasIH { input = try input + biasIH }
        var hidden = try h.matmul(weightHH, transposeOther: true)
        if let biasHH { hidden = try hidden + biasHH }
        return (input, hidden)
    }

    /// A zero state for a batch.
    public func zeroState(batch: Int) -> Variable { Variable(Tensor.zeros([batch, hiddenSize])) }
}

/// h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu).
public final class SimpleRNNCell: RecurrentCell {
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: ActivationFunction = .tanh,
                seed: UInt64? = nil) {
        super.init(kind: .simpleRNN(relu: nonlinearity == .relu), inputSize: inputSize, hiddenSize: hiddenSize,
                   bias: bias, seed: seed,
                   problem: nonlinearity == .tanh || nonlinearity == .relu ? nil : "nonlinearity must be tanh or relu")
    }

    public func callAsFunction(_ x: Variable, _ h: Variable? = nil) throws -> Variable {
        let (input, hidden) = try projections(x, h ?? zeroState(batch: x.shape.first ?? 0))
        let a = try input + hidden
        return kind == .simpleRNN(relu: true) ? a.relu() : a.tanh()
    }
}

/// Gates i, f, g, o; c' = f⊙c + i⊙g; h' = o⊙tanh(c').
public final class LSTMCell: RecurrentCell {
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, seed: UInt64? = nil) {
        super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, seed: seed)
    }

    public func callAsFunction(_ x: Variable, _ state: (h: Variable, c: Variable)? = nil) throws -> (h: Variable, c: Variable) {
        let batch = x.shape.first ?? 0
        let (h, c) = state ?? (zeroState(batch: batch), zeroState(batch: batch))
        guard c.shape == h.shape else {
            throw RecurrentError.shapeMismatch(operation: "LSTMCell cell state", expected: Shape.describe(h.shape), got: c.shape)
        }
        let (input, hidden) = try projections(x, h)
        let gates = try (try input + hidden).split(sizes: Array(repeating: hiddenSize, count: 4), axis: 1)
        let i = gates[0].sigmoid(), f = gates[1].sigmoid(), g = gates[2].tanh(), o = gates[3].sigmoid()
        let cNext = try (try f * c) + (try i * g)
        return (try o * cNext.tanh(), cNext)
    }
}

/// Gates r, z, n; h' = (1 − z)⊙n + z⊙h. `resetAfter: false` is the classic (Keras) form.
public final class GRUCell: RecurrentCell {
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, resetAfter: Bool = true, seed: UInt64? = nil) {
        super.init(kind: .gru(resetAfter: resetAfter), inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                   seed: seed)
    }

    public func callAsFunction(_ x: Variable, _ h: Variable? = nil) throws -> Variable {
        let h = h ?? zeroState(batch: x.shape.first ?? 0)
        let H = hiddenSize
        guard case .gru(let resetAfter) = kind else { preconditionFailure() }
        if resetAfter {
            let (input, hidden) = try projections(x, h)
            let xi = try input.split(sizes: [H, H, H], axis: 1), hh = try hidden.split(sizes: [H, H, H], axis: 1)
            let r = try (xi[0] + hh[0]).sigmoid(), z = try (xi[1] + hh[1]).sigmoid()
            let n = try (xi[2] + (try r * hh[2])).tanh()
            return try mix(z: z, n: n, h: h)
        }
        // Reset before the product: n uses (r⊙h)·W_hnᵀ.
        let (input, _) = try projections(x, h)
        let xi = try input.split(sizes: [H, H, H], axis: 1)
        let w = try weightHH.split(sizes: [2 * H, H], axis: 0)
        let b = try biasHH.map { try $0.split(sizes: [2 * H, H], axis: 0) }
        var rz = try h.matmul(w[0], transposeOther: true)
        if let b { rz = try rz + b[0] }
        let hrz = try rz.split(sizes: [H, H], axis: 1)
        let r = try (xi[0] + hrz[0]).sigmoid(), z = try (xi[1] + hrz[1]).sigmoid()
        var hn = try (try r * h).matmul(w[1], transposeOther: true)
        if let b { hn = try hn + b[1] }
        let n = try (xi[2] + hn).tanh()
        return try mix(z: z, n: n, h: h)
    }

    private func mix(z: Variable, n: Variable, h: Variable) throws -> Variable {
        // (1 − z)⊙n + z⊙h = n + z⊙(h − n)
        try n + (try z * (try h - n))
    }
}
