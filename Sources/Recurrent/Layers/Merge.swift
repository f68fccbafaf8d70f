/// A layer that combines several values of the same batch into one (Keras's merge layers). In
/// a functional model it takes a list: `Concatenate()([a, b])`.
public protocol MergeLayer: Module {
    func callAsFunction(_ inputs: [Variable]) throws -> Variable
}

extension MergeLayer {
    public var namedParameters: [(name: String, variable: Variable)] { [] }

    public func callAsFunction(_ inputs: [Tensor]) throws -> Tensor {
        try self(inputs.map { Variable($0) }).value
    }

    /// Merges values of a functional model under construction.
    public func callAsFunction(_ inputs: [any SymbolicValue]) throws -> SymbolicTensor {
        try SymbolicTensor(.merge(self), on: inputs.map(\.symbol))
    }
}

/// Joins its inputs along an axis, the last by default (`keras.layers.Concatenate`): the other
/// axes must agree.
public final class Concatenate: MergeLayer {
    public let axis: Int

    public init(axis: Int = -1) { self.axis = axis }

    public func callAsFunction(_ inputs: [Variable]) throws -> Variable {
        guard inputs.count >= 2, let rank = inputs.first?.rank, axis >= -rank, axis < rank else {
            throw RecurrentError.invalidArgument(
                "Concatenate(axis: \(axis)): needs at least two inputs of rank above \(axis < 0 ? -axis - 1 : axis), "
                    + "got \(inputs.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        let along = axis < 0 ? axis + rank : axis
        let fits = inputs.allSatisfy { v in
            v.rank == rank && v.shape.indices.allSatisfy { $0 == along || v.shape[$0] == inputs[0].shape[$0] }
        }
        guard fits else {
            throw RecurrentError.invalidArgument(
                "Concatenate(axis: \(axis)): every axis but \(along) must agree, "
                    + "got \(inputs.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        return try Variable.concatenate(inputs, axis: along)
    }
}

/// A merge that combines inputs of one shape element by element.
public protocol ElementwiseMerge: MergeLayer {
    func combine(_ a: Variable, _ b: Variable) throws -> Variable
    /// The result from the combination of `count` inputs (the combination itself by default).
    func finish(_ combined: Variable, count: Int) -> Variable
}

extension ElementwiseMerge {
    public func finish(_ combined: Variable, count: Int) -> Variable { combined }

    public func callAsFunction(_ inputs: [Variable]) throws -> Variable {
        guard inputs.count >= 2, inputs.allSatisfy({ $0.shape == inputs[0].shape }) else {
            throw RecurrentError.invalidArgument(
                "\(type(of: self)): needs at least two inputs of one shape, "
                    + "got \(inputs.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        return finish(try inputs.dropFirst().reduce(inputs[0]) { try combine($0, $1) }, count: inputs.count)
    }
}

/// The sum of its inputs (`keras.layers.Add`), e.g. a residual connection.
public final class Add: ElementwiseMerge {
    public init() {}
    public func combine(_ a: Variable, _ b: Variable) throws -> Variable { try a + b }
}

/// The element-wise product of its inputs (`keras.layers.Multiply`).
public final class Multiply: ElementwiseMerge {
    public init() {}
    public func combine(_ a: Variable, _ b: Variable) throws -> Variable { try a * b }
}

/// The mean of its inputs (`keras.layers.Average`).
public final class Average: ElementwiseMerge {
    public init() {}
    public func combine(_ a: Variable, _ b: Variable) throws -> Variable { try a + b }
    public func finish(_ combined: Variable, count: Int) -> Variable { combined * (1 / Float(count)) }
}

/// The first input minus the second (`keras.layers.Subtract`).
public final class Subtract: MergeLayer {
    public init() {}

    public func callAsFunction(_ inputs: [Variable]) throws -> Variable {
        guard inputs.count == 2, inputs[0].shape == inputs[1].shape else {
            throw RecurrentError.invalidArgument(
                "Subtract: needs two inputs of one shape, got \(inputs.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        return try inputs[0] - inputs[1]
    }
}
