// libFuzzer targets for every loader. Built only by fuzz/run.sh (with -sanitize=fuzzer and
// -D FUZZING); an ordinary build gets a stub that says how to run them.
import Foundation
import Recurrent
import RecurrentTasks

/// The loaders, by the name `FUZZ_TARGET` gives: each takes a file's bytes and must either
/// succeed or throw a `RecurrentError`, never crash or allocate beyond the input's size.
let loaders: [String: @Sendable (Data) throws -> Void] = [
    "safetensors": { _ = try SafeTensors.read(data: $0) },
    "npy": { _ = try NumPy.readNPY(data: $0) },
    "npz": { _ = try NumPy.readNPZ(data: $0) },
    "csv": { _ = try CSVTable(data: $0, path: "<csv>") },
    "text": { _ = try readTextFile(data: $0, path: "<text>") },
    // The model directory's JSON: a saved model's architecture, a task's preprocessing and network.
    "model-json": { data in
        let text = try readTextFile(data: data, path: "<json>")
        _ = try? Sequential.load(tensors: [:], metadata: ["format": Sequential.archiveFormat, "architecture": text], path: "<model>")
        _ = try? JSONDecoder().decode(Preprocessing.self, from: data)
        _ = try? JSONDecoder().decode(NetworkSpec.self, from: data)
    },
]

#if FUZZING
let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let load = loaders[target] else {
        FileHandle.standardError.write(Data("FUZZ_TARGET must be one of: \(loaders.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    do {
        try load(Data(bytes: bytes, count: count))
    } catch is RecurrentError {
        // A clear refusal is the expected outcome for most inputs.
    } catch {
        fatalError("\(target): an error that is not a RecurrentError: \(error)")
    }
    return 0
}
#else
@main
enum FuzzStub {
    static func main() {
        print("Build and run the fuzz targets with fuzz/run.sh (targets: \(loaders.keys.sorted().joined(separator: ", "))).")
    }
}
#endif
