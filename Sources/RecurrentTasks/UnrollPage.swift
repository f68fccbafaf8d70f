import Foundation
import Recurrent

/// `recurrent unroll`: one self-contained HTML page (inline script, style and SVG; no request
/// of any kind) showing a trained model run step by step on an input.
public enum Unroll {
    public struct Options: Sendable {
        public var model: String
        public var input: String
        public var compare: String?
        public var out: String
        public var maxSteps = 400

        public init(model: String, input: String, compare: String? = nil, out: String) {
            (self.model, self.input, self.compare, self.out) = (model, input, compare, out)
        }
    }

    /// Writes the page (atomically) and returns its size in bytes.
    @discardableResult
    public static func write(_ options: Options) throws -> Int {
        let main = try modelData(options.model, input: options.input, maxSteps: options.maxSteps)
        var compared: JSON?
        if let other = options.compare {
            compared = try modelData(other, input: options.input, maxSteps: options.maxSteps)
        }
        let data = JSON.object([("main", main), ("compare", compared ?? .null)])
        let html = page(title: "Unrolled: \(lastComponent(options.model))", data: data.rendered(indent: ""))
        try ModelDirectory.write(html, to: options.out)
        return html.utf8.count
    }

    /// One model's part of the page: what it is, its weights, the input and the library's trace.
    static func modelData(_ directory: String, input text: String, maxSteps: Int) throws -> JSON {
        guard case .task(let network, let pre) = try ModelDirectory.open(directory) else {
            throw RecurrentError.invalidArgument(
                "unroll: \(directory) holds an imported model; the unroller reads models `recurrent train` wrote")
        }
        let input = try UnrollInput.encode(text, pre, maxSteps: maxSteps)
        let trace = try UnrollTrace.make(network, input.example, featureWidth: input.featureWidth)
        let spec = network.spec
        return .object([
            ("name", .string(lastComponent(directory))),
            ("task", .string(pre.task.rawValue)),
            ("cell", .string(spec.cell.rawValue)),
            ("layers", .number(Double(spec.layers))), ("directions", .number(Double(spec.directions))),
            ("units", .number(Double(spec.units))), ("features", .number(Double(spec.features))),
            ("head", .string(headKind(spec.head))), ("maxPooling", .bool(spec.maxPooling)),
            ("labels", .array(outputLabels(pre).map(JSON.string))),
            ("tokens", .array(input.tokens.map(JSON.string))),
            ("unknown", .array(input.unknown.map(JSON.bool))),
            ("ids", .array(input.example.ids.map { .array($0.map { .number(Double($0)) }) })),
            ("featureValues", floats(input.example.features)),
            ("editing", editing(pre)),
            ("weights", weights(network, input: input.example, editable: [.languageModel, .classifyText].contains(pre.task))),
            ("trace", .object([
                ("lanes", .array(trace.lanes.map { lane in
                    .object([
                        ("layer", .number(Double(lane.layer))), ("direction", .number(Double(lane.direction))),
                        ("h", floats(lane.h.flatMap { $0 })),
                        ("gates", .object(lane.gates.keys.sorted().map { ($0, floats(lane.gates[$0]!.flatMap { $0 })) })),
                    ])
                })),
                ("outputs", floats(trace.outputs.flatMap { $0 })), ("outputWidth", .number(Double(trace.outputs.first?.count ?? 0))),
                ("gradientNorms", floats(trace.gradientNorms)),
                ("lossDescription", .string(trace.lossDescription)),
                ("connectivity", floats(trace.connectivity.flatMap { $0 })),
                ("networkOutput", floats(trace.networkOutput)),
            ])),
        ])
    }

    static func headKind(_ head: NetworkSpec.Head) -> String {
        switch head {
        case .sequenceClasses: return "sequence"
        case .stepClasses: return "step"
        case .regression: return "regression"
        }
    }

    /// Names of the network's outputs: characters, tags, classes, horizon steps.
    static func outputLabels(_ pre: Preprocessing) -> [String] {
        switch pre.task {
        case .languageModel: return pre.characters.map { $0.characters.enumerated().map { $0.offset == 0 ? "unknown" : $0.element } } ?? []
        case .tag: return pre.tagging?.tags ?? []
        case .classifyText: return pre.text?.labels ?? []
        case .classifySequences: return pre.sequences?.labels ?? []
        case .forecast: return (1...(pre.forecast?.horizon ?? 1)).map { "t+\($0)" }
        }
    }

    /// What the page needs to encode an edited input as the task does.
    static func editing(_ pre: Preprocessing) -> JSON {
        switch pre.task {
        case .languageModel:
            return .object([("kind", .string("characters")), ("characters", .array((pre.characters?.characters ?? []).map(JSON.string)))])
        case .classifyText:
            guard let p = pre.text, let tokenizer = try? Tokenizer(json: p.tokenizer) else { return .null }
            let words = tokenizer.wordIndex.sorted { $0.value < $1.value }
            return .object([
                ("kind", .string("words")), ("filters", .string(tokenizer.filters)), ("lower", .bool(tokenizer.lower)),
                ("numWords", .number(Double(tokenizer.numWords ?? 0))), ("oov", .number(Double(tokenizer.wordIndex["<OOV>"] ?? -1))),
                ("maxLength", .number(Double(p.maxLength))),
                ("index", .object(words.map { ($0.key, .number(Double($0.value))) })),
            ])
        case .forecast:
            guard let p = pre.forecast else { return .null }
            return .object([
                ("kind", .string("values")), ("mean", .number(Double(p.mean))), ("scale", .number(Double(p.scale))),
                ("window", .number(Double(p.window))),
            ])
        case .tag, .classifySequences:
            return .object([("kind", .string("none"))])
        }
    }

    /// Floats of embedding rows a page carries: large vocabularies keep their most frequent rows
    /// (the lowest ids) and the input's, so that the page stays small; a page whose input cannot
    /// be edited keeps the input's rows alone.
    static let embeddingBudget = 150_000

    /// The network's parameters by name: shape and little-endian Float32 values in base64; an
    /// embedding table may carry only some of its rows (listed in "rows").
    static func weights(_ network: SequenceNetwork, input: SequenceExample, editable: Bool) -> JSON {
        let tables = network.spec.embeddings.count
        return .object(network.namedParameters.map { name, variable in
            var entry: [(String, JSON)] = [("shape", .array(variable.shape.map { .number(Double($0)) }))]
            let parts = name.split(separator: ".")
            if parts.count == 3, parts[0] == "embeddings", let channel = Int(parts[1]), variable.rank == 2 {
                let (rows, width) = (variable.shape[0], variable.shape[1])
                let frequent = editable ? min(rows, max(200, embeddingBudget / max(width * tables, 1))) : 1
                if frequent < rows {
                    let kept = Array(Set(0..<frequent).union(input.ids[channel].filter { $0 < rows })).sorted()
                    let values = variable.value.scalars
                    entry.append(("rows", .array(kept.map { .number(Double($0)) })))
                    entry.append(("data", floats(kept.flatMap { values[($0 * width)..<(($0 + 1) * width)] })))
                    return (name, .object(entry))
                }
            }
            entry.append(("data", floats(variable.value.scalars)))
            return (name, .object(entry))
        })
    }

    /// Float32 values, little-endian, in base64: a quarter of their size as decimal text.
    static func floats(_ values: [Float]) -> JSON {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return .object([("f32", .string(data.base64EncodedString()))])
    }

    static func lastComponent(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
    }

    static func page(title: String, data: String) -> String {
        // "</" cannot end the script early inside a JSON string.
        let safe = data.replacingOccurrences(of: "</", with: "<\\/")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(TrainingReport.escape(title))</title>
            <style>\(UnrollAssets.style)</style></head>
            <body>
            \(UnrollAssets.body)
            <script id="data" type="application/json">\(safe)</script>
            <script>\(UnrollAssets.script)</script>
            </body></html>

            """
    }
}
