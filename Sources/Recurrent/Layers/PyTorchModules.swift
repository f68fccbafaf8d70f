// The `torch.nn` names a PyTorch user writes from memory, each a thin name over the one
// implementation: `Linear`, `RNNCell`, `ModuleList`, `ReLU`/`Tanh`/`Sigmoid`, the loss modules
// with PyTorch's mean reduction, and `noGrad`. (`LSTM`, `GRU`, `Embedding`, `Dropout`,
// `LSTMCell`, `GRUCell`, `LayerNorm` already carry PyTorch's names; `Model` is `nn.Module`,
// `Sequential(a, b, c)` is `nn.Sequential`.)

/// `nn.Linear`: `Linear(20, 1)` is `Dense(inputSize: 20, units: 1, initializer: .pytorch)`.
public typealias Linear = Dense

extension Dense {
    /// PyTorch face: `nn.Linear(in_features, out_features, bias)`, PyTorch's initialisation.
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, seed: UInt64? = nil) {
        self.init(inputSize: inFeatures, units: outFeatures, useBias: bias, initializer: .pytorch, seed: seed)
    }
}

/// `nn.RNNCell` (tanh or relu).
public typealias RNNCell = SimpleRNNCell

extension SimpleRNNCell {
    /// `nn.RNNCell(input_size, hidden_size, bias, nonlinearity)`.
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, nonlinearity: ActivationFunction = .tanh) {
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, nonlinearity: nonlinearity)
    }
}

extension LSTMCell {
    /// `nn.LSTMCell(input_size, hidden_size, bias)`.
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias)
    }
}

extension GRUCell {
    /// `nn.GRUCell(input_size, hidden_size, bias)`.
    public convenience init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias)
    }
}

/// `nn.ModuleList`: modules in order, named `0`, `1`, … inside the model (`cells.0.weight_ih`).
/// A plain array of modules as a model property is named the same way.
public final class ModuleList<Element: Module>: Module, RandomAccessCollection, CustomStringConvertible {
    public private(set) var modules: [Element]

    public init(_ modules: [Element] = []) { self.modules = modules }

    public func append(_ module: Element) { modules.append(module) }

    public var startIndex: Int { modules.startIndex }
    public var endIndex: Int { modules.endIndex }
    public subscript(position: Int) -> Element { modules[position] }

    public var namedParameters: [(name: String, variable: Variable)] {
        modules.enumerated().flatMap { index, module in module.namedParameters.map { ("\(index).\($0.name)", $0.variable) } }
    }

    /// PyTorch's repr, which folds a run of equal entries into one line (`(0-2): 3 x Linear(…)`).
    public var description: String { moduleListDescription(modules) }
}

/// PyTorch's repr of a `ModuleList` (also what an array property of a model prints).
func moduleListDescription(_ modules: [any Module]) -> String {
    guard !modules.isEmpty else { return "ModuleList()" }
    var runs: [(first: Int, last: Int, text: String)] = []
    for (index, module) in modules.enumerated() {
        let text = String(describing: module)
        if let last = runs.last, last.text == text { runs[runs.count - 1].last = index } else { runs.append((index, index, text)) }
    }
    let lines = runs.map { run in
        (run.first == run.last ? "(\(run.first)): " : "(\(run.first)-\(run.last)): \(run.last - run.first + 1) x ") + run.text
    }
    return "ModuleList(\n  " + lines.map { $0.replacingOccurrences(of: "\n", with: "\n  ") }.joined(separator: "\n  ") + "\n)"
}

/// An element-wise activation as a module of its own (PyTorch's `nn.ReLU()`, `nn.Tanh()`,
/// `nn.Sigmoid()`), for `Sequential`; it passes a mask on.
public protocol ActivationModule: MaskAware, CustomStringConvertible {
    static var function: ActivationFunction { get }
}

extension ActivationModule {
    public var namedParameters: [(name: String, variable: Variable)] { [] }
    public func callAsFunction(_ input: Variable) throws -> Variable { try Self.function(input) }
    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) { (try self(input), mask) }
    public var description: String { "\(type(of: self))()" }
}

public final class ReLU: ActivationModule {
    public init() {}
    public static let function = ActivationFunction.relu
}

public final class Tanh: ActivationModule {
    public init() {}
    public static let function = ActivationFunction.tanh
}

public final class Sigmoid: ActivationModule {
    public init() {}
    public static let function = ActivationFunction.sigmoid
}

/// `nn.CrossEntropyLoss()`: logits [N, C] (or [..., C]) against class indices, mean over rows.
public struct CrossEntropyLoss: Sendable {
    public init() {}
    public func callAsFunction(_ input: Variable, _ target: Tensor) throws -> Variable { try Loss.crossEntropy(input, target) }
}

/// `nn.MSELoss()`: mean of squared differences.
public struct MSELoss: Sendable {
    public init() {}
    public func callAsFunction(_ input: Variable, _ target: Tensor) throws -> Variable { try Loss.meanSquaredError(input, target) }
}

/// `nn.BCEWithLogitsLoss()`: binary cross-entropy of logits against targets in [0, 1], mean.
public struct BCEWithLogitsLoss: Sendable {
    public init() {}
    public func callAsFunction(_ input: Variable, _ target: Tensor) throws -> Variable {
        try Loss.binaryCrossEntropy(fromLogits: true)(input, target)
    }
}

/// Runs `body` without recording gradients: PyTorch's `with torch.no_grad():`.
public func noGrad<R>(_ body: () throws -> R) rethrows -> R { try withoutGradients(body) }
