// Tensor creation with PyTorch's names: `randn`, `rand`, `randint`, `zeros`, `ones`,
// `arange`, `tensor` from nested Swift arrays (the shape inferred), and `manualSeed`. The random ones
// draw from the library's global stream (the one layers initialise from), which `manualSeed`
// resets; it is not PyTorch's generator, so the same seed gives other numbers than torch.

/// Nested Swift arrays of Float, Double or Int (`[[[1, 2], [3, 4]]]`) as tensor data: the shape is read from the
/// nesting, and every array at one depth must have the same length.
public protocol TensorData {
    /// The shape of this value (empty for a scalar).
    var tensorShape: [Int] { get }
    /// Appends the elements in row-major order, after checking that every array at one depth
    /// has the length `shape` says (`path` names the position for the error).
    func appendScalars(to scalars: inout [Float], shape: ArraySlice<Int>, path: [Int]) throws
}

extension Float: TensorData {
    public var tensorShape: [Int] { [] }
    public func appendScalars(to scalars: inout [Float], shape: ArraySlice<Int>, path: [Int]) throws {
        scalars.append(self)
    }
}

extension Int: TensorData {
    public var tensorShape: [Int] { [] }
    public func appendScalars(to scalars: inout [Float], shape: ArraySlice<Int>, path: [Int]) throws {
        scalars.append(Float(self))
    }
}

extension Double: TensorData {
    public var tensorShape: [Int] { [] }
    public func appendScalars(to scalars: inout [Float], shape: ArraySlice<Int>, path: [Int]) throws {
        scalars.append(Float(self))
    }
}

extension Array: TensorData where Element: TensorData {
    public var tensorShape: [Int] { [count] + (first?.tensorShape ?? []) }
    public func appendScalars(to scalars: inout [Float], shape: ArraySlice<Int>, path: [Int]) throws {
        guard count == shape.first else {
            let position = path.isEmpty ? "the outermost array" : "the array at \(path)"
            throw RecurrentError.invalidArgument(
                "Tensor: \(position) has \(count) elements where its siblings have \(shape.first ?? 0) (ragged nesting)")
        }
        for (i, element) in enumerated() {
            try element.appendScalars(to: &scalars, shape: shape.dropFirst(), path: path + [i])
        }
    }
}

extension Tensor {
    /// A tensor from nested arrays, its shape read from the nesting, as `torch.tensor(...)`:
    /// `Tensor.tensor([[[1, 2], [3, 4]]])` has shape [1, 2, 2].
    public static func tensor<Data: TensorData>(_ data: Data) throws -> Tensor {
        let shape = data.tensorShape
        var scalars: [Float] = []
        scalars.reserveCapacity(Shape.count(shape))
        try data.appendScalars(to: &scalars, shape: shape[...], path: [])
        return try Tensor(shape: shape, scalars: scalars)
    }

    /// Standard normal draws (`torch.randn(32, 50, 100)`).
    public static func randn(_ shape: Int...) -> Tensor {
        GlobalGenerator.shared.draw { randomNormal(shape, generator: &$0) }
    }

    /// Uniform draws from [0, 1) (`torch.rand`).
    public static func rand(_ shape: Int...) -> Tensor {
        GlobalGenerator.shared.draw { randomUniform(shape, generator: &$0) }
    }

    /// Integers drawn uniformly from low ..< high, as Float values (`torch.randint(low, high,
    /// (n,))`).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int]) throws -> Tensor {
        guard high > low else {
            throw RecurrentError.invalidArgument("randint: high \(high) must be above low \(low)")
        }
        return try GlobalGenerator.shared.draw { generator in
            try Tensor(shape: shape, scalars: (0..<Shape.count(shape)).map { _ in Float(Int.random(in: low..<high, using: &generator)) })
        }
    }

    /// Zeros (`torch.zeros(2, 3)`).
    public static func zeros(_ shape: Int...) -> Tensor { zeros(shape) }

    /// Ones (`torch.ones(2, 3)`).
    public static func ones(_ shape: Int...) -> Tensor { ones(shape) }

    /// 0, 1, … below end (`torch.arange(end)`).
    public static func arange(_ end: Float) throws -> Tensor { try arange(0, end) }

    /// start, start + step, … below end (above it for a negative step), as `torch.arange`.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw RecurrentError.invalidArgument("arange: start \(start), end \(end) and step \(step) must be finite, step non-zero")
        }
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }
}

/// Seeds the global random stream that layers initialise from and `randn` / `rand` /
/// `randint` draw from (PyTorch's `torch.manual_seed`; the numbers differ from torch's).
public func manualSeed(_ seed: UInt64) { setRandomSeed(seed) }
