/// Quantities `fit` and `evaluate` report besides the loss (Keras's `metrics=`).
public enum Metric: Sendable, Equatable {
    /// Keras's "accuracy": binary when the model has one output per example, sparse categorical
    /// when the targets are class indices, categorical when they are one-hot.
    case accuracy
    /// Predictions above `threshold` count as 1 (a threshold of 0 suits logits).
    case binaryAccuracy(threshold: Float = 0.5)
    case categoricalAccuracy
    case sparseCategoricalAccuracy
    case meanAbsoluteError
    case meanSquaredError

    /// The key in logs and `History` (as Keras names it).
    public var name: String {
        switch self {
        case .accuracy: return "accuracy"
        case .binaryAccuracy: return "binary_accuracy"
        case .categoricalAccuracy: return "categorical_accuracy"
        case .sparseCategoricalAccuracy: return "sparse_categorical_accuracy"
        case .meanAbsoluteError: return "mae"
        case .meanSquaredError: return "mse"
        }
    }

    /// `accuracy` made concrete for these shapes and this loss, as Keras's `get_metric` does.
    func resolved(prediction: [Int], target: [Int], loss: Loss) -> Metric {
        guard self == .accuracy else { return self }
        switch loss {
        case .binaryCrossEntropy(let fromLogits): return .binaryAccuracy(threshold: fromLogits ? 0 : 0.5)
        case .categoricalCrossEntropy: return .categoricalAccuracy
        case .sparseCategoricalCrossEntropy: return .sparseCategoricalAccuracy
        default: break
        }
        if prediction.last == 1 { return .binaryAccuracy() }
        let sparse = target.count < prediction.count || (target.last == 1 && (prediction.last ?? 0) > 1)
        return sparse ? .sparseCategoricalAccuracy : .categoricalAccuracy
    }

    /// The sum of the per-element values over a batch, and how many elements it covers.
    func total(_ prediction: Tensor, _ target: Tensor) throws -> (sum: Double, count: Int) {
        let p = prediction.scalars, t = target.scalars
        switch self {
        case .accuracy:
            preconditionFailure("accuracy is resolved before it is computed")
        case .binaryAccuracy(let threshold):
            try requireSameCount(p, t, prediction.shape, target.shape)
            let hits = zip(p, t).reduce(0) { $0 + (($1.0 > threshold ? 1 : 0) == ($1.1 > 0.5 ? 1 : 0) ? 1 : 0) }
            return (Double(hits), p.count)
        case .categoricalAccuracy, .sparseCategoricalAccuracy:
            guard let classes = prediction.shape.last, classes > 0 else { return (0, 0) }
            let rows = p.count / classes
            let sparse = self == .sparseCategoricalAccuracy
            guard t.count == (sparse ? rows : p.count) else {
                throw RecurrentError.shapeMismatch(
                    operation: "\(name) target for predictions \(Shape.describe(prediction.shape))",
                    expected: sparse ? "\(rows) class indices" : Shape.describe(prediction.shape), got: target.shape)
            }
            var hits = 0
            for row in 0..<rows {
                let predicted = argmax(p[(row * classes)..<((row + 1) * classes)])
                let actual = sparse ? Int(t[row]) : argmax(t[(row * classes)..<((row + 1) * classes)])
                if predicted == actual { hits += 1 }
            }
            return (Double(hits), rows)
        case .meanAbsoluteError, .meanSquaredError:
            try requireSameCount(p, t, prediction.shape, target.shape)
            let squared = self == .meanSquaredError
            let sum = zip(p, t).reduce(0.0) { total, pair in
                let d = Double(pair.0 - pair.1)
                return total + (squared ? d * d : abs(d))
            }
            return (sum, p.count)
        }
    }

    private func requireSameCount(_ p: [Float], _ t: [Float], _ pShape: [Int], _ tShape: [Int]) throws {
        guard p.count == t.count else {
            throw RecurrentError.shapeMismatch(
                operation: "\(name) target for predictions \(Shape.describe(pShape))", expected: Shape.describe(pShape),
                got: tShape)
        }
    }

    private func argmax(_ values: ArraySlice<Float>) -> Int {
        var best = values.startIndex
        for i in values.indices where values[i] > values[best] { best = i }
        return best - values.startIndex
    }
}
