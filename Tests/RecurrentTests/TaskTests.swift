import Foundation
import Recurrent
import Testing
@testable import RecurrentTasks

/// The task pipelines on small slices of the shipped data: files written, numbers reported,
/// evaluate/predict/generate/summary on the model directory, resume, and bad input.
@Suite(.serialized) struct TaskTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static func data(_ name: String) -> String { root + "/data/" + name }

    func scratch(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "recurrent-tests-\(ProcessInfo.processInfo.processIdentifier)/" + name
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return path
    }

    func small(_ task: TaskKind, _ file: String, _ tweak: (inout TaskOptions) -> Void = { _ in }) -> TaskOptions {
        var o = TaskOptions(task: task, dataPath: Self.data(file))
        (o.units, o.epochs, o.seed) = (8, 2, 3)
        tweak(&o)
        return o
    }

    func predictText(_ model: String, _ input: String) throws -> String {
        String(decoding: try Tasks.predict(model: model, input: input), as: UTF8.self)
    }

    func jsonFile(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    static func vowels(_ o: inout TaskOptions) {
        (o.idColumn, o.stepColumn, o.labelColumn, o.limit, o.batchSize) = ("series", "t", "speaker", 60, 8)
    }

    @Test func classifySequencesWritesAModelDirectory() throws {
        let out = scratch("vowels")
        let run = try Tasks.train(small(.classifySequences, "japanese_vowels.csv") { Self.vowels(&$0) }, out: out)
        for file in ["model.safetensors", "preprocessing.json", "history.json", "history.csv", "metrics.json", "run.json", "checkpoint.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
        let metrics = try jsonFile(out + "/metrics.json")
        let accuracy = try #require(metrics["accuracy"] as? Double)
        #expect(metrics["examples"] as? Int == 370)
        let majority = try #require((metrics["baselines"] as? [String: Any])?["majority"] as? [String: Any])
        // The majority baseline's accuracy is the share of the test part in the training part's commonest class.
        let confusion = try #require(metrics["confusion_matrix"] as? [[Int]])
        #expect(confusion.joined().reduce(0, +) == 370)
        let commonest = try #require((majority["class"] as? String).flatMap { Int($0) })
        #expect(abs((majority["accuracy"] as? Double ?? 0) - Double(confusion[commonest - 1].reduce(0, +)) / 370) < 1e-6)
        // `evaluate` on the same file reproduces the held-out numbers.
        let again = try Tasks.evaluate(model: out, data: Self.data("japanese_vowels.csv"))
        #expect(abs(try #require(again.metrics["accuracy"]?.number) - accuracy) < 1e-6)   // metrics.json keeps 6 digits
        let run2 = try jsonFile(out + "/run.json")
        #expect(run2["parameters"] as? Int == run.parameterCount)
        #expect((try String(contentsOfFile: out + "/history.csv", encoding: .utf8)).split(separator: "\n").count == 1 + run.outcome.history.count)
        let predictions = try predictText(out, Self.data("japanese_vowels.csv")).split(separator: "\n")
        #expect(predictions.first == "series,predicted,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9")
        #expect(predictions.count == 1 + 640)
        #expect(try Tasks.summary(model: out).contains("labels (speaker): 1, 2, 3, 4, 5, 6, 7, 8, 9"))
    }

    @Test(arguments: [0, 0.3] as [Float]) func resumeGivesTheWeightsOfOneUninterruptedRun(recurrentDropout: Float) throws {
        // Bit for bit: no other test may switch the kernel ISA meanwhile.
        try ForcedISA.unchanged { try resumeMatches(recurrentDropout: recurrentDropout) }
    }

    func resumeMatches(recurrentDropout: Float) throws {
        let tweak: (inout TaskOptions) -> Void = { o in Self.vowels(&o); (o.dropout, o.recurrentDropout, o.patience) = (0.2, recurrentDropout, nil) }
        var three = small(.classifySequences, "japanese_vowels.csv", tweak)
        three.epochs = 3
        var one = three
        one.epochs = 1
        let (a, b) = (scratch("three"), scratch("one"))
        _ = try Tasks.train(three, out: a)
        _ = try Tasks.train(one, out: b)
        var more = TaskOptions(task: .classifySequences, dataPath: Self.data("japanese_vowels.csv"))
        more.epochs = 3
        let resumed = try Tasks.train(more, out: b, resume: b)
        #expect(resumed.outcome.history.map(\.epoch) == [1, 2, 3])
        let (x, y) = (try SafeTensors.load(path: a + "/model.safetensors"), try SafeTensors.load(path: b + "/model.safetensors"))
        #expect(x.keys.sorted() == y.keys.sorted())
        for key in x.keys { #expect(x[key] == y[key], "\(key)") }
    }

    @Test func forecastReportsEveryHorizonStepAgainstBaselines() throws {
        let out = scratch("sunspots")
        let run = try Tasks.train(small(.forecast, "sunspots_monthly.csv") { ($0.window, $0.horizon, $0.limit) = (24, 3, 600) }, out: out)
        let report = try #require(run.report)
        #expect(report.headlines.map(\.metric) == ["RMSE, 1 step", "RMSE, steps 1-3"])
        let baselines = try #require(report.metrics["baselines"])
        for name in ["persistence", "seasonal_naive", "linear_ar"] {
            guard case .array(let steps)? = baselines[name]?["rmse_per_step"] else { Issue.record("\(name)"); continue }
            #expect(steps.count == 3)
        }
        let forecast = try predictText(out, Self.data("sunspots_monthly.csv")).split(separator: "\n")
        #expect(forecast.count == 4 && forecast[0] == "step,forecast")
    }

    /// Least squares recovers an exactly linear AR(2) process, and the season of a sine.
    @Test func autoregressionAndSeasonAreRecovered() {
        var generator = SeededGenerator(seed: 8)
        var x: [Float] = [1, 2]
        for t in 2..<4000 { x.append(0.5 * x[t - 1] - 0.3 * x[t - 2] + 1 + 0.1 * generator.nextNormal()) }
        let windows = (0..<3990).map { Array(x[$0..<($0 + 2)]) }, targets = (0..<3990).map { [x[$0 + 2]] }
        let w = ForecastTask.fitAutoregression(windows, targets)[0]
        // Window order is oldest first: w = [x(t−2), x(t−1), bias].
        #expect(abs(w[0] + 0.3) < 0.05 && abs(w[1] - 0.5) < 0.05 && abs(w[2] - 1) < 0.1)
        let sine = (0..<600).map { sin(2 * Double.pi * Double($0) / 25) }
        #expect(ForecastTask.estimateSeason(sine) == 25)
    }

    @Test func textClassifierPredictsPlainLines() throws {
        let out = scratch("reviews")
        let run = try Tasks.train(small(.classifyText, "amazon_fine_food_reviews.csv") { ($0.limit, $0.epochs, $0.maxLength) = (200, 1, 40) }, out: out)
        #expect(run.report?.metrics["examples"]?.number == 1000)
        // The bag-of-words regression, fitted on the same 200 reviews, beats the majority class.
        let regression = try #require(run.report?.metrics["baselines"]?["bag-of-words logistic regression"]?["accuracy"]?.number)
        #expect(regression > 0.658 && run.report?.headlines[0].baseline == "bag-of-words logistic regression")
        let lines = scratch("lines.txt")
        try "I love this tea, it is great\nterrible, it tasted stale\n".write(toFile: lines, atomically: true, encoding: .utf8)
        let predicted = try predictText(out, lines).split(separator: "\n")
        #expect(predicted.count == 3 && predicted[0] == "line,predicted,p_great,p_other")
    }

    @Test func languageModelEvaluatesAndGenerates() throws {
        let out = scratch("lm")
        let run = try Tasks.train(small(.languageModel, "shakespeare_complete.txt") {
            ($0.limit, $0.layers, $0.bptt, $0.batchSize, $0.epochs) = (30000, 1, 25, 8, 1)
        }, out: out)
        let bits = try #require(run.report?.metrics["bits_per_char"]?.number)
        let unigram = try #require(run.report?.metrics["baselines"]?["unigram"]?["bits_per_char"]?.number)
        #expect(bits > 0 && bits < 8 && unigram > 3 && unigram < 6)
        let text = try Tasks.generate(model: out, prime: "KING", length: 40, temperature: 0.8, topK: 10, seed: 2)
        #expect(text.unicodeScalars.count == 40)
        #expect(text == (try Tasks.generate(model: out, prime: "KING", length: 40, temperature: 0.8, topK: 10, seed: 2)))
        #expect(throws: RecurrentError.invalidArgument(
            "character \"€\" (U+20AC) at position 3 is not in the model's vocabulary of \(run.sizes.last!.1 - 1) characters")) {
            try Tasks.generate(model: out, prime: "KI€", length: 5)
        }
    }

    @Test func taggerBeatsNothingYetButReportsTokenAccuracy() throws {
        let out = scratch("tagger")
        let run = try Tasks.train(small(.tag, "oanc_pos_tagged.txt") { ($0.limit, $0.epochs) = (300, 1) }, out: out)
        let accuracy = try #require(run.report?.metrics["token_accuracy"]?.number)
        #expect(accuracy > 0 && accuracy <= 1)
        let lines = scratch("sentences.txt")
        try "The cat sat on the mat .\n".write(toFile: lines, atomically: true, encoding: .utf8)
        let tagged = try predictText(out, lines).split(separator: "\n")
        #expect(tagged.count == 8 && tagged[1].hasPrefix("1,1,The,"))
    }

    // MARK: Bad input

    func failure(_ options: TaskOptions, out name: String = "bad") -> String {
        let out = scratch(name)
        defer {
            #expect(!FileManager.default.fileExists(atPath: out), "no model directory is left behind")
            #expect(!FileManager.default.fileExists(atPath: out + ".partial"), "no partial directory is left behind")
        }
        do {
            _ = try Tasks.train(options, out: out)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func file(_ name: String, _ contents: String) throws -> String {
        let path = scratch(name)
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func badInputIsAOneLineMessage() throws {
        let missing = TaskOptions(task: .forecast, dataPath: "/no/such/file.csv")
        #expect(failure(missing) == "/no/such/file.csv: cannot be read (no such file)")
        let ragged = try file("ragged.csv", "t,y\n1,2\n3\n")
        #expect(failure(TaskOptions(task: .forecast, dataPath: ragged)) == "\(ragged): line 3: 1 fields where the header has 2")
        let quote = try file("quote.csv", "text,label\n\"good,great\nbad,other\n")
        #expect(failure(TaskOptions(task: .classifyText, dataPath: quote)).hasSuffix("line 2, column 1: unterminated quoted field (no closing quote before the end of the file)"))
        let word = try file("word.csv", "y\n" + (1...100).map(String.init).joined(separator: "\n") + "\nabc\n")
        var column = TaskOptions(task: .forecast, dataPath: word)
        column.column = "y"
        #expect(failure(column) == "\(word): line 102, column 1 (y): \"abc\" is not a number")
        let empty = try file("empty.txt", "")
        #expect(failure(TaskOptions(task: .languageModel, dataPath: empty)) == "\(empty): the file is empty")
        var tooFew = small(.classifySequences, "japanese_vowels.csv") { Self.vowels(&$0) }
        (tooFew.limit, tooFew.batchSize) = (nil, 300)
        #expect(failure(tooFew) == "243 training examples → 0 batches of 300; lower --batch-size")
        let unseen = try file("unseen.csv", "split,text,label\n" + String(repeating: "train,good tea,great\ntrain,bad tea,other\n", count: 20) + "test,fine tea,meh\n")
        #expect(failure(TaskOptions(task: .classifyText, dataPath: unseen)) == "\(unseen): line 42: label \"meh\" was not seen in training (labels: great, other)")
        let unknown = try file("unknown.csv", "split,text,label\n" + String(repeating: "train,good tea,great\ntrain,bad tea,other\n", count: 20) + "test,!!!,great\n")
        #expect(failure(TaskOptions(task: .classifyText, dataPath: unknown)) == "\(unknown): line 42: the text has no word the model knows")
        var zero = small(.classifySequences, "japanese_vowels.csv") { Self.vowels(&$0) }
        zero.units = 0
        #expect(failure(zero) == "--units must be positive, got 0")
        var split = small(.classifySequences, "japanese_vowels.csv") { Self.vowels(&$0) }
        split.valSplit = 1.5
        #expect(failure(split) == "--val-split must be in [0, 1), got 1.5")
        let occupied = scratch("occupied")
        try FileManager.default.createDirectory(atPath: occupied, withIntermediateDirectories: true)
        try "keep me".write(toFile: occupied + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: RecurrentError.file(path: occupied, problem: "exists and is not a model directory; choose another --out")) {
            try Tasks.train(small(.classifySequences, "japanese_vowels.csv") { Self.vowels(&$0) }, out: occupied)
        }
        #expect(FileManager.default.fileExists(atPath: occupied + "/notes.txt"))
        let invalid = scratch("invalid.txt")
        try Data([0x61, 0x62, 0x0A, 0x63, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: invalid))
        #expect(failure(TaskOptions(task: .tag, dataPath: invalid)) == "\(invalid): line 2, column 2: invalid UTF-8")
    }

    @Test func aModelOfAnotherTaskIsRefused() throws {
        let out = scratch("vowels-for-generate")
        _ = try Tasks.train(small(.classifySequences, "japanese_vowels.csv") { Self.vowels(&$0); $0.epochs = 1 }, out: out)
        #expect(throws: RecurrentError.file(path: out, problem: "holds a classify-sequences model, not language-model")) {
            try Tasks.generate(model: out, prime: "a", length: 3)
        }
        #expect(throws: RecurrentError.file(path: "/no/model", problem: "no such model directory")) {
            try Tasks.evaluate(model: "/no/model", data: Self.data("japanese_vowels.csv"))
        }
    }

    /// The command-line tool prints one line on standard error and exits with status 1.
    @Test func commandLineErrorsAreOneLine() throws {
        let binary = Self.root + "/.build/debug/recurrent"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "swift test builds the recurrent tool at \(binary)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["train", "forecast", "--data", "/no/such.csv", "--out", scratch("cli")]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(message == "error: /no/such.csv: cannot be read (no such file)\n")
    }
}
