import Foundation
import Recurrent

/// One example of a sequence task: token ids per channel and numeric features for each of its
/// steps, and its target.
public struct SequenceExample: Sendable {
    public enum Target: Sendable {
        case none
        case classIndex(Int)
        case stepClasses([Int])
        case values([Float])
    }

    /// `ids[channel][step]`
    public var ids: [[Int]]
    /// `features[step * width + feature]`
    public var features: [Float]
    public var length: Int
    public var target: Target

    /// The class of a sequence-class example (0 for other targets).
    var classIndex: Int {
        if case .classIndex(let k) = target { k } else { 0 }
    }

    public init(ids: [[Int]] = [], features: [Float] = [], length: Int, target: Target = .none) {
        self.ids = ids
        self.features = features
        self.length = length
        self.target = target
    }
}

/// Examples padded into batches: right padding to the longest example of each batch.
enum Batching {
    static func batch(_ examples: [SequenceExample], featureWidth: Int) throws -> Batch {
        let B = examples.count, T = examples.map(\.length).max() ?? 0
        let channels = examples.first?.ids.count ?? 0
        let ids = (0..<channels).map { c -> Tensor in
            var t = Tensor.zeros([B, T])
            t.withUnsafeMutableBufferPointer { out in
                for (b, e) in examples.enumerated() { for (s, id) in e.ids[c].enumerated() { out[b * T + s] = Float(id) } }
            }
            return t
        }
        var features: Tensor?
        if featureWidth > 0 {
            var t = Tensor.zeros([B, T, featureWidth])
            t.withUnsafeMutableBufferPointer { out in
                for (b, e) in examples.enumerated() {
                    for (i, v) in e.features.enumerated() { out[b * T * featureWidth + i] = v }
                }
            }
            features = t
        }
        var batch = Batch(ids: ids, features: features, lengths: examples.map(\.length), steps: T, classes: nil, values: nil)
        switch examples.first?.target ?? .none {
        case .none: break
        case .classIndex:
            batch.classes = Tensor(examples.map { Float($0.classIndex) })
        case .stepClasses:
            batch.classes = Tensor(examples.flatMap { e -> [Float] in
                if case .stepClasses(let c) = e.target { c.map(Float.init) } else { [] }
            })
        case .values(let first):
            batch.values = try Tensor(shape: [B, first.count], scalars: examples.flatMap { e -> [Float] in
                if case .values(let v) = e.target { v } else { [] }
            })
        }
        return batch
    }

    /// The batches of one epoch. With `bucketing`, examples are shuffled, sorted by length
    /// within chunks of 50 batches (so each batch pads little), and the batches shuffled.
    static func epoch(
        _ examples: [SequenceExample], batchSize: Int, featureWidth: Int, shuffle: Bool, bucketing: Bool,
        generator: inout SeededGenerator
    ) throws -> [Batch] {
        var order = Array(examples.indices)
        if shuffle { order.shuffle(using: &generator) }
        if bucketing {
            let chunk = batchSize * 50
            order = stride(from: 0, to: order.count, by: chunk).flatMap { start in
                order[start..<min(start + chunk, order.count)].sorted { examples[$0].length < examples[$1].length }
            }
        }
        var groups = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        if shuffle && bucketing { groups.shuffle(using: &generator) }
        return try groups.map { try batch($0.map { examples[$0] }, featureWidth: featureWidth) }
    }
}
