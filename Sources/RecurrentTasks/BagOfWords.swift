import Foundation
import Recurrent

/// Multinomial logistic regression on a bag of words: a text is the mean of its tokens' one-hot
/// vectors. Fitted by full-batch Adam on the training texts, keeping the iterate with the lowest
/// validation loss: `classify-text`'s strongest baseline.
public struct BagOfWordsModel: Codable, Sendable {
    public var classes: Int
    /// `weights[token * classes + class]`
    public var weights: [Float]
    public var bias: [Float]

    /// A text's distinct tokens and their shares of its length.
    typealias Bag = (tokens: [Int], shares: [Float])

    static func bag(_ ids: [Int]) -> Bag {
        var counts: [Int: Int] = [:]
        for id in ids { counts[id, default: 0] += 1 }
        let tokens = counts.keys.sorted()
        return (tokens, tokens.map { Float(counts[$0]!) / Float(max(ids.count, 1)) })
    }

    private func logits(_ bag: Bag) -> [Float] {
        var z = bias
        for (token, share) in zip(bag.tokens, bag.shares) where token * classes < weights.count {
            for k in 0..<classes { z[k] += share * weights[token * classes + k] }
        }
        return z
    }

    public func predict(_ ids: [Int]) -> Int {
        let z = logits(Self.bag(ids))
        return z.indices.max { z[$0] < z[$1] }!
    }

    static func fit(
        train: [(ids: [Int], label: Int)], validation: [(ids: [Int], label: Int)], vocabulary: Int, classes: Int,
        iterations: Int = 1000, learningRate: Float = 0.05, patience: Int = 50
    ) -> BagOfWordsModel {
        let trainBags = train.map { bag($0.ids) }, validationBags = validation.map { bag($0.ids) }
        let trainLabels = train.map(\.label), validationLabels = validation.map(\.label)
        var model = BagOfWordsModel(classes: classes, weights: Array(repeating: 0, count: vocabulary * classes), bias: Array(repeating: 0, count: classes))
        var best = model, bestLoss = Double.infinity, sinceBest = 0
        var adamW = Adam(count: model.weights.count), adamB = Adam(count: classes)
        for _ in 0..<iterations {
            let (_, gw, gb) = model.loss(trainBags, trainLabels)
            adamW.step(&model.weights, gw, learningRate)
            adamB.step(&model.bias, gb, learningRate)
            let loss = validation.isEmpty ? 0 : model.loss(validationBags, validationLabels, gradients: false).loss
            if loss < bestLoss {
                (best, bestLoss, sinceBest) = (model, loss, 0)
            } else {
                sinceBest += 1
                if sinceBest >= patience { break }
            }
        }
        return best
    }

    /// The mean cross-entropy over the bags, and (unless `gradients` is false) its gradients
    /// with respect to the weights and the bias.
    func loss(_ bags: [Bag], _ labels: [Int], gradients: Bool = true) -> (loss: Double, weights: [Float], bias: [Float]) {
        var gw = Array(repeating: Float(0), count: gradients ? weights.count : 0), gb = Array(repeating: Float(0), count: classes)
        let scale = 1 / Float(max(bags.count, 1))
        var total = 0.0
        for (b, label) in zip(bags, labels) {
            var p = Self.softmax(logits(b))
            total -= Double(log(max(p[label], 1e-30)))
            guard gradients else { continue }
            p[label] -= 1
            for k in 0..<classes { gb[k] += p[k] * scale }
            for (token, share) in zip(b.tokens, b.shares) where token * classes < weights.count {
                for k in 0..<classes { gw[token * classes + k] += share * p[k] * scale }
            }
        }
        return (total / Double(max(bags.count, 1)), gw, gb)
    }

    static func softmax(_ z: [Float]) -> [Float] {
        let top = z.max() ?? 0
        let e = z.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// Adam on a flat array (Kingma and Ba 2015, ε 1e-8).
    struct Adam {
        var m: [Float], v: [Float], t = 0

        init(count: Int) { (m, v) = (Array(repeating: 0, count: count), Array(repeating: 0, count: count)) }

        mutating func step(_ x: inout [Float], _ g: [Float], _ lr: Float) {
            t += 1
            let (b1, b2) = (Float(0.9), Float(0.999))
            let c1 = 1 - pow(b1, Float(t)), c2 = 1 - pow(b2, Float(t))
            for i in x.indices where g[i] != 0 || m[i] != 0 {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                x[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
            }
        }
    }
}
