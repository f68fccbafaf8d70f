import Foundation
import Recurrent
import Testing
@testable import RecurrentTasks

/// `recurrent unroll`: the traced numbers against the library's fused layers, the page rendered
/// in headless Chromium (its own forward pass equal to the embedded values), and bad input.
@Suite(.serialized) struct UnrollTests {
    static let root = TaskTests.root

    static func scratch(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "recurrent-unroll-\(ProcessInfo.processInfo.processIdentifier)/" + name
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return path
    }

    /// Small models, trained once for the suite.
    static let models: Result<[String: String], Error> = Result {
        var made: [String: String] = [:]
        func train(_ name: String, _ task: TaskKind, _ file: String, _ tweak: (inout TaskOptions) -> Void) throws {
            var o = TaskOptions(task: task, dataPath: TaskTests.data(file))
            (o.units, o.epochs, o.seed) = (8, 1, 5)
            tweak(&o)
            let out = scratch(name)
            _ = try Tasks.train(o, out: out)
            made[name] = out
        }
        try train("lm-lstm", .languageModel, "shakespeare_complete.txt") { ($0.limit, $0.layers, $0.bptt, $0.batchSize) = (20000, 2, 25, 8) }
        try train("lm-rnn", .languageModel, "shakespeare_complete.txt") {
            ($0.limit, $0.layers, $0.bptt, $0.batchSize, $0.cell) = (20000, 1, 25, 8, .rnn)
        }
        try train("tagger", .tag, "oanc_pos_tagged.txt") { $0.limit = 300 }
        try train("reviews", .classifyText, "amazon_fine_food_reviews.csv") { ($0.limit, $0.maxLength, $0.cell) = (200, 40, .gru) }
        try train("sunspots", .forecast, "sunspots_monthly.csv") { ($0.window, $0.horizon, $0.limit) = (24, 3, 600) }
        try train("vowels", .classifySequences, "japanese_vowels.csv") { TaskTests.vowels(&$0) }
        return made
    }

    static func trace(_ model: String, _ input: String) throws -> (SequenceNetwork, UnrollInput, UnrollTrace) {
        guard case .task(let network, let pre) = try ModelDirectory.open(try models.get()[model]!) else {
            throw RecurrentError.invalidArgument("not a task model")
        }
        let encoded = try UnrollInput.encode(input, pre, maxSteps: 400)
        return (network, encoded, try UnrollTrace.make(network, encoded.example, featureWidth: encoded.featureWidth))
    }

    static let inputs: [(String, String)] = [
        ("lm-lstm", "To be, or not to be"), ("lm-rnn", "What light through"), ("tagger", "The cat sat on the mat ."),
        ("reviews", "great coffee, would buy again"), ("sunspots", (1...30).map { String(40 + $0 % 7) }.joined(separator: ", ")),
        ("vowels", TaskTests.data("japanese_vowels.csv")),
    ]

    /// The unrolled states are the fused layer's, step for step; the connectivity is the fused
    /// layer's backward pass, input by input.
    @Test(arguments: inputs.map(\.0))
    func traceEqualsTheFusedLayers(_ model: String) throws {
        let input = try #require(Self.inputs.first { $0.0 == model }).1
        let (network, encoded, trace) = try Self.trace(model, input)
        let T = encoded.example.length, spec = network.spec, H = spec.units
        #expect(trace.lanes.count == spec.layers * spec.directions)
        #expect(trace.lanes.allSatisfy { $0.h.count == T && $0.h.allSatisfy { $0.count == H } })
        let gateNames: Set<String> = spec.cell == .lstm ? ["i", "f", "g", "o", "c"] : spec.cell == .gru ? ["r", "z", "n"] : ["a"]
        #expect(trace.lanes.allSatisfy { Set($0.gates.keys) == gateNames })

        // One fused pass of the whole stack from the traced input vectors.
        let width = trace.inputs[0].count
        let x = Variable(try Tensor(shape: [1, T, width], scalars: trace.inputs.flatMap { $0 }), requiresGrad: true)
        network.eval()
        let output: Variable
        switch network.rnn {
        case let lstm as LSTM: output = try lstm.forward(x).output
        case let gru as GRU: output = try gru.forward(x).output
        case let simple as SimpleRNN: output = try simple.forward(x).output
        default: throw RecurrentError.invalidArgument("not a recurrent layer of the three")
        }
        let lastLayer = trace.lanes.filter { $0.layer == spec.layers - 1 }
        for t in 0..<T {
            let fused = try output.value.rows(at: [0]).reshaped([T, spec.directions * H]).rows(at: [t]).scalars
            let unrolled = lastLayer.flatMap { $0.h[t] }
            let worst = zip(fused, unrolled).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "step \(t): fused and unrolled states differ by \(worst)")
        }
        // The last connectivity row by the fused backward pass.
        let row = trace.connectivity.count - 1
        let target: Variable
        switch spec.head {
        case .stepClasses:
            let logits = try network.head(try output[.all, row, .all])
            target = try logits[.all, trace.outputs[row].indices.max { trace.outputs[row][$0] < trace.outputs[row][$1] }!]
        default:
            return  // sequence heads add pooling and skips; their final output is checked against the fused network in make()
        }
        try target.sum().backward()
        let gradient = try #require(x.grad).scalars
        for t in 0..<T {
            let step = gradient[(t * width)..<((t + 1) * width)]
            let norm = step.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            let traced = trace.connectivity[row][t]
            #expect(abs(norm - traced) <= 1e-5 + 1e-3 * traced, "∂y/∂x at step \(t): fused \(norm), unrolled \(traced)")
        }
    }

    @Test func gradientsVanishBackThroughTime() throws {
        let (_, _, trace) = try Self.trace("lm-rnn", "What light through yonder window breaks")
        let norms = trace.gradientNorms
        #expect(norms.allSatisfy { $0.isFinite && $0 >= 0 })
        #expect(norms.last! > norms.first!, "the last step's state matters most to the last output: \(norms)")
    }

    @Test func badInputIsNamed() throws {
        let (_, encoded, _) = try Self.trace("lm-lstm", "To be ☃ or")
        #expect(encoded.unknown == [false, false, false, false, false, false, true, false, false, false])   // shown as unknown, not refused
        let models = try Self.models.get()
        let out = Self.scratch("bad.html")
        #expect(message { try Unroll.write(.init(model: models["lm-lstm"]!, input: "", out: out)) }.contains("the input is empty"))
        var long = Unroll.Options(model: models["lm-lstm"]!, input: String(repeating: "a", count: 50), out: out)
        long.maxSteps = 40
        #expect(message { try Unroll.write(long) }.contains("the input has 50 steps, more than the limit of 40 (--max-steps)"))
        #expect(message { try Unroll.write(.init(model: models["sunspots"]!, input: "1, 2, x", out: out)) }.contains("\"x\" is not a number"))
        #expect(message { try Unroll.write(.init(model: models["sunspots"]!, input: "1, 2", out: out)) }.contains("windows of 24 values; the input has 2"))
        #expect(message { try Unroll.write(.init(model: "/no/such/model", input: "x", out: out)) }.contains("no such model directory"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test(.enabled(if: Browser.path != nil, "needs Chromium (Debian's chromium package)"), arguments: inputs.map(\.0))
    func pageRendersAndAgreesWithTheLibrary(_ model: String) throws {
        let input = try #require(Self.inputs.first { $0.0 == model }).1
        let models = try Self.models.get()
        let out = Self.scratch("\(model).html")
        let compare = model == "lm-lstm" ? models["lm-rnn"] : nil
        let bytes = try Unroll.write(.init(model: models[model]!, input: input, compare: compare, out: out))
        #expect(bytes < 2_000_000)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url(http"), "no request of any kind")

        let (network, encoded, _) = try Self.trace(model, input)
        let page = try Browser.render(out, screenshot: Browser.screenshotPath("unroll-\(model).png"))
        #expect(page.errors.isEmpty, "console: \(page.errors)")
        let maxDiff = try #require(page.dom.firstMatch(of: /id="selftest" data-max-diff="([^"]+)"/).map { Double($0.1) ?? .nan })
        #expect(maxDiff <= 1e-5, "the page's forward pass differs from the library's by \(maxDiff)")
        let columns = Set(page.dom.matches(of: /data-step="(\d+)"/).map { Int($0.1)! })
        #expect(columns == Set(0..<encoded.example.length))
        let lanes = Set(page.dom.matches(of: /data-lane="(\d+)"/).map { Int($0.1)! })
        #expect(lanes.count == network.spec.layers * network.spec.directions)
        let gates: [String] = network.spec.cell == .lstm ? ["c", "i", "f", "g", "o"] : network.spec.cell == .gru ? ["r", "z", "n"] : ["a"]
        for gate in gates { #expect(page.dom.contains("<option value=\"\(gate)\">"), "heat map of \(gate)") }
    }
}

/// Headless Chromium, when the machine has it.
enum Browser {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static func screenshotPath(_ name: String) -> String {
        let folder = TaskTests.root + "/.build/pages"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/" + name
    }

    /// The DOM after the page's scripts ran, and the console's errors; a 1280×800 screenshot.
    static func render(_ file: String, screenshot: String) throws -> (dom: String, errors: [String]) {
        func run(_ arguments: [String]) throws -> (String, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path!)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"] + arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let output = out.fileHandleForReading.readDataToEndOfFile(), errors = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
        }
        let url = URL(fileURLWithPath: file).absoluteString
        let (dom, log) = try run(["--dump-dom", url])
        _ = try run(["--window-size=1280,800", "--screenshot=\(screenshot)", url])
        let errors = log.split(separator: "\n").map(String.init).filter {
            $0.contains("Uncaught") || $0.contains("CONSOLE") && $0.contains("ERROR") || $0.contains("net::ERR")
        }
        return (dom, errors)
    }
}

extension UnrollTests {
    /// The numbers the page shows are the library's, bit for bit: states, gates, outputs,
    /// gradient norms and connectivity as embedded in the page.
    @Test func pageEmbedsTheLibrarysNumbers() throws {
        let models = try Self.models.get()
        let out = Self.scratch("embedded.html")
        try Unroll.write(.init(model: models["tagger"]!, input: "The cat sat on the mat .", out: out))
        let html = try String(contentsOfFile: out, encoding: .utf8)
        let json = try #require(html.firstMatch(of: /<script id="data" type="application\/json">(.*?)<\/script>/.dotMatchesNewlines())).1
        let data = try #require(try JSONSerialization.jsonObject(with: Data(json.replacingOccurrences(of: "<\\/", with: "</").utf8)) as? [String: Any])
        let main = try #require(data["main"] as? [String: Any]), embedded = try #require(main["trace"] as? [String: Any])
        func floats(_ object: Any?) throws -> [Float] {
            let base64 = try #require((object as? [String: Any])?["f32"] as? String)
            let bytes = try #require(Data(base64Encoded: base64))
            return stride(from: 0, to: bytes.count, by: 4).map { i in
                Float(bitPattern: bytes[i..<(i + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) })
            }
        }
        let (_, _, trace) = try Self.trace("tagger", "The cat sat on the mat .")
        let lanes = try #require(embedded["lanes"] as? [[String: Any]])
        for (lane, expected) in zip(lanes, trace.lanes) {
            #expect(try floats(lane["h"]) == expected.h.flatMap { $0 })
            let gates = try #require(lane["gates"] as? [String: Any])
            for (name, values) in expected.gates { #expect(try floats(gates[name]) == values.flatMap { $0 }, "\(name)") }
        }
        #expect(try floats(embedded["outputs"]) == trace.outputs.flatMap { $0 })
        #expect(try floats(embedded["gradientNorms"]) == trace.gradientNorms)
        #expect(try floats(embedded["connectivity"]) == trace.connectivity.flatMap { $0 })
    }
}
