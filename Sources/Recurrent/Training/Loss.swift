import Foundation

/// Training objectives. Each is one recorded op with a hand-written gradient, averaged over
/// the batch like Keras's and PyTorch's default reduction ("mean").
///
/// Probabilities are clipped to [1e-7, 1 − 1e-7] before the logarithm, as Keras does
/// (`epsilon()`); the `fromLogits` forms are exact and numerically stable.
public enum Loss: Sendable, Equatable {
    /// Mean of (prediction − target)² over all elements (`nn.MSELoss`, Keras "mse").
    case meanSquaredError
    /// Mean of |prediction − target| over all elements (`nn.L1Loss`, Keras "mae").
    case meanAbsoluteError
    /// Targets in [0, 1]; predictions are probabilities (`nn.BCELoss`) or logits (`nn.BCEWithLogitsLoss`).
    case binaryCrossEntropy(fromLogits: Bool = false)
    /// One-hot (or soft) targets over the last axis; summed over classes, averaged over the rest.
    case categoricalCrossEntropy(fromLogits: Bool = false)
    /// Integer class targets with one axis fewer than the predictions.
    /// `fromLogits: true` is PyTorch's `nn.CrossEntropyLoss`.
    case sparseCategoricalCrossEntropy(fromLogits: Bool = false)

    /// PyTorch's `nn.CrossEntropyLoss`: logits and class indices.
    public static let crossEntropy = Loss.sparseCategoricalCrossEntropy(fromLogits: true)

    static let epsilon: Float = 1e-7

    public var name: String {
        switch self {
        case .meanSquaredError: return "mean_squared_error"
        case .meanAbsoluteError: return "mean_absolute_error"
        case .binaryCrossEntropy: return "binary_crossentropy"
        case .categoricalCrossEntropy: return "categorical_crossentropy"
        case .sparseCategoricalCrossEntropy: return "sparse_categorical_crossentropy"
        }
    }

    /// The scalar loss of `prediction` against `target`.
    public func callAsFunction(_ prediction: Variable, _ target: Tensor) throws -> Variable {
        switch self {
        case .meanSquaredError:
            let t = try matchingTarget(target, prediction.shape)
            let n = Float(prediction.value.count)
            let diff = try prediction.value - t
            return Variable.record(Tensor(scalar: diff.squared().sum() / n), inputs: [prediction]) { g in
                [diff * (2 * g.scalar / n)]
            }
        case .meanAbsoluteError:
            let t = try matchingTarget(target, prediction.shape)
            let n = Float(prediction.value.count)
            let diff = try prediction.value - t
            return Variable.record(Tensor(scalar: diff.map(abs).sum() / n), inputs: [prediction]) { g in
                [diff.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } * (g.scalar / n)]
            }
        case .binaryCrossEntropy(let fromLogits):
            let t = try matchingTarget(target, prediction.shape)
            if let bad = t.scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                throw RecurrentError.invalidArgument(
                    "\(name): target \(t.scalars[bad]) at position \(position(bad, in: t.shape)) is outside [0, 1]")
            }
            let n = Float(prediction.value.count)
            let x = prediction.value
            if fromLogits {
                // max(x, 0) − x·t + log(1 + e^−|x|); gradient σ(x) − t.
                let loss = Tensor.zipMap(x, t) { x, t in max(x, 0) - x * t + log1p(Foundation.exp(-abs(x))) }
                let sig = x.sigmoid()
                return Variable.record(Tensor(scalar: loss.sum() / n), inputs: [prediction]) { g in
                    [(try sig - t) * (g.scalar / n)]
                }
            }
            let e = Loss.epsilon
            let loss = Tensor.zipMap(x, t) { p, t in
                let q = min(max(p, e), 1 - e)
                return -(t * Foundation.log(q) + (1 - t) * Foundation.log(1 - q))
            }
            return Variable.record(Tensor(scalar: loss.sum() / n), inputs: [prediction]) { g in
                [Tensor.zipMap(x, t) { p, t in
                    guard p > e, p < 1 - e else { return 0 }
                    return (p - t) / (p * (1 - p)) * g.scalar / n
                }]
            }
        case .categoricalCrossEntropy(let fromLogits):
            let t = try matchingTarget(target, prediction.shape, allowSqueeze: false)
            return try Loss.categorical(prediction, t, fromLogits: fromLogits)
        case .sparseCategoricalCrossEntropy(let fromLogits):
            guard prediction.rank >= 1, let classes = prediction.shape.last else {
                throw RecurrentError.shapeMismatch(operation: name, expected: "[..., classes]", got: prediction.shape)
            }
            var labelShape = target.shape
            if labelShape == Array(prediction.shape.dropLast()) + [1] { labelShape.removeLast() }
            guard labelShape == Array(prediction.shape.dropLast()) else {
                throw RecurrentError.shapeMismatch(
                    operation: "\(name) target for predictions \(Shape.describe(prediction.shape))",
                    expected: Shape.describe(Array(prediction.shape.dropLast())), got: target.shape)
            }
            let oneHot = try Loss.oneHot(try target.reshaped(labelShape), classes: classes, loss: name)
            return try Loss.categorical(prediction, oneHot, fromLogits: fromLogits)
        }
    }

    /// Σ −t·log p over the last axis, averaged over rows.
    private static func categorical(_ prediction: Variable, _ t: Tensor, fromLogits: Bool) throws -> Variable {
        let classes = prediction.shape.last!
        let rows = Float(prediction.value.count / max(classes, 1))
        if fromLogits {
            let logP = try prediction.value.logSoftmax()
            let loss = -(try t * logP).sum() / rows
            let targetMass = try t.sum(axis: -1, keepingAxis: true)
            return Variable.record(Tensor(scalar: loss), inputs: [prediction]) { g in
                // d/dx = softmax(x)·Σt − t.
                [(try (try logP.exp() * targetMass) - t) * (g.scalar / rows)]
            }
        }
        // Keras: normalise rows to sum 1, clip, then −Σ t·log q.
        let p = prediction.value
        let sums = try p.sum(axis: -1, keepingAxis: true)
        let q = try p / sums
        let e = epsilon
        let clipped = q.map { min(max($0, e), 1 - e) }
        let loss = -(try t * clipped.log()).sum() / rows
        let targetMass = try t.sum(axis: -1, keepingAxis: true)
        return Variable.record(Tensor(scalar: loss), inputs: [prediction]) { g in
            // −Σ t log(p_j / s): d/dp_j = −t_j/p_j + Σt/s (zero through clipped entries' log).
            let direct = Tensor.zipMap(t, p) { t, p in p > 0 ? -t / p : 0 }
            let unclippedMask = q.map { $0 > e && $0 < 1 - e ? 1 : 0 }
            let throughSum = try targetMass / sums
            let grad = try (try direct * unclippedMask) + throughSum
            return [grad * (g.scalar / rows)]
        }
    }

    /// Class indices → one-hot rows, checking each label.
    static func oneHot(_ labels: Tensor, classes: Int, loss: String) throws -> Tensor {
        var result = Tensor.zeros(labels.shape + [classes])
        try result.withUnsafeMutableBufferPointer { out in
            for (i, label) in labels.scalars.enumerated() {
                guard label == label.rounded(), label >= 0, Int(label) < classes else {
                    throw RecurrentError.invalidArgument(
                        "\(loss): label \(label) at position \(i) is not a class index in 0..<\(classes)")
                }
                out[i * classes + Int(label)] = 1
            }
        }
        return result
    }

    /// The target as the prediction's shape; a missing trailing 1 (`[B]` for `[B, 1]`) is added.
    private func matchingTarget(_ target: Tensor, _ shape: [Int], allowSqueeze: Bool = true) throws -> Tensor {
        if target.shape == shape { return target }
        if allowSqueeze, shape.last == 1, target.shape == Array(shape.dropLast()) {
            return try target.reshaped(shape)
        }
        throw RecurrentError.shapeMismatch(
            operation: "\(name) target for predictions \(Shape.describe(shape))", expected: Shape.describe(shape),
            got: target.shape)
    }
}
