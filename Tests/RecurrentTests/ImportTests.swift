import Foundation
import Recurrent
import Testing
@testable import RecurrentTasks

/// `recurrent import` + `predict` on `.npy`: PyTorch and Keras models from the golden files
/// (`tools/reference/make_model_fixtures.py`, `make_torch_rnn_fixtures.py`) give the
/// framework's outputs; bad architectures and weights are named.
@Suite(.serialized) struct ImportTests {
    static let models = Result { try SafeTensors.read(path: ModelParityTests.modelsPath("torch_models.safetensors")).tensors }
    static let keras = Result { try SafeTensors.read(path: ModelParityTests.modelsPath("keras_models.safetensors")).tensors }

    func scratch(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "recurrent-import-tests-\(ProcessInfo.processInfo.processIdentifier)/" + name
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return path
    }

    /// The tensors under `prefix.` without it: a module's state dict as PyTorch saved it.
    func stateDict(_ tensors: [String: Tensor], _ prefix: String, excluding: Set<String> = []) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
            guard key.hasPrefix(prefix + "."), !excluding.contains(String(key.dropFirst(prefix.count + 1))) else { return nil }
            return (String(key.dropFirst(prefix.count + 1)), value)
        })
    }

    func writeNPY(_ tensor: Tensor, _ name: String) throws -> String {
        let path = scratch(name)
        try NumPy.writeNPY(tensor).write(to: URL(fileURLWithPath: path))
        return path
    }

    func predictNPY(_ model: String, _ x: Tensor) throws -> Tensor {
        try NumPy.readNPY(data: try Tasks.predict(model: model, input: try writeNPY(x, "x.npy"), format: .npy))
    }

    static let classifierArch =
        "embedding:num=50,dim=8,padding_idx=0; lstm:input=8,hidden=16,layers=2,bidirectional,batch_first; last; linear:in=32,out=3,name=fc"

    @Test func pytorchTextClassifierGivesTorchOutputs() throws {
        let tensors = try Self.models.get()
        let weights = scratch("classifier.safetensors")
        try SafeTensors.write(stateDict(tensors, "classifier", excluding: ["x", "y"]), to: weights)
        let out = scratch("classifier")
        let run = try Tasks.importModel(framework: .pytorch, weights: weights, architecture: Self.classifierArch, out: out)
        #expect(run.parameterCount == 400 + 2 * (4 * 16 * (8 + 16 + 2)) + 2 * (4 * 16 * (32 + 16 + 2)) + 99)
        let y = try predictNPY(out, try #require(tensors["classifier.x"]))
        expectClose(y, try #require(tensors["classifier.y"]), atol: 2e-6, rtol: 2e-5, "classifier")
        // CSV: a header and one line per example.
        let csv = String(decoding: try Tasks.predict(model: out, input: try writeNPY(tensors["classifier.x"]!, "x.npy")), as: UTF8.self)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "y0,y1,y2" && lines.count == 5)
        #expect(try Tasks.summary(model: out).contains("framework: pytorch"))
        #expect(throws: RecurrentError.self) { try Tasks.evaluate(model: out, data: "unused.csv") }
    }

    @Test(arguments: [("gru_l3_bi", "gru:input=3,hidden=4,layers=3,bidirectional"),
                      ("lstm_l2_bi_bf", "lstm:input=3,hidden=4,layers=2,bidirectional,batch_first"),
                      ("rnn_l3_bi_bf", "rnn:input=3,hidden=4,layers=3,bidirectional,batch_first,nonlinearity=tanh")])
    func pytorchBareModuleGivesTorchOutputs(name: String, arch: String) throws {
        let fixture = try Fixtures.load("torch_rnn").tensors
        let parameters = stateDict(fixture, name).filter { $0.key.hasPrefix("weight_") || $0.key.hasPrefix("bias_") }
        #expect(!parameters.isEmpty)
        let weights = scratch(name + ".safetensors")
        try SafeTensors.write(parameters, to: weights)
        let out = scratch(name)
        _ = try Tasks.importModel(framework: .pytorch, weights: weights, architecture: arch, out: out)
        let y = try predictNPY(out, try #require(fixture[name + ".input"]))
        expectClose(y, try #require(fixture[name + ".output"]), atol: 2e-6, rtol: 2e-5, name)
    }

    static let kerasArchitectures = [
        ("stacked_lstm", "input:10x5; lstm:units=64,return_sequences; lstm:units=32; dense:units=1"),
        ("embedding_gru_bidir", "input:7; embedding:input_dim=30,output_dim=6,mask_zero; gru:units=5,return_sequences,bidirectional,merge_mode=sum; dense:units=4,activation=softmax"),
        ("gru_classic", "input:?x5; gru:units=16,reset_after=false; dense:units=3,activation=softmax"),
        ("masking", "input:6x3; masking:mask_value=0; lstm:units=8; dense:units=1"),
    ]

    @Test(arguments: kerasArchitectures)
    func kerasModelGivesKerasOutputs(name: String, arch: String) throws {
        let tensors = try Self.keras.get()
        let out = scratch(name)
        _ = try Tasks.importModel(framework: .keras, weights: try ModelParityTests.modelsPath("keras_\(name).npz"), architecture: arch, out: out)
        let y = try predictNPY(out, try #require(tensors["\(name).x"]))
        expectClose(y, try #require(tensors["\(name).y"]), atol: 2e-6, rtol: 2e-5, name)
    }

    /// The command-line path: `recurrent import` then `recurrent predict --output y.npy`.
    @Test func commandLineImportAndPredict() throws {
        let binary = TaskTests.root + "/.build/debug/recurrent"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "swift test builds the recurrent tool at \(binary)")
        let tensors = try Self.keras.get()
        let (out, x, y) = (scratch("cli-model"), try writeNPY(try #require(tensors["stacked_lstm.x"]), "cli-x.npy"), scratch("cli-y.npy"))
        let imported = try run(binary, ["import", "--keras", try ModelParityTests.modelsPath("keras_stacked_lstm.npz"),
                                        "--arch", Self.kerasArchitectures[0].1, "--out", out])
        #expect(imported.status == 0, "\(imported.errors)")
        #expect(imported.output.contains("30,369") || imported.output.contains("30369"))
        let predicted = try run(binary, ["predict", "--model", out, "--input", x, "--output", y])
        #expect(predicted.status == 0, "\(predicted.errors)")
        expectClose(try NumPy.readNPY(path: y), try #require(tensors["stacked_lstm.y"]), atol: 2e-6, rtol: 2e-5, "cli")
        let failed = try run(binary, ["import", "--keras", "/no/such.npz", "--arch", "input:3; dense:units=1", "--out", scratch("cli-missing")])
        #expect(failed.status == 1)
        #expect(failed.errors.hasPrefix("error: /no/such.npz: ") && failed.errors.split(separator: "\n").count == 1, "\(failed.errors)")
        #expect(!FileManager.default.fileExists(atPath: scratch("cli-missing")))
    }

    func run(_ binary: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let (output, errors) = (Pipe(), Pipe())
        (process.standardOutput, process.standardError) = (output, errors)
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    func importError(_ framework: Framework, _ weights: String, _ arch: String) -> String {
        let out = scratch("bad")
        defer { #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial")) }
        do {
            _ = try Tasks.importModel(framework: framework, weights: weights, architecture: arch, out: out)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func badArchitecturesAndWeightsAreNamed() throws {
        let tensors = try Self.models.get()
        let weights = scratch("classifier-bad.safetensors")
        try SafeTensors.write(stateDict(tensors, "classifier", excluding: ["x", "y"]), to: weights)
        let hidden20 = Self.classifierArch.replacingOccurrences(of: "hidden=16", with: "hidden=20")
        #expect(importError(.pytorch, weights, hidden20).contains("--arch: its modules do not fit together: Dense(3): expected shape [..., 32], got [1, 40]"))
        #expect(importError(.pytorch, weights, hidden20.replacingOccurrences(of: "in=32", with: "in=40"))
                    .contains("lstm.weight_ih_l0 is [64, 8] but module 2 (lstm) takes [80, 8]"))
        let unnamed = Self.classifierArch.replacingOccurrences(of: ",name=fc", with: "")
        let message = importError(.pytorch, weights, unnamed)
        #expect(message.contains("has no linear.weight [3, 32] for module 4 (linear) (give the module name=...); the file's modules: embedding, fc, lstm"), "\(message)")
        #expect(importError(.pytorch, weights, "lstm:input=8,hidden=16,layers=2,bidirectional,batch_first")
                    .contains("embedding.weight [50, 8] belongs to no module of --arch"))
        #expect(importError(.pytorch, weights, "lstm:input=8,hiden=16").contains("module 1 (lstm): needs hidden=N"))
        #expect(importError(.pytorch, weights, "lstm:input=8,hidden=16,hiden=3").contains("module 1 (lstm): unknown option \"hiden\""))
        #expect(importError(.pytorch, weights, "lstm:input=8,hidden=sixteen").contains("hidden=sixteen is not a whole number"))
        #expect(importError(.pytorch, weights, "conv1d:in=3").contains("unknown pytorch module \"conv1d\""))
        #expect(importError(.pytorch, weights, "lstm:input=8,hidden=16;;linear:in=1,out=1").contains("module 2 is empty"))
        #expect(importError(.pytorch, "model.pt", "lstm:input=8,hidden=16").contains("model.pt: is a pickle"))
        #expect(importError(.keras, try ModelParityTests.modelsPath("keras_lstm.npz"), "lstm:units=64; dense:units=1")
                    .contains("starts with its input shape"))
        #expect(importError(.keras, try ModelParityTests.modelsPath("keras_lstm.npz"), "input:10x5; lstm:units=32; dense:units=1")
                    .contains("keras_lstm.npz: does not fit --arch"))
    }

    @Test func selectTimeStepPicksAStepAndPassesGradients() throws {
        let x = random([2, 4, 3], seed: 5)
        let last = try SelectTimeStep()(Variable(x)).value
        #expect(last.shape == [2, 3])
        #expect(last.scalars == [9, 10, 11, 21, 22, 23].map { x.scalars[$0] })
        let first = try SelectTimeStep(0, batchFirst: false)(Variable(x)).value
        #expect(first.scalars == Array(x.scalars[0..<12]))
        #expect(throws: RecurrentError.self) { try SelectTimeStep(4)(Variable(x)) }
        try checkGradients([x]) { try SelectTimeStep(-2)($0[0]) }
        try checkGradients([x]) { try SelectTimeStep(1, batchFirst: false)($0[0]) }
    }
}
