import Foundation

/// The base class of models, as `nn.Module` and `keras.Model` subclasses are: declare layers as
/// stored properties and override `callAsFunction`. The properties are found by reflection, so
/// parameters get PyTorch's dotted names (`embedding.weight`, `lstm.weight_ih_l0`, `fc.bias`)
/// and a PyTorch `state_dict` loads by name.
///
/// ```swift
/// final class Seq2Seq: Model {
///     let encoder = GRU(inputSize: 4, hiddenSize: 12, batchFirst: true)
///     let decoder = GRU(inputSize: 3, hiddenSize: 12, batchFirst: true)
///     let head = Dense(inputSize: 12, units: 3, initializer: .pytorch)
///     override func callAsFunction(_ inputs: [Variable]) throws -> Variable {
///         let (_, state) = try encoder.forward(inputs[0])
///         return try head(decoder.forward(inputs[1], state).output)
///     }
/// }
/// ```
/// A model with several inputs overrides `callAsFunction(_: [Variable])`; `fit` and `predict`
/// then take one tensor per input.
open class Model: Layer, TrainingAware {
    /// Set by `compile`.
    public internal(set) var compiled: CompiledSettings?
    /// A callback sets it to end `fit` after the current epoch.
    public var stopTraining = false
    /// Where `fit` and `evaluate` print their progress; standard output by default.
    public var progressWriter: (String) -> Void = { text in
        print(text, terminator: "")
        fflush(nil)
    }

    /// Set by `Model(inputs:outputs:)`: the layers of a functional model.
    var graph: FunctionalGraph?
    /// Where a `fit` in progress stands, for callbacks that back it up and resume it.
    var fitProgress: FitProgress?
    /// False on the ranks of a data-parallel `fit` other than 0: callbacks that write files
    /// (checkpoints, logs, backups) leave them to rank 0.
    public internal(set) var isPrimaryProcess = true

    public init() {}

    /// The sub-modules, in declaration order, named by their properties. Arrays of modules are
    /// named `name.0`, `name.1`, … as PyTorch's `ModuleList` is. Override to name them otherwise.
    open var children: [(name: String, module: any Module)] {
        if let graph { return graph.layers }
        var found: [(String, any Module)] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror, m.subjectType != Model.self {
            levels.insert(m, at: 0)
            mirror = m.superclassMirror
        }
        for level in levels {
            for child in level.children {
                guard let label = child.label.map(Self.propertyName) else { continue }
                if let module = child.value as? any Module {
                    found.append((label, module))
                } else if let modules = child.value as? [any Module] {
                    found += modules.enumerated().map { ("\(label).\($0.offset)", $0.element) }
                }
            }
        }
        return found
    }

    /// `lazy var x` is stored as `$__lazy_storage_$_x`.
    private static func propertyName(_ label: String) -> String {
        label.hasPrefix("$__lazy_storage_$_") ? String(label.dropFirst("$__lazy_storage_$_".count)) : label
    }

    open var namedParameters: [(name: String, variable: Variable)] {
        children.flatMap { child in child.module.namedParameters.map { ("\(child.name).\($0.name)", $0.variable) } }
    }

    /// The model's function of one input. Subclasses override this or the many-input form.
    open func callAsFunction(_ input: Variable) throws -> Variable {
        if let graph { return try graph.run([input]) }
        return try forwardingToOtherForm { try self([input]) }
    }

    /// The model's function of several inputs; by default, the one-input form.
    open func callAsFunction(_ inputs: [Variable]) throws -> Variable {
        if let graph { return try graph.run(inputs) }
        guard inputs.count == 1 else {
            throw RecurrentError.invalidArgument("\(type(of: self)) takes one input, got \(inputs.count)")
        }
        return try forwardingToOtherForm { try self(inputs[0]) }
    }

    /// Set while one default form calls the other: if that comes back, neither was overridden.
    private var forwarding = false

    private func forwardingToOtherForm(_ body: () throws -> Variable) throws -> Variable {
        guard !forwarding else {
            throw RecurrentError.invalidArgument(
                "\(type(of: self)) must override callAsFunction(_ input: Variable) or callAsFunction(_ inputs: [Variable])")
        }
        forwarding = true
        defer { forwarding = false }
        return try body()
    }

    /// Training mode for every sub-layer that has one (dropout on): PyTorch's `train()` / `eval()`.
    open var isTraining: Bool {
        get { trainingMode }
        set {
            trainingMode = newValue
            for child in children { (child.module as? TrainingAware)?.isTraining = newValue }
        }
    }
    private var trainingMode = false

    open func useRandomStream(ofRank rank: Int) {
        for child in children { (child.module as? TrainingAware)?.useRandomStream(ofRank: rank) }
    }

    /// PyTorch's `model.train()`.
    public func train() { isTraining = true }
    /// PyTorch's `model.eval()`.
    public func eval() { isTraining = false }
}
