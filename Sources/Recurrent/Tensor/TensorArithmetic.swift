import Foundation

extension Tensor {
    /// The NumPy broadcast of two shapes, or a thrown error naming both.
    public static func broadcastShape(_ a: [Int], _ b: [Int], operation: String) throws -> [Int] {
        let rank = Swift.max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        return try zip(pa, pb).map { x, y in
            if x == y || y == 1 { return x }
            if x == 1 { return y }
            throw RecurrentError.shapeMismatch(
                operation: operation, expected: "a shape broadcastable with \(Shape.describe(a))", got: b)
        }
    }

    /// Applies `op` element-wise with NumPy broadcasting.
    public static func elementwise(
        _ a: Tensor, _ b: Tensor, operation: String, _ op: (Float, Float) -> Float
    ) throws -> Tensor {
        let outShape = try broadcastShape(a.shape, b.shape, operation: operation)
        var result = Tensor.zeros(outShape)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                result.withUnsafeMutableBufferPointer { out in
                    if a.shape == b.shape {
                        for i in out.indices { out[i] = op(pa[i], pb[i]) }
                    } else if b.count == 1 {
                        let s = pb[0]
                        for i in out.indices { out[i] = op(pa[i], s) }
                    } else if a.count == 1 {
                        let s = pa[0]
                        for i in out.indices { out[i] = op(s, pb[i]) }
                    } else if a.shape == outShape, outShape.suffix(b.rank) == b.shape[...] {
                        // Trailing broadcast, e.g. [B, H] + [H]: the common bias case.
                        let n = b.count
                        for row in 0..<(out.count / n) {
                            for j in 0..<n { out[row * n + j] = op(pa[row * n + j], pb[j]) }
                        }
                    } else {
                        let sa = broadcastStrides(a.shape, to: outShape)
                        let sb = broadcastStrides(b.shape, to: outShape)
                        var index = [Int](repeating: 0, count: outShape.count)
                        var ia = 0, ib = 0
                        for i in out.indices {
                            out[i] = op(pa[ia], pb[ib])
                            var axis = outShape.count - 1
                            while axis >= 0 {
                                index[axis] += 1
                                ia += sa[axis]
                                ib += sb[axis]
                                if index[axis] < outShape[axis] { break }
                                ia -= sa[axis] * outShape[axis]
                                ib -= sb[axis] * outShape[axis]
                                index[axis] = 0
                                axis -= 1
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Strides of `shape` read as `target` (0 along broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for axis in (0..<target.count).reversed() {
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        return strides
    }

    /// Sums a broadcast result back down to `shape` (the gradient of broadcasting).
    public func reduced(toShape target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let padded = [Int](repeating: 1, count: rank - target.count) + target
        guard target.count <= rank, zip(padded, shape).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw RecurrentError.shapeMismatch(
                operation: "reduce to \(Shape.describe(target))", expected: "a shape that broadcasts to it", got: shape)
        }
        var result = Tensor.zeros(target)
        let strides = Tensor.broadcastStrides(target, to: shape)
        var index = [Int](repeating: 0, count: rank)
        var position = 0
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for i in src.indices {
                    dst[position] += src[i]
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        position += strides[axis]
                        if index[axis] < shape[axis] { break }
                        position -= strides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return result
    }

    /// A new tensor with `transform` applied to each element.
    public func map(_ transform: (Float) -> Float) -> Tensor {
        var result = Tensor.zeros(shape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for i in src.indices { dst[i] = transform(src[i]) }
            }
        }
        return result
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try elementwise(a, b, operation: "add", +) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try elementwise(a, b, operation: "subtract", -) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try elementwise(a, b, operation: "multiply", *) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try elementwise(a, b, operation: "divide", /) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    public static func - (a: Tensor, s: Float) -> Tensor { a.map { $0 - s } }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { s * $0 } }
    public static func / (a: Tensor, s: Float) -> Tensor { a.map { $0 / s } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    /// Adds `other` (same shape) into this tensor in place.
    public mutating func add(_ other: Tensor, scaledBy scale: Float = 1) throws {
        guard other.shape == shape else {
            throw RecurrentError.shapeMismatch(operation: "add in place", expected: Shape.describe(shape), got: other.shape)
        }
        other.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                for i in dst.indices { dst[i] += scale * src[i] }
            }
        }
    }

    private func applying(_ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        var result = Tensor.zeros(shape)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                guard src.count > 0 else { return }
                kernel(src.baseAddress!, dst.baseAddress!, src.count)
            }
        }
        return result
    }

    public func sigmoid() -> Tensor { applying { Pointwise.sigmoid($0, $1, count: $2) } }
    public func tanh() -> Tensor { applying { Pointwise.tanh($0, $1, count: $2) } }
    public func relu() -> Tensor { applying { Pointwise.relu($0, $1, count: $2) } }
    public func exp() -> Tensor { applying { Pointwise.exp($0, $1, count: $2) } }
    public func log() -> Tensor { map { Foundation.log($0) } }
    public func squareRoot() -> Tensor { map { $0.squareRoot() } }
    public func squared() -> Tensor { map { $0 * $0 } }

    /// Whether every element is finite (no NaN, no ±∞).
    public var isFinite: Bool {
        withUnsafeBufferPointer { $0.allSatisfy { $0.isFinite } }
    }
}
