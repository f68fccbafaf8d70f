import Foundation
import Recurrent

/// A trained model on disk:
///
/// ```
/// DIR/model.safetensors      weights; the network's architecture in the metadata
/// DIR/preprocessing.json     task, options, what was fitted on the training part
/// DIR/history.json, .csv     one record per epoch
/// DIR/metrics.json           the held-out evaluation with baselines
/// DIR/run.json               command line, seed, sizes, versions, ISA, wall time
/// DIR/report.html            curves, the model and the task's views on one page
/// DIR/checkpoint.safetensors weights, optimizer and trainer state, for --resume
/// ```
/// Written in `DIR.partial` and renamed into place at the end, so a failed run leaves no
/// half-written `DIR` (an interrupted one leaves `DIR.partial`, which `--resume` continues).
public enum ModelDirectory {
    static let modelFile = "model.safetensors", preprocessingFile = "preprocessing.json", checkpointFile = "checkpoint.safetensors"
    static let format = "recurrent.task-model/1"
    /// run.json's task for a directory `recurrent import` wrote: model.safetensors holds a `Sequential`.
    static let importedTask = "imported"

    public static func partialPath(_ directory: String) -> String {
        (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + ".partial"
    }

    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RecurrentError.file(path: path, problem: "cannot be written (\(RecurrentError.reason(error)))")
        }
    }

    static func saveModel(_ network: SequenceNetwork, in directory: String) throws {
        let spec = String(decoding: try JSONEncoder().encode(network.spec), as: UTF8.self)
        try SafeTensors.write(network.stateDict(), metadata: ["format": format, "network": spec, "version": Recurrent.version],
                              to: directory + "/" + modelFile)
    }

    static func savePreprocessing(_ p: Preprocessing, in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(String(decoding: try encoder.encode(p), as: UTF8.self) + "\n", to: directory + "/" + preprocessingFile)
    }

    /// What a model directory holds: a task's network and preprocessing (`recurrent train`), or
    /// a model brought in from another framework (`recurrent import`).
    public enum Contents {
        case task(SequenceNetwork, Preprocessing)
        case imported(Sequential)
    }

    /// A model directory's contents, its model file read once.
    public static func open(_ directory: String) throws -> Contents {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RecurrentError.file(path: directory, problem: "no such model directory")
        }
        let modelPath = directory + "/" + modelFile
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw RecurrentError.file(path: directory, problem: "not a model directory (no \(modelFile))")
        }
        let (tensors, metadata) = try SafeTensors.read(path: modelPath)
        if metadata["format"] == Sequential.archiveFormat {
            return .imported(try Sequential.load(tensors: tensors, metadata: metadata, path: modelPath))
        }
        if let json = metadata["network"], let problem = JSONShape.problem(in: json) {
            throw RecurrentError.file(path: modelPath, problem: "network: \(problem)")
        }
        guard metadata["format"] == format, let json = metadata["network"],
              let spec = try? JSONDecoder().decode(NetworkSpec.self, from: Data(json.utf8)) else {
            throw RecurrentError.file(path: modelPath, problem: "not a model written by `recurrent train` (no \(format) network)")
        }
        let preprocessing = try loadPreprocessing(directory)
        let network = try SequenceNetwork(spec, seed: 0)
        do {
            try network.loadStateDict(tensors)
        } catch {
            throw RecurrentError.file(path: modelPath, problem: "weights do not fit the network: \(error)")
        }
        return .task(network, preprocessing)
    }

    /// A task model's network (with its weights) and preprocessing.
    public static func load(_ directory: String) throws -> (network: SequenceNetwork, preprocessing: Preprocessing) {
        switch try open(directory) {
        case let .task(network, preprocessing): return (network, preprocessing)
        case .imported:
            throw RecurrentError.file(
                path: directory, problem: "holds a model brought in by `recurrent import`, which predicts on .npy tensors "
                    + "(recurrent predict --model \(directory) --input x.npy --output y.npy)")
        }
    }

    static func loadPreprocessing(_ directory: String) throws -> Preprocessing {
        let path = directory + "/" + preprocessingFile
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RecurrentError.file(path: path, problem: "cannot be read (\(RecurrentError.reason(error)))")
        }
        let text = try readTextFile(data: data, path: path)
        if let problem = JSONShape.problem(in: text) { throw RecurrentError.file(path: path, problem: problem) }
        do {
            return try JSONDecoder().decode(Preprocessing.self, from: data)
        } catch {
            throw RecurrentError.file(path: path, problem: "unreadable (\(describe(error)))")
        }
    }

    /// Checks that a model directory holds a model of the task a command needs.
    public static func load(_ directory: String, task: TaskKind?) throws -> (network: SequenceNetwork, preprocessing: Preprocessing) {
        let loaded = try load(directory)
        if let task, loaded.preprocessing.task != task {
            throw RecurrentError.file(path: directory, problem: "holds a \(loaded.preprocessing.task.rawValue) model, not \(task.rawValue)")
        }
        return loaded
    }

    /// Throws unless `directory` is free, empty, or an earlier model directory (which a run replaces).
    static func checkReplaceable(_ directory: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue, fm.fileExists(atPath: directory + "/" + modelFile)
                || ((try? fm.contentsOfDirectory(atPath: directory))?.isEmpty ?? false) else {
            throw RecurrentError.file(path: directory, problem: "exists and is not a model directory; choose another --out")
        }
    }

    /// Writes a model directory: `body` fills `DIR.partial`, which then replaces `directory`;
    /// if `body` throws, the partial directory is removed.
    static func writing<T>(_ directory: String, _ body: (_ partial: String) throws -> T) throws -> T {
        let partial = partialPath(directory)
        let fm = FileManager.default
        try? fm.removeItem(atPath: partial)
        do {
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch {
            throw RecurrentError.file(path: partial, problem: "cannot be created (\(RecurrentError.reason(error)))")
        }
        do {
            let result = try body(partial)
            try commit(partial, to: directory)
            return result
        } catch {
            try? fm.removeItem(atPath: partial)
            throw error
        }
    }

    /// Moves `partial` to `directory`, replacing an earlier model directory there.
    private static func commit(_ partial: String, to directory: String) throws {
        let fm = FileManager.default
        var old: String?
        if fm.fileExists(atPath: directory) {
            try checkReplaceable(directory)
            old = directory + ".old-\(ProcessInfo.processInfo.processIdentifier)"
            try fm.moveItem(atPath: directory, toPath: old!)
        }
        do {
            try fm.moveItem(atPath: partial, toPath: directory)
        } catch {
            if let old { try? fm.moveItem(atPath: old, toPath: directory) }
            throw RecurrentError.file(path: directory, problem: "cannot be written (\(RecurrentError.reason(error)))")
        }
        if let old { try? fm.removeItem(atPath: old) }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}
