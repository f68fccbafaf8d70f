import Foundation
import Recurrent

/// The architecture of a task's network, saved in the model file's metadata.
public struct NetworkSpec: Codable, Sendable, Equatable {
    public enum Cell: String, Codable, Sendable, CaseIterable { case lstm, gru, rnn }

    /// What the network predicts.
    public enum Head: Codable, Sendable, Equatable {
        /// One class per sequence (logits).
        case sequenceClasses(Int)
        /// One class per real step (logits of the real steps only, in batch order).
        case stepClasses(Int)
        /// `outputs` values per sequence; with `linearSkip`, a linear map of the flattened
        /// numeric input is added (the autoregressive part of LSTNet, Lai et al. 2018).
        case regression(outputs: Int, linearSkip: Bool)
    }

    /// Token channels: one embedding table (vocabulary rows, width) per channel of ids.
    public var embeddings: [[Int]]
    /// Numeric features per step, after the embeddings.
    public var features: Int
    public var cell: Cell
    public var units: Int
    public var layers: Int
    public var bidirectional: Bool
    /// Dropout on the recurrent input, between layers and before the head.
    public var dropout: Float
    public var recurrentDropout: Float
    /// For sequence heads: add the max over time of the outputs to the final state.
    public var maxPooling: Bool
    public var head: Head
    /// Steps of the input (needed by `linearSkip`).
    public var window: Int?
    /// For sequence classes: add a bag of words to the logits, a per-token weight for each
    /// class averaged over the real tokens of the first channel (fastText's linear model,
    /// Joulin et al. 2017), learnt together with the recurrent part ("wide and deep").
    public var bagOfWords: Bool?

    public var directions: Int { bidirectional ? 2 : 1 }
    var inputWidth: Int { embeddings.reduce(features) { $0 + $1[1] } }

    func validate() throws {
        guard units > 0 else { throw RecurrentError.invalidArgument("--units must be positive, got \(units)") }
        guard layers > 0 else { throw RecurrentError.invalidArgument("--layers must be positive, got \(layers)") }
        guard (0..<1).contains(dropout) else { throw RecurrentError.invalidArgument("--dropout must be in [0, 1), got \(dropout)") }
        guard (0..<1).contains(recurrentDropout) else {
            throw RecurrentError.invalidArgument("--recurrent-dropout must be in [0, 1), got \(recurrentDropout)")
        }
        guard inputWidth > 0 else { throw RecurrentError.invalidArgument("the network has no input features") }
    }
}

/// One batch: token ids per channel [B, T], numeric features [B, T, F], the real length of each
/// example, and the targets.
public struct Batch {
    public var ids: [Tensor]
    public var features: Tensor?
    public var lengths: [Int]
    public var steps: Int
    /// Class per sequence [B], or per real step [N] in batch order.
    public var classes: Tensor?
    /// Values per sequence [B, outputs].
    public var values: Tensor?

    public var size: Int { lengths.count }
    var isFull: Bool { lengths.allSatisfy { $0 == steps } }

    /// What the loss averages over: sequences, or real steps for a per-step head.
    var examples: Int { classes?.count ?? size }

    /// Rank `rank`'s part of a batch split across `ranks` processes: a contiguous run of rows
    /// (nil when the batch has too few rows to give this rank any). The time axis stays.
    func shard(rank: Int, of ranks: Int) throws -> Batch? {
        let per = (size + ranks - 1) / ranks
        let rows = min(rank * per, size)..<min((rank + 1) * per, size)
        guard !rows.isEmpty else { return nil }
        var part = self
        part.ids = try ids.map { try $0.sliced(rows) }
        part.features = try features?.sliced(rows)
        part.lengths = Array(lengths[rows])
        part.values = try values?.sliced(rows)
        if let classes {
            // Per-sequence classes go by row; per-step classes by each row's real steps, in row order
            // (with every length 1 the two agree).
            if classes.count != size {
                let start = lengths[..<rows.lowerBound].reduce(0, +)
                part.classes = try classes.sliced(start..<(start + part.lengths.reduce(0, +)))
            } else {
                part.classes = try classes.sliced(rows)
            }
        }
        return part
    }
}

/// The recurrent state carried between chunks of a stream (truncated BPTT).
public struct CarriedState {
    var h: Variable
    var c: Variable?

    func detached() -> CarriedState { CarriedState(h: Variable(h.value), c: c.map { Variable($0.value) }) }
}

/// Embeddings and features → a recurrent stack (PyTorch face, packed semantics for padding) →
/// a head. A `Model`, so its parameters have dotted names and save as a state dict.
public final class SequenceNetwork: Model {
    public let spec: NetworkSpec
    let embeddings: [Embedding]
    let rnn: RecurrentLayer
    let head: Dense
    let skip: Dense?
    let bag: Embedding?
    private var generator: SeededGenerator

    public init(_ spec: NetworkSpec, seed: UInt64) throws {
        try spec.validate()
        self.spec = spec
        var seeds = SeededGenerator(seed: seed)
        embeddings = spec.embeddings.map {
            Embedding(numEmbeddings: $0[0], embeddingDim: $0[1], seed: seeds.next())
        }
        let (I, H, L, drop, bi) = (spec.inputWidth, spec.units, spec.layers, spec.layers > 1 ? spec.dropout : 0, spec.bidirectional)
        switch spec.cell {
        case .lstm: rnn = LSTM(inputSize: I, hiddenSize: H, numLayers: L, batchFirst: true, dropout: drop, bidirectional: bi, seed: seeds.next())
        case .gru: rnn = GRU(inputSize: I, hiddenSize: H, numLayers: L, batchFirst: true, dropout: drop, bidirectional: bi, seed: seeds.next())
        case .rnn: rnn = SimpleRNN(inputSize: I, hiddenSize: H, numLayers: L, batchFirst: true, dropout: drop, bidirectional: bi, seed: seeds.next())
        }
        rnn.recurrentDropout = spec.recurrentDropout
        let width = spec.directions * H
        var bagOfWords: Embedding?
        switch spec.head {
        case .sequenceClasses(let classes):
            head = Dense(inputSize: spec.maxPooling ? 2 * width : width, units: classes, initializer: .pytorch, seed: seeds.next())
            skip = nil
            if spec.bagOfWords == true {
                guard let vocabulary = spec.embeddings.first?[0] else { throw RecurrentError.invalidArgument("a bag of words needs token ids") }
                bagOfWords = Embedding(numEmbeddings: vocabulary, embeddingDim: classes, seed: 0)
                bagOfWords!.weight.value = Tensor.zeros([vocabulary, classes])  // starts neutral: the logits are the recurrent part's
            }
        case .stepClasses(let classes):
            head = Dense(inputSize: width, units: classes, initializer: .pytorch, seed: seeds.next())
            skip = nil
        case let .regression(outputs, linearSkip):
            head = Dense(inputSize: width, units: outputs, initializer: .pytorch, seed: seeds.next())
            let window = spec.window ?? 0
            guard !linearSkip || window > 0 else { throw RecurrentError.invalidArgument("a linear skip needs the window length") }
            skip = linearSkip ? Dense(inputSize: window * spec.features, units: outputs, initializer: .pytorch, seed: seeds.next()) : nil
        }
        bag = bagOfWords
        generator = SeededGenerator(seed: seeds.next())
        super.init()
    }

    public override var children: [(name: String, module: any Module)] {
        embeddings.enumerated().map { ("embeddings.\($0.offset)", $0.element as any Module) }
            + [("rnn", rnn), ("head", head)] + (skip.map { [("skip", $0 as any Module)] } ?? [])
            + (bag.map { [("bag", $0 as any Module)] } ?? [])
    }

    /// The dropout streams' positions, the network's and the recurrent layer's (saved in
    /// checkpoints so a resumed run draws the same masks).
    var generatorState: [UInt64] {
        get { generator.stateWords + rnn.randomState }
        set {
            generator.stateWords = Array(newValue.prefix(4))
            // A checkpoint from before the layer's stream was saved has the network's alone.
            if newValue.count == 8 { rnn.randomState = Array(newValue.suffix(4)) }
        }
    }

    public override func useRandomStream(ofRank rank: Int) {
        generator = generator.derived(forRank: rank)
        super.useRandomStream(ofRank: rank)
    }

    /// The head's output for a batch, and the final state (for carrying across chunks).
    public func forward(_ batch: Batch, state: CarriedState? = nil) throws -> (output: Variable, state: CarriedState) {
        var parts = try zip(embeddings, batch.ids).map { try $0(Variable($1)) }
        if let features = batch.features { parts.append(Variable(features)) }
        var x = parts.count == 1 ? parts[0] : try Variable.concatenate(parts, axis: 2)
        if isTraining && spec.dropout > 0 { x = try x.dropout(rate: spec.dropout, generator: &generator) }
        let mask: SequenceMask? = batch.isFull ? nil : .lengths(batch.lengths)
        let (outputs, final) = try runRecurrent(x, state: state, mask: mask)
        let B = batch.size, width = spec.directions * spec.units
        var result: Variable
        switch spec.head {
        case .sequenceClasses, .regression:
            var summary = try lastLayerState(final.h, batch: B)
            if spec.maxPooling {
                let keep = batch.isFull ? nil : lengthMask(batch)
                summary = try Variable.concatenate([summary, try outputs.maxOverTime(mask: keep)], axis: 1)
            }
            if isTraining && spec.dropout > 0 { summary = try summary.dropout(rate: spec.dropout, generator: &generator) }
            result = try head(summary)
            if let bag {
                result = try result + (try bag(Variable(batch.ids[0]))).meanOverTime(mask: batch.isFull ? nil : lengthMask(batch))
            }
            if let skip, let features = batch.features {
                result = try result + skip(Variable(try features.reshaped([B, batch.steps * spec.features])))
            }
        case .stepClasses:
            var flat = try outputs.reshaped([B * batch.steps, width])
            if !batch.isFull {
                let rows = (0..<B).flatMap { b in (0..<batch.lengths[b]).map { Float(b * batch.steps + $0) } }
                flat = try flat.gather(rows: Tensor(rows))
            }
            if isTraining && spec.dropout > 0 { flat = try flat.dropout(rate: spec.dropout, generator: &generator) }
            result = try head(flat)
        }
        return (result, final)
    }

    private func runRecurrent(_ x: Variable, state: CarriedState?, mask: SequenceMask?) throws -> (Variable, CarriedState) {
        switch rnn {
        case let lstm as LSTM:
            let (output, (h, c)) = try lstm.forward(x, state.map { ($0.h, $0.c!) }, mask: mask)
            return (output, CarriedState(h: h, c: c))
        case let gru as GRU:
            let (output, h) = try gru.forward(x, state?.h, mask: mask)
            return (output, CarriedState(h: h, c: nil))
        case let simple as SimpleRNN:
            let (output, h) = try simple.forward(x, state?.h, mask: mask)
            return (output, CarriedState(h: h, c: nil))
        default:
            preconditionFailure("the network makes one of the three recurrent layers")
        }
    }

    /// The last layer's final h, both directions side by side: [B, directions·H].
    private func lastLayerState(_ h: Variable, batch: Int) throws -> Variable {
        let d = spec.directions, last = (spec.layers - 1) * d
        let parts = try (0..<d).map { try h.selecting(last + $0) }
        return parts.count == 1 ? parts[0] : try Variable.concatenate(parts, axis: 1)
    }

    private func lengthMask(_ batch: Batch) -> Tensor {
        var mask = Tensor.zeros([batch.size, batch.steps])
        mask.withUnsafeMutableBufferPointer { m in
            for (b, length) in batch.lengths.enumerated() { for t in 0..<length { m[b * batch.steps + t] = 1 } }
        }
        return mask
    }

    /// The loss of a batch's output against its targets (mean over examples or real steps).
    func loss(_ output: Variable, _ batch: Batch) throws -> Variable {
        switch spec.head {
        case .sequenceClasses, .stepClasses: return try Loss.crossEntropy(output, batch.classes!)
        case .regression: return try Loss.meanSquaredError(output, batch.values!)
        }
    }

    /// A summary: one line per part (PyTorch's repr), with its parameter count.
    public var summaryLines: [String] {
        children.map { child in
            child.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(describing: child.module).padding(toLength: 62, withPad: " ", startingAt: 0) + " \(child.module.parameterCount)"
        } + ["total parameters: \(parameterCount)"]
    }
}
