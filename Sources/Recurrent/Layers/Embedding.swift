/// A lookup table from token ids to vectors: input [..., T] of whole-number ids, output
/// [..., T, outputDim].
///
/// Keras face: `Embedding(inputDim: 100, outputDim: 16, maskZero: true)`, uniform in ±0.05;
/// with `maskZero`, id 0 is padding and the mask of real steps flows to the next recurrent
/// layer. PyTorch face: `Embedding(numEmbeddings: 50, embeddingDim: 8, paddingIdx: 0)`,
/// normal(0, 1), the padding row starts at zero and never receives a gradient.
public final class Embedding: MaskAware {
    public let inputDim: Int
    public let outputDim: Int
    public let maskZero: Bool
    public let paddingIndex: Int?
    public let convention: Convention
    public let weight: Variable
    private let configurationProblem: String?

    /// Keras's `Embedding(input_dim, output_dim, mask_zero)`.
    public convenience init(inputDim: Int, outputDim: Int, maskZero: Bool = false, seed: UInt64? = nil) {
        self.init(rows: inputDim, width: outputDim, maskZero: maskZero, paddingIndex: nil, convention: .keras, seed: seed)
    }

    /// PyTorch's `nn.Embedding(num_embeddings, embedding_dim, padding_idx)`; a negative
    /// `paddingIdx` counts from the end, as in PyTorch.
    public convenience init(numEmbeddings: Int, embeddingDim: Int, paddingIdx: Int? = nil, seed: UInt64? = nil) {
        let resolved = paddingIdx.map { $0 < 0 ? $0 + numEmbeddings : $0 }
        self.init(
            rows: numEmbeddings, width: embeddingDim, maskZero: false, paddingIndex: resolved, convention: .pytorch,
            seed: seed)
    }

    init(rows: Int, width: Int, maskZero: Bool, paddingIndex: Int?, convention: Convention, seed: UInt64?) {
        configurationProblem = if rows <= 0 || width <= 0 {
            "sizes must be positive, got \(rows) × \(width)"
        } else if let paddingIndex, !(0..<rows).contains(paddingIndex) {
            "padding index \(paddingIndex) is not a row of a table with \(rows) rows"
        } else {
            nil
        }
        inputDim = rows
        outputDim = width
        self.maskZero = maskZero
        self.paddingIndex = paddingIndex
        self.convention = convention
        var generator = seed.map(SeededGenerator.init(seed:)) ?? GlobalGenerator.shared.split()
        let shape = [max(rows, 0), max(width, 0)]
        var table = convention == .keras
            ? Tensor.randomUniform(shape, low: -0.05, high: 0.05, generator: &generator)
            : Tensor.randomNormal(shape, generator: &generator)
        if let paddingIndex, configurationProblem == nil {
            table.withUnsafeMutableBufferPointer { t in
                for j in 0..<width { t[paddingIndex * width + j] = 0 }
            }
        }
        weight = Variable(table, requiresGrad: true, name: "weight")
    }

    public var namedParameters: [(name: String, variable: Variable)] { [("weight", weight)] }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        try call(input, mask: nil).output
    }

    public func call(_ input: Variable, mask: Tensor?) throws -> (output: Variable, mask: Tensor?) {
        if let configurationProblem { throw RecurrentError.invalidArgument("Embedding: \(configurationProblem)") }
        guard input.rank >= 1, input.value.count > 0 else {
            throw RecurrentError.shapeMismatch(operation: "Embedding input", expected: "[batch, steps] of token ids", got: input.shape)
        }
        let ids = input.value.scalars
        if let bad = ids.firstIndex(where: { !($0 >= 0 && $0 < Float(inputDim) && $0 == $0.rounded()) }) {
            throw RecurrentError.invalidArgument(
                "Embedding: token id \(ids[bad]) at position \(position(bad, in: input.shape)) is outside the "
                + "vocabulary of \(inputDim) rows (ids 0..<\(inputDim))")
        }
        var output = try weight.gather(rows: input.value)
        if let paddingIndex {
            // The padding row is a constant: its gradient is dropped, as PyTorch does.
            let rowsUsed = input.value.scalars.map { Int($0) }
            output = Variable.record(output.value, inputs: [output]) { g in
                var g = g
                g.withUnsafeMutableBufferPointer { buffer in
                    for (i, row) in rowsUsed.enumerated() where row == paddingIndex {
                        for j in 0..<self.outputDim { buffer[i * self.outputDim + j] = 0 }
                    }
                }
                return [g]
            }
        }
        let outputMask = maskZero ? input.value.map { $0 != 0 ? 1 : 0 } : mask
        return (output, outputMask)
    }
}

/// The multi-index of flat element `i` of a tensor of `shape`, as "[b, t]".
func position(_ i: Int, in shape: [Int]) -> String {
    var rest = i, index: [Int] = []
    for size in shape.reversed() {
        index.insert(rest % max(size, 1), at: 0)
        rest /= max(size, 1)
    }
    return Shape.describe(index)
}
