// Element-wise arithmetic with broadcasting; gradients are summed back to each input's shape.

extension Variable {
    public static func + (a: Variable, b: Variable) throws -> Variable {
        let value = try a.value + b.value
        return record(value, inputs: [a, b]) { g in
            [try g.reduced(toShape: a.shape), try g.reduced(toShape: b.shape)]
        }
    }

    public static func - (a: Variable, b: Variable) throws -> Variable {
        let value = try a.value - b.value
        return record(value, inputs: [a, b]) { g in
            [try g.reduced(toShape: a.shape), try (-g).reduced(toShape: b.shape)]
        }
    }

    public static func * (a: Variable, b: Variable) throws -> Variable {
        let value = try a.value * b.value
        return record(value, inputs: [a, b]) { g in
            [try (g * b.value).reduced(toShape: a.shape), try (g * a.value).reduced(toShape: b.shape)]
        }
    }

    public static func / (a: Variable, b: Variable) throws -> Variable {
        let value = try a.value / b.value
        return record(value, inputs: [a, b]) { g in
            let ga = try g / b.value
            let gb = try -(try g * value) / b.value
            return [try ga.reduced(toShape: a.shape), try gb.reduced(toShape: b.shape)]
        }
    }

    public static func + (a: Variable, s: Float) -> Variable {
        record(a.value + s, inputs: [a]) { g in [g] }
    }

    public static func * (a: Variable, s: Float) -> Variable {
        record(a.value * s, inputs: [a]) { g in [g * s] }
    }

    public static prefix func - (a: Variable) -> Variable {
        record(-a.value, inputs: [a]) { g in [-g] }
    }

    /// Matrix product; see `Tensor.matmul` for the accepted shapes.
    public func matmul(_ other: Variable, transposeOther: Bool = false) throws -> Variable {
        let a = self, b = other
        let value = try a.value.matmul(b.value, transposeOther: transposeOther)
        return Variable.record(value, inputs: [a, b]) { g in
            // a: [..., M, K]; g: [..., M, N]. dA = g · op(B)ᵀ, dB from aᵀ · g over all rows.
            let ga = a.requiresGrad ? try g.matmul(b.value, transposeOther: !transposeOther).reshaped(a.shape) : nil
            var gb: Tensor? = nil
            if b.requiresGrad {
                let k = a.shape[a.rank - 1], n = g.shape[g.rank - 1]
                let a2 = try a.value.reshaped([-1, k]), g2 = try g.reshaped([-1, n])
                gb = transposeOther ? try g2.matmul(a2, transposeSelf: true) : try a2.matmul(g2, transposeSelf: true)
            }
            return [ga, gb]
        }
    }
}
