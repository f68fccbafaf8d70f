import Foundation

/// An n-dimensional array of Float32: contiguous, row-major, with value semantics.
///
/// Storage is 64-byte aligned and shared between copies until one of them is mutated
/// (copy-on-write), so passing tensors around is cheap.
public struct Tensor: Sendable {
    var storage: TensorStorage
    /// The extent of each axis; `[]` is a scalar.
    public private(set) var shape: [Int]

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of axes.
    public var rank: Int { shape.count }

    init(storage: TensorStorage, shape: [Int]) {
        precondition(Shape.count(shape) == storage.count, "storage does not fit shape")
        self.storage = storage
        self.shape = shape
    }

    /// A tensor of `shape` with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        storage = TensorStorage(count: Shape.count(shape))
        self.shape = shape
        storage.pointer.initialize(repeating: value, count: storage.count)
    }

    /// A tensor from its elements in row-major order.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw RecurrentError.invalidArgument("Tensor: negative extent in shape \(Shape.describe(shape))")
        }
        guard Shape.count(shape) == scalars.count else {
            throw RecurrentError.invalidArgument(
                "Tensor: shape \(Shape.describe(shape)) holds \(Shape.count(shape)) elements, got \(scalars.count)")
        }
        storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0) }
        self.shape = shape
    }

    /// A 1-D tensor.
    public init(_ scalars: [Float]) {
        storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0) }
        shape = [scalars.count]
    }

    /// A 2-D tensor from rows of equal length.
    public init(_ rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        if let bad = rows.firstIndex(where: { $0.count != width }) {
            throw RecurrentError.invalidArgument(
                "Tensor: row \(bad) has \(rows[bad].count) elements, row 0 has \(width)")
        }
        try self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A scalar (rank 0) tensor.
    public init(scalar: Float) {
        self.init(shape: [], repeating: scalar)
    }

    /// An uninitialised-then-zeroed tensor, for kernels that fill it.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// Elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with \(count) elements")
        return storage.pointer[0]
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Before a write: a storage of its own (copied if shared), marked as changed.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
        }
        storage.version &+= 1
    }

    /// Element access by full index, e.g. `t[1, 2]`.
    public subscript(indices: Int...) -> Float {
        get { storage.pointer[flatIndex(indices)] }
        set {
            let index = flatIndex(indices)
            withUnsafeMutableBufferPointer { $0[index] = newValue }
        }
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "index \(indices) for a tensor of rank \(rank)")
        var flat = 0
        for (axis, index) in indices.enumerated() {
            precondition(index >= 0 && index < shape[axis], "index \(indices) out of range for shape \(shape)")
            flat = flat * shape[axis] + index
        }
        return flat
    }

    /// Elements per step of each axis.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: rank)
        var step = 1
        for axis in (0..<rank).reversed() {
            result[axis] = step
            step *= shape[axis]
        }
        return result
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and every element.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) }
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(Shape.describe(shape)), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
