// Indexing and slicing as PyTorch writes it: `x[.all, -1, 1..<3]` is `x[:, -1, 1:3]`, and
// permutation of axes (`permute`). The differentiable forms on `Variable` are in
// Autograd/IndexingOps.swift.

/// One axis of an index expression. An integer picks one position and removes the axis
/// (negative counts from the end); a range keeps the positions it covers (negative bounds
/// count from the end, bounds past the axis are clamped, as PyTorch slices are); `.all` keeps
/// the axis whole. Axes after the last index are kept whole.
public protocol TensorIndexExpression {
    /// The positions along an axis of `size`, and whether the axis stays; nil when out of range.
    func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)?
    /// How the index reads in an error message.
    var indexDescription: String { get }
}

extension TensorIndexExpression {
    public var indexDescription: String { "\(self)" }
}

/// The whole axis (PyTorch's `:`), written `.all`.
public struct TensorIndex: TensorIndexExpression, Sendable {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? { (0..<size, true) }
    public var indexDescription: String { ".all" }
}

extension TensorIndexExpression where Self == TensorIndex {
    /// The whole axis (PyTorch's `:`).
    public static var all: TensorIndex { TensorIndex() }
}

extension Int: TensorIndexExpression {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? {
        let i = self < 0 ? self + size : self
        return i >= 0 && i < size ? (i..<(i + 1), false) : nil
    }
}

/// A slice's bounds as PyTorch reads them: negative from the end, clamped to the axis.
private func slice(_ lower: Int, _ upper: Int, size: Int) -> (positions: Range<Int>, keepsAxis: Bool) {
    func place(_ i: Int) -> Int { Swift.min(Swift.max(i < 0 ? i + size : i, 0), size) }
    let (l, u) = (place(lower), place(upper))
    return (l..<Swift.max(l, u), true)
}

extension Range: TensorIndexExpression where Bound == Int {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? { slice(lowerBound, upperBound, size: size) }
}

extension ClosedRange: TensorIndexExpression where Bound == Int {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? {
        slice(lowerBound, upperBound == -1 ? size : upperBound + 1, size: size)
    }
}

extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? { slice(lowerBound, size, size: size) }
    public var indexDescription: String { "\(lowerBound)..." }
}

extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? { slice(0, upperBound, size: size) }
    public var indexDescription: String { "..<\(upperBound)" }
}

extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    public func resolve(size: Int) -> (positions: Range<Int>, keepsAxis: Bool)? {
        slice(0, upperBound == -1 ? size : upperBound + 1, size: size)
    }
    public var indexDescription: String { "...\(upperBound)" }
}

/// Elements between neighbours along each axis of a row-major tensor of `shape`.
private func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
    return strides
}

/// What an index expression selects from a tensor: a box (one range per axis) and the axes
/// that stay.
struct IndexBox {
    let source: [Int]
    let ranges: [Range<Int>]
    let keeps: [Bool]

    init(_ indices: [any TensorIndexExpression], shape: [Int]) throws {
        guard indices.count <= shape.count else {
            throw RecurrentError.shapeMismatch(
                operation: "index [\(indices.map(\.indexDescription).joined(separator: ", "))]",
                expected: "a tensor of rank \(indices.count) or more", got: shape)
        }
        var ranges: [Range<Int>] = [], keeps: [Bool] = []
        for (axis, size) in shape.enumerated() {
            guard axis < indices.count else {
                ranges.append(0..<size)
                keeps.append(true)
                continue
            }
            guard let r = indices[axis].resolve(size: size) else {
                throw RecurrentError.invalidArgument(
                    "index \(indices[axis].indexDescription) is out of range for axis \(axis) of size \(size) (shape \(Shape.describe(shape)))")
            }
            ranges.append(r.positions)
            keeps.append(r.keepsAxis)
        }
        (source, self.ranges, self.keeps) = (shape, ranges, keeps)
    }

    /// The box's shape with every axis kept, and the result's (integer-indexed axes removed).
    var boxShape: [Int] { ranges.map(\.count) }
    var resultShape: [Int] { zip(ranges, keeps).filter(\.1).map(\.0.count) }

    /// `body(sourceOffset, boxOffset, count)` for every contiguous run of the box (along the
    /// last axis), in row-major order.
    func forEachRun(_ body: (_ source: Int, _ box: Int, _ count: Int) -> Void) {
        guard !source.isEmpty else { return body(0, 0, 1) }
        let rank = source.count, box = boxShape
        guard !box.contains(0) else { return }
        let strides = rowMajorStrides(source), run = box[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1), boxOffset = 0
        while true {
            var offset = ranges[rank - 1].lowerBound
            for axis in 0..<(rank - 1) { offset += (ranges[axis].lowerBound + index[axis]) * strides[axis] }
            body(offset, boxOffset, run)
            boxOffset += run
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < box[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

extension Tensor {
    /// The elements an index expression selects (PyTorch's `x[:, -1, 1:3]` is
    /// `x[.all, -1, 1..<3]`): a copy, with the integer-indexed axes removed.
    public subscript(_ indices: any TensorIndexExpression...) -> Tensor {
        get throws { try extracting(IndexBox(indices, shape: shape)) }
    }

    func extracting(_ box: IndexBox) throws -> Tensor {
        var out = Tensor.zeros(box.resultShape)
        let source = pointer
        out.withUnsafeMutableBufferPointer { o in
            box.forEachRun { s, b, n in (o.baseAddress! + b).update(from: source + s, count: n) }
        }
        return out
    }

    /// Zeros of the box's source shape with this tensor (the box's elements) placed in the box:
    /// the gradient of `extracting`.
    func placed(in box: IndexBox) -> Tensor {
        var out = Tensor.zeros(box.source)
        let values = pointer
        out.withUnsafeMutableBufferPointer { o in
            box.forEachRun { s, b, n in (o.baseAddress! + s).update(from: values + b, count: n) }
        }
        return out
    }

    /// The axes in the order `axes` gives (PyTorch's `permute`): axis k of the result is axis
    /// `axes[k]` of this tensor.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        let resolved = try axes.map { try normalizedAxis($0, operation: "permute") }
        guard resolved.count == rank, Set(resolved).count == rank else {
            throw RecurrentError.invalidArgument(
                "permute: \(axes) is not an ordering of the \(rank) axes of shape \(Shape.describe(shape))")
        }
        let strides = rowMajorStrides(shape)
        let outShape = resolved.map { shape[$0] }, outStrides = resolved.map { strides[$0] }
        var out = Tensor.zeros(outShape)
        guard out.count > 0 else { return out }
        let source = pointer
        out.withUnsafeMutableBufferPointer { o in
            var index = [Int](repeating: 0, count: rank), offset = 0
            for i in 0..<o.count {
                o[i] = source[offset]
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1
                    offset += outStrides[axis]
                    if index[axis] < outShape[axis] { break }
                    offset -= outStrides[axis] * outShape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return out
    }
}
