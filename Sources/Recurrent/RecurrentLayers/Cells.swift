/// Single-step cells for hand-written loops over time (PyTorch's `RNNCell`, `LSTMCell`,
/// `GRUCell`). Each step is built from ordinary autograd ops (`CellStep`), so any loop trains;
/// the sequence layers compute the same function in one fused op per layer and direction.
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

    /// The cell's weights as `CellStep` takes them, after checking the shapes of x and h.
    func parameters(_ x: Variable, _ h: Variable) throws -> DirectionParameters {
        if let configurationProblem { throw RecurrentError.invalidArgument("\(Self.self): \(configurationProblem)") }
        guard x.rank == 2, x.shape[1] == inputSize else {
            throw RecurrentError.shapeMismatch(
                operation: "\(Self.self) input", expected: "[batch, \(inputSize)]", got: x.shape)
        }
        guard h.shape == [x.shape[0], hiddenSize] else {
            throw RecurrentError.shapeMismatch(
                operation: "\(Self.self) state", expected: "[\(x.shape[0]), \(hiddenSize)]", got: h.shape)
        }
        return DirectionParameters(weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH, weightHR: nil)
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
        let h = h ?? zeroState(batch: x.shape.first ?? 0)
        return try CellStep.simpleRNN(try parameters(x, h), x, h, activation: kind == .simpleRNN(relu: true) ? .relu : .tanh)
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
        return try CellStep.lstm(try parameters(x, h), x, h, c)
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
        guard case .gru(let resetAfter) = kind else { preconditionFailure() }
        return try CellStep.gru(try parameters(x, h), x, h, resetAfter: resetAfter)
    }
}

// MARK: The cells' math in autograd ops
//
// One step of each cell, written once: the cells above call it, and unrolled over time
// (UnrolledSequence.swift) it is the oracle the tests hold the sweep to. The kernels
// (Sources/CRecurrentKernels/cell_kernels.h) are the only other rendering of these equations.

/// Keras's per-gate dropout masks for one sequence, constant over its steps: gate g's product
/// takes x ⊙ input[g] ([B, I]) and h ⊙ recurrent[g] ([B, S]).
public struct GateMasks {
    var input: [Variable]? = nil
    var recurrent: [Variable]? = nil

    public init() {}

    init(input: [Variable]?, recurrent: [Variable]?) {
        self.input = input
        self.recurrent = recurrent
    }
}

/// Sees a step's intermediate values by name: "a" (SimpleRNN's pre-activation), "i", "f", "g",
/// "o", "c" (LSTM), "r", "z", "n" (GRU). The unroller reads the gates through it.
public typealias CellObserver = (_ name: String, _ value: Variable) -> Void

public enum CellStep {
    /// h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).
    public static func simpleRNN(
        _ p: DirectionParameters, _ x: Variable, _ h: Variable, activation: ActivationFunction, masks: GateMasks = GateMasks(),
        observe: CellObserver? = nil
    ) throws -> Variable {
        let input = try side(x, p.weightIH, p.biasIH, gates: 1, masks: masks.input)
        let hidden = try side(h, p.weightHH, p.biasHH, gates: 1, masks: masks.recurrent)
        let a = try input[0] + hidden[0]
        observe?("a", a)
        return try activation(a)
    }

    /// Gates i, f, g, o; c' = f⊙c + i⊙g; h' = o⊙act(c'), projected by W_hr when there is one.
    public static func lstm(
        _ p: DirectionParameters, _ x: Variable, _ h: Variable, _ c: Variable, activation: ActivationFunction = .tanh,
        recurrentActivation: ActivationFunction = .sigmoid, masks: GateMasks = GateMasks(), observe: CellObserver? = nil
    ) throws -> (h: Variable, c: Variable) {
        let input = try side(x, p.weightIH, p.biasIH, gates: 4, masks: masks.input)
        let hidden = try side(h, p.weightHH, p.biasHH, gates: 4, masks: masks.recurrent)
        let a = try (0..<4).map { try input[$0] + hidden[$0] }
        let i = try recurrentActivation(a[0]), f = try recurrentActivation(a[1])
        let g = try activation(a[2]), o = try recurrentActivation(a[3])
        let cNext = try (try f * c) + (try i * g)
        if let observe { for (name, value) in [("i", i), ("f", f), ("g", g), ("o", o), ("c", cNext)] { observe(name, value) } }
        var hNext = try o * activation(cNext)
        if let weightHR = p.weightHR { hNext = try hNext.matmul(weightHR, transposeOther: true) }
        return (hNext, cNext)
    }

    /// Gates r, z, n; h' = (1 − z)⊙n + z⊙h, with n = act(x_n + r⊙(h·W_hnᵀ + b_hn)) (reset
    /// after) or act(x_n + (r⊙h)·W_hnᵀ + b_hn) (reset before, the classic form).
    public static func gru(
        _ p: DirectionParameters, _ x: Variable, _ h: Variable, resetAfter: Bool, activation: ActivationFunction = .tanh,
        recurrentActivation: ActivationFunction = .sigmoid, masks: GateMasks = GateMasks(), observe: CellObserver? = nil
    ) throws -> Variable {
        let H = p.weightHH.shape[1]
        let input = try side(x, p.weightIH, p.biasIH, gates: 3, masks: masks.input)
        let n: Variable, r: Variable, z: Variable
        if resetAfter {
            let hidden = try side(h, p.weightHH, p.biasHH, gates: 3, masks: masks.recurrent)
            r = try recurrentActivation(try input[0] + hidden[0])
            z = try recurrentActivation(try input[1] + hidden[1])
            n = try activation(try input[2] + (try r * hidden[2]))
        } else {
            let w = try p.weightHH.split(sizes: [2 * H, H], axis: 0)
            let b = try p.biasHH.map { try $0.split(sizes: [2 * H, H], axis: 0) }
            let hidden = try side(h, w[0], b?[0], gates: 2, masks: masks.recurrent.map { Array($0.prefix(2)) })
            r = try recurrentActivation(try input[0] + hidden[0])
            z = try recurrentActivation(try input[1] + hidden[1])
            var reset = try r * h
            if let m = masks.recurrent { reset = try reset * m[2] }
            var candidate = try reset.matmul(w[1], transposeOther: true)
            if let b { candidate = try candidate + b[1] }
            n = try activation(try input[2] + candidate)
        }
        if let observe { for (name, value) in [("r", r), ("z", z), ("n", n)] { observe(name, value) } }
        // (1 − z)⊙n + z⊙h = n + z⊙(h − n)
        return try n + (try z * (try h - n))
    }

    /// v·W_gᵀ + b_g for each of `gates` gate blocks of W (rows g·H ..< (g+1)·H), [B, H] each;
    /// with masks, gate g's product takes v ⊙ masks[g].
    private static func side(
        _ v: Variable, _ w: Variable, _ b: Variable?, gates: Int, masks: [Variable]?
    ) throws -> [Variable] {
        let sizes = Array(repeating: w.shape[0] / gates, count: gates)
        guard let masks else {
            var a = try v.matmul(w, transposeOther: true)
            if let b { a = try a + b }
            return gates == 1 ? [a] : try a.split(sizes: sizes, axis: 1)
        }
        let ws = try w.split(sizes: sizes, axis: 0), bs = try b?.split(sizes: sizes, axis: 0)
        return try (0..<gates).map { g in
            let a = try (try v * masks[g]).matmul(ws[g], transposeOther: true)
            return try bs.map { try a + $0[g] } ?? a
        }
    }
}
