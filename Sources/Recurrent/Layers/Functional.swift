/// What a functional model is built from: an `Input`, or what a layer returned when called on one
/// (Keras's `KerasTensor`).
public protocol SymbolicValue {
    var symbol: SymbolicTensor { get }
}

/// The output of one call of a layer while a functional model is being built: its shape, the
/// layer, and the values it was called on. Calling a layer on one builds the layer (as in Keras)
/// by running one example of zeros through it, which also checks the shapes fit.
///
/// ```swift
/// let series = Input(shape: [10, 3], name: "series"), static_ = Input(shape: [4], name: "static")
/// let merged = try Concatenate()([try LSTM(units: 8)(series), try Dense(units: 8, activation: .relu)(static_)])
/// let model = try Model(inputs: [series, static_], outputs: try Dense(units: 1)(merged))
/// ```
public final class SymbolicTensor: SymbolicValue, CustomStringConvertible {
    /// One example's shape (no batch axis); nil for a free axis.
    public let shape: [Int?]
    let operation: FunctionalOperation
    let inputs: [SymbolicTensor]
    /// The operation's result on one example of zeros with each free axis 23, then 37, steps long
    /// (one probe when no axis is free): what the next layer is probed with.
    let probes: [(output: Variable, mask: Tensor?)]

    public var symbol: SymbolicTensor { self }

    init(input: Input) {
        operation = .input(input)
        inputs = []
        shape = input.shape
        let lengths = input.shape.contains(nil) ? [Sequential.probeSteps.0, Sequential.probeSteps.1] : [Sequential.probeSteps.0]
        probes = lengths.map { free in (Variable(Tensor.zeros([1] + input.shape.map { $0 ?? free })), nil) }
    }

    init(_ operation: FunctionalOperation, on inputs: [SymbolicTensor]) throws {
        self.operation = operation
        self.inputs = inputs
        let count = inputs.map(\.probes.count).max() ?? 1
        do {
            probes = try withoutGradients {
                try (0..<count).map { probe in try operation.apply(inputs.map { $0.probes[Swift.min(probe, $0.probes.count - 1)] }) }
            }
        } catch {
            let given = inputs.map { Shape.keras([nil] + $0.shape) }.joined(separator: ", ")
            throw RecurrentError.invalidArgument("\(operation.typeName) called on \(given): \(error)")
        }
        let shapes = probes.map { Array($0.output.shape.dropFirst()) }
        shape = shapes[0].indices.map { axis in shapes.allSatisfy { $0.count == shapes[0].count && $0[axis] == shapes[0][axis] } ? shapes[0][axis] : nil }
    }

    public var description: String { "<SymbolicTensor shape=\(Shape.keras([nil] + shape)), from \(operation.typeName)>" }
}

/// What a node of a functional model does.
enum FunctionalOperation {
    case input(Input)
    case layer(any Layer)
    case merge(any MergeLayer)

    var object: AnyObject {
        switch self {
        case .input(let input): return input
        case .layer(let layer): return layer
        case .merge(let merge): return merge
        }
    }

    var module: any Module {
        switch self {
        case .input(let input): return input
        case .layer(let layer): return layer
        case .merge(let merge): return merge
        }
    }

    /// As Keras's summary names the class.
    var typeName: String {
        switch self {
        case .input: return "InputLayer"
        case .layer(let layer): return Sequential.typeName(of: layer)
        case .merge(let merge): return String(describing: type(of: merge))
        }
    }

    func apply(_ values: [(output: Variable, mask: Tensor?)]) throws -> (output: Variable, mask: Tensor?) {
        switch self {
        case .input(let input): return (try input(values[0].output), nil)
        case .layer(let layer):
            if let aware = layer as? MaskAware { return try aware.call(values[0].output, mask: values[0].mask) }
            return (try layer(values[0].output), nil)
        case .merge(let merge):
            return (try merge(values.map(\.output)), try Self.intersection(values.compactMap(\.mask)))
        }
    }

    /// Keras's merged mask: a step is real where it is real in every input that has a mask.
    static func intersection(_ masks: [Tensor]) throws -> Tensor? {
        guard var result = masks.first else { return nil }
        for mask in masks.dropFirst() {
            guard mask.shape == result.shape else {
                throw RecurrentError.shapeMismatch(operation: "merged masks", expected: Shape.describe(result.shape), got: mask.shape)
            }
            result = Tensor.zipMap(result, mask) { $0 != 0 && $1 != 0 ? 1 : 0 }
        }
        return result
    }
}

extension Layer {
    /// Calls the layer on a value of a functional model under construction.
    public func callAsFunction(_ input: some SymbolicValue) throws -> SymbolicTensor {
        try SymbolicTensor(.layer(self), on: [input.symbol])
    }
}

extension Input: SymbolicValue {}

/// The graph of a functional model: its inputs, its output, and every node between them, with
/// the layers in Keras's order (by depth from the inputs, then by a depth-first walk from the output).
struct FunctionalGraph {
    let name: String
    let inputs: [Input]
    let output: SymbolicTensor
    /// Every node the output depends on, each after the nodes it takes.
    let nodes: [SymbolicTensor]
    /// The model's operations (inputs included) in Keras's `model.layers` order, with their names.
    let operations: [(name: String, operation: FunctionalOperation)]
    /// Whether Keras would print the summary without the "Connected to" column: a chain of single
    /// calls, no layer used twice.
    let sequentialLike: Bool

    init(name: String, inputs: [Input], output: SymbolicTensor) throws {
        self.name = name
        self.inputs = inputs
        self.output = output
        let inputIDs = Set(inputs.map { ObjectIdentifier($0) })
        guard inputIDs.count == inputs.count else {
            throw RecurrentError.invalidArgument("Model \"\(name)\": an input is listed twice")
        }
        // Depth-first from the output: visit order of operations, and nodes after their inputs.
        var postOrder: [SymbolicTensor] = [], visited = Set<ObjectIdentifier>(), visitOrder: [ObjectIdentifier: Int] = [:]
        func visit(_ node: SymbolicTensor) throws {
            let key = ObjectIdentifier(node)
            guard !visited.contains(key) else { return }
            visited.insert(key)
            let op = ObjectIdentifier(node.operation.object)
            if visitOrder[op] == nil { visitOrder[op] = visitOrder.count }
            if case .input(let input) = node.operation, !inputIDs.contains(ObjectIdentifier(input)) {
                throw RecurrentError.invalidArgument(
                    "Model \"\(name)\": the output depends on an Input of shape \(Shape.keras([nil] + input.shape))"
                        + "\(input.name.map { " (\"\($0)\")" } ?? "") that is not among the model's inputs")
            }
            for parent in node.inputs { try visit(parent) }
            postOrder.append(node)
        }
        try visit(output)
        nodes = postOrder
        for input in inputs where visitOrder[ObjectIdentifier(input)] == nil {
            throw RecurrentError.invalidArgument(
                "Model \"\(name)\": the output does not depend on the input of shape \(Shape.keras([nil] + input.shape))"
                    + "\(input.name.map { " (\"\($0)\")" } ?? "")")
        }
        // Keras's depths: a node is one deeper than the nodes it feeds; an operation is as deep as its deepest node.
        var nodeDepth: [ObjectIdentifier: Int] = [:], operationDepth: [ObjectIdentifier: Int] = [:]
        for node in postOrder.reversed() {
            let op = ObjectIdentifier(node.operation.object)
            let depth = Swift.max(nodeDepth[ObjectIdentifier(node), default: 0], operationDepth[op, default: 0])
            operationDepth[op] = depth
            nodeDepth[ObjectIdentifier(node)] = depth
            for parent in node.inputs {
                nodeDepth[ObjectIdentifier(parent)] = Swift.max(depth + 1, nodeDepth[ObjectIdentifier(parent), default: 0])
            }
        }
        var seen = Set<ObjectIdentifier>(), unique: [FunctionalOperation] = []
        for node in postOrder where seen.insert(ObjectIdentifier(node.operation.object)).inserted { unique.append(node.operation) }
        unique.sort { a, b in
            let (ka, kb) = (ObjectIdentifier(a.object), ObjectIdentifier(b.object))
            return operationDepth[ka]! != operationDepth[kb]! ? operationDepth[ka]! > operationDepth[kb]! : visitOrder[ka]! < visitOrder[kb]!
        }
        var names: [String] = []
        operations = unique.map { operation in
            let base: String
            if case .input(let input) = operation, let given = input.name { base = given } else {
                base = operation.typeName == "InputLayer" ? "input_layer" : Sequential.snakeCase(operation.typeName)
            }
            let name = Sequential.uniqueName(base, taken: names)
            names.append(name)
            return (name, operation)
        }
        let depths = Dictionary(grouping: postOrder, by: { nodeDepth[ObjectIdentifier($0)]! })
        sequentialLike = depths.values.allSatisfy { $0.count == 1 && $0[0].inputs.count <= 1 } && unique.count == postOrder.count
    }

    /// The model's layers with their names (inputs left out): its children.
    var layers: [(name: String, module: any Module)] {
        operations.compactMap { entry in
            if case .input = entry.operation { return nil }
            return (entry.name, entry.operation.module)
        }
    }

    /// The output for one batch per input; `firstInputMask` ([B, T]) masks the first input's padding.
    func run(_ values: [Variable], firstInputMask: Tensor? = nil) throws -> Variable {
        guard values.count == inputs.count else {
            throw RecurrentError.invalidArgument("Model \"\(name)\" takes \(inputs.count) inputs, got \(values.count)")
        }
        var results: [ObjectIdentifier: (output: Variable, mask: Tensor?)] = [:]
        for node in nodes {
            if case .input(let input) = node.operation {
                let index = inputs.firstIndex { $0 === input }!
                results[ObjectIdentifier(node)] = (try input(values[index]), index == 0 ? firstInputMask : nil)
            } else {
                results[ObjectIdentifier(node)] = try node.operation.apply(node.inputs.map { results[ObjectIdentifier($0)]! })
            }
        }
        return results[ObjectIdentifier(output)]!.output
    }

    /// For each node, which call of its operation it is (Keras's node index in "Connected to").
    var callIndex: [ObjectIdentifier: Int] {
        var counts: [ObjectIdentifier: Int] = [:], index: [ObjectIdentifier: Int] = [:]
        for node in nodes {
            let op = ObjectIdentifier(node.operation.object)
            index[ObjectIdentifier(node)] = counts[op, default: 0]
            counts[op, default: 0] += 1
        }
        return index
    }
}

extension Model {
    /// A functional model (`keras.Model(inputs, outputs)`): the layers between the inputs and the
    /// output, run in order on each call. `fit` and `predict` take one tensor per input, in order.
    public convenience init(inputs: [any SymbolicValue], outputs: some SymbolicValue, name: String = "functional") throws {
        self.init()
        let inputLayers = try inputs.map { value -> Input in
            guard case .input(let input) = value.symbol.operation else {
                throw RecurrentError.invalidArgument(
                    "Model \"\(name)\": its inputs must be Input values, got the output of \(value.symbol.operation.typeName)")
            }
            return input
        }
        graph = try FunctionalGraph(name: name, inputs: inputLayers, output: outputs.symbol)
    }

    /// A functional model of one input.
    public convenience init(inputs: Input, outputs: some SymbolicValue, name: String = "functional") throws {
        try self.init(inputs: [inputs], outputs: outputs, name: name)
    }
}
