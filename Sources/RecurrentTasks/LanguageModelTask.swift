import Foundation
import Recurrent

/// `language-model`: plain text at the character level (Unicode scalars). The last
/// `--test-split` of the text is held out, and the `--val-split` before it validates.
public struct CharacterPreprocessing: Codable, Sendable {
    /// Index 0 stands for any character not seen in training.
    public var characters: [String]
    /// Steps per chunk (truncated BPTT).
    public var bptt: Int
    /// Training frequency of each character, add-one smoothed: the unigram baseline.
    public var unigram: [Double]
}

enum LanguageModelTask: TaskPipeline {
    static let defaults = TaskDefaults(units: 256, layers: 2, epochs: 20, batchSize: 32, learningRate: 0.002, patience: 3, valSplit: 0.05)

    static func prepare(_ o: TaskOptions) throws -> PreparedTask {
        var scalars = Array(try readTextFile(o.dataPath).unicodeScalars)
        if let limit = o.limit { scalars = Array(scalars.prefix(limit)) }
        let testFraction = o.testSplit ?? 0.1, validationFraction = try defaults.validationFraction(o)
        let testCount = Int(Float(scalars.count) * testFraction), validationCount = Int(Float(scalars.count) * validationFraction)
        let trainPart = scalars[..<(scalars.count - testCount - validationCount)]
        let validationPart = scalars[(scalars.count - testCount - validationCount)..<(scalars.count - testCount)]
        let testPart = scalars[(scalars.count - testCount)...]
        let settings = defaults.training(o)
        let bptt = o.bptt ?? 100
        guard bptt > 0 else { throw RecurrentError.invalidArgument("--bptt must be positive, got \(bptt)") }
        guard trainPart.count >= settings.batchSize * (bptt + 1) else {
            throw RecurrentError.file(
                path: o.dataPath,
                problem: "\(trainPart.count) training characters → 0 chunks of \(settings.batchSize) lanes × \(bptt) steps; lower --batch-size or --bptt")
        }
        let characters = Array(Set(trainPart)).sorted { $0.value < $1.value }
        var counts = [Double](repeating: 1, count: characters.count + 1)
        let index = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, $0 + 1) })
        for c in trainPart { counts[index[c]!] += 1 }
        let total = counts.reduce(0, +)
        let pre = CharacterPreprocessing(characters: [""] + characters.map { String($0) }, bptt: bptt, unigram: counts.map { $0 / total })
        var preprocessing = Preprocessing(task: .languageModel, options: o)
        preprocessing.characters = pre
        let V = pre.characters.count
        let spec = defaults.network(o, embeddings: [[V, 64]], features: 0, head: .stepClasses(V), maxPooling: false, window: nil)
        func ids(_ part: ArraySlice<Unicode.Scalar>) -> [Int] { part.map { index[$0] ?? 0 } }
        let stream = StreamBatches(
            train: try chunks(ids(trainPart), lanes: settings.batchSize, bptt: bptt),
            validation: validationPart.count > bptt ? try chunks(ids(validationPart), lanes: min(settings.batchSize, max(validationPart.count / (bptt + 1), 1)), bptt: bptt) : [])
        var prepared = PreparedTask(
            preprocessing: preprocessing, spec: spec, settings: settings, featureWidth: 0, train: [], validation: [],
            test: [SequenceExample(ids: [ids(testPart)], length: testPart.count)], stream: stream,
            sizes: [("train_characters", trainPart.count), ("validation_characters", validationPart.count),
                    ("test_characters", testPart.count), ("vocabulary", V)])
        // The same prime and seed every epoch: the samples show what the epochs changed.
        let prime = String(String.UnicodeScalarView(validationPart.prefix(40)))
        prepared.epochSample = { network in
            try generate(network, preprocessing, prime: prime.isEmpty ? pre.characters[1] : prime, length: 160, temperature: 0.8, topK: nil, seed: 7)
        }
        return prepared
    }

    /// The stream in `lanes` parallel rows, cut into chunks of `bptt` steps; each step's
    /// target is the next character. Lane b of chunk k continues lane b of chunk k − 1.
    static func chunks(_ ids: [Int], lanes: Int, bptt: Int) throws -> [Batch] {
        let laneLength = (ids.count - 1) / lanes
        guard laneLength > 0 else { return [] }
        return try stride(from: 0, to: laneLength, by: bptt).map { start in
            let T = min(bptt, laneLength - start)
            var x = [Float](repeating: 0, count: lanes * T), y = x
            for b in 0..<lanes {
                for t in 0..<T {
                    x[b * T + t] = Float(ids[b * laneLength + start + t])
                    y[b * T + t] = Float(ids[b * laneLength + start + t + 1])
                }
            }
            return Batch(ids: [try Tensor(shape: [lanes, T], scalars: x)], features: nil, lengths: Array(repeating: T, count: lanes),
                         steps: T, classes: Tensor(y), values: nil)
        }
    }

    static func encode(_ scalars: some Sequence<Unicode.Scalar>, _ p: CharacterPreprocessing) -> [Int] {
        let index = Dictionary(uniqueKeysWithValues: p.characters.enumerated().map { ($1, $0) })
        return scalars.map { index[String($0)] ?? 0 }
    }

    /// Bits per character over a stream, run in lanes with carried state, and the unigram baseline's.
    static func bitsPerCharacter(_ network: SequenceNetwork, _ ids: [Int], _ p: CharacterPreprocessing) throws -> (model: Double, unigram: Double, count: Int) {
        let lanes = max(1, min(32, (ids.count - 1) / (p.bptt + 1)))
        let batches = try chunks(ids, lanes: lanes, bptt: p.bptt)
        var nats = 0.0, count = 0, unigram = 0.0
        network.eval()
        var carried: CarriedState?
        try withoutGradients {
            for batch in batches {
                let (output, final) = try network.forward(batch, state: carried)
                carried = final
                let V = p.characters.count
                let logits = output.value.scalars, targets = batch.classes!.scalars
                for (row, target) in targets.enumerated() {
                    let slice = logits[(row * V)..<((row + 1) * V)]
                    let top = slice.max()!
                    let logSum = Double(top) + Foundation.log(slice.reduce(0.0) { $0 + Foundation.exp(Double($1 - top)) })
                    nats += logSum - Double(slice[slice.startIndex + Int(target)])
                    unigram -= Foundation.log(p.unigram[Int(target)])
                }
                count += targets.count
            }
        }
        guard count > 0 else { throw RecurrentError.invalidArgument("the text is too short to evaluate (\(ids.count) characters)") }
        return (nats / Double(count) / Foundation.log(2.0), unigram / Double(count) / Foundation.log(2.0), count)
    }

    static func evaluate(_ network: SequenceNetwork, _ pre: Preprocessing, path: String, all: Bool) throws -> TaskReport {
        let p = try pre.required(pre.characters, "characters")
        var scalars = Array(try readTextFile(path).unicodeScalars)
        if !all {
            if let limit = pre.options.limit { scalars = Array(scalars.prefix(limit)) }
            scalars = Array(scalars.suffix(Int(Float(scalars.count) * (pre.options.testSplit ?? 0.1))))
        }
        return try report(network, p, ids: encode(scalars, p))
    }

    static func report(_ network: SequenceNetwork, _ p: CharacterPreprocessing, ids: [Int]) throws -> TaskReport {
        let (bits, unigram, count) = try bitsPerCharacter(network, ids, p)
        return TaskReport(
            metrics: .object([
                ("bits_per_char", .number(bits)), ("perplexity", .number(pow(2, bits))), ("characters", .number(Double(count))),
                ("baselines", .object([("unigram", .object([("bits_per_char", .number(unigram)), ("perplexity", .number(pow(2, unigram)))]))])),
            ]),
            headlines: [.init(metric: "bits per character", ours: bits, baseline: "unigram", baselineValue: unigram, lowerIsBetter: true)])
    }

    /// For each line: the five most likely next characters after it, with their probabilities.
    static func predict(_ network: SequenceNetwork, _ pre: Preprocessing, input: String, path: String) throws -> String {
        let p = try pre.required(pre.characters, "characters")
        var lines = ["line,next_1,p_1,next_2,p_2,next_3,p_3,next_4,p_4,next_5,p_5"]
        for (n, line) in try readTextFile(path).split(separator: "\n").enumerated() where !line.isEmpty {
            let probs = try nextCharacter(network, p, prime: try known(String(line), p, path: path), state: nil).probabilities
            let top = probs.indices.sorted { probs[$0] > probs[$1] }.prefix(5)
            lines.append(([String(n + 1)] + top.flatMap { [csvField(p.characters[$0]), String(format: "%.6f", probs[$0])] }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The ids of a text, every character of which the model must know.
    static func known(_ text: String, _ p: CharacterPreprocessing, path: String? = nil) throws -> [Int] {
        let ids = encode(text.unicodeScalars, p)
        if let i = ids.firstIndex(of: 0) {
            let c = Array(text.unicodeScalars)[i]
            let place = path.map { "\($0): " } ?? ""
            throw RecurrentError.invalidArgument(
                "\(place)character \"\(c)\" (U+\(String(c.value, radix: 16, uppercase: true))) at position \(i + 1) is not in the model's vocabulary of \(p.characters.count - 1) characters")
        }
        guard !ids.isEmpty else { throw RecurrentError.invalidArgument("the prime text is empty") }
        return ids
    }

    static func nextCharacter(_ network: SequenceNetwork, _ p: CharacterPreprocessing, prime: [Int], state: CarriedState?) throws -> (probabilities: [Double], state: CarriedState) {
        network.eval()
        return try withoutGradients {
            let batch = Batch(ids: [try Tensor(shape: [1, prime.count], scalars: prime.map(Float.init))], features: nil,
                              lengths: [prime.count], steps: prime.count, classes: nil, values: nil)
            let (output, final) = try network.forward(batch, state: state)
            let V = p.characters.count
            let last = Array(output.value.scalars.suffix(V))
            return (probabilities(last, classes: V)[0], final)
        }
    }

    /// `length` characters after `prime`, sampled with temperature and top-k.
    static func generate(
        _ network: SequenceNetwork, _ pre: Preprocessing, prime: String, length: Int, temperature: Double, topK: Int?, seed: UInt64
    ) throws -> String {
        let p = try pre.required(pre.characters, "characters")
        guard length >= 0 else { throw RecurrentError.invalidArgument("--length must be ≥ 0, got \(length)") }
        guard temperature > 0, temperature.isFinite else { throw RecurrentError.invalidArgument("--temperature must be positive, got \(temperature)") }
        if let topK, topK < 1 { throw RecurrentError.invalidArgument("--top-k must be at least 1, got \(topK)") }
        var generator = SeededGenerator(seed: seed)
        var (probs, state) = try nextCharacter(network, p, prime: try known(prime, p), state: nil)
        var out = ""
        for _ in 0..<length {
            let next = sample(probs, temperature: temperature, topK: topK, generator: &generator)
            out += p.characters[next]
            (probs, state) = try nextCharacter(network, p, prime: [next], state: state)
        }
        return out
    }
}

/// An index drawn from `probabilities` sharpened by `temperature` (p^(1/T), renormalised),
/// among the `topK` most likely only when given.
public func sample(_ probabilities: [Double], temperature: Double, topK: Int?, generator: inout SeededGenerator) -> Int {
    var candidates = Array(probabilities.indices)
    if let topK, topK < candidates.count {
        candidates = Array(candidates.sorted { probabilities[$0] > probabilities[$1] }.prefix(topK))
    }
    let logs = candidates.map { Foundation.log(max(probabilities[$0], 1e-300)) / temperature }
    let top = logs.max() ?? 0
    let weights = logs.map { Foundation.exp($0 - top) }
    var u = Double(generator.next() >> 11) / Double(UInt64(1) << 53) * weights.reduce(0, +)
    for (i, w) in zip(candidates, weights) {
        u -= w
        if u < 0 { return i }
    }
    return candidates.last!
}
