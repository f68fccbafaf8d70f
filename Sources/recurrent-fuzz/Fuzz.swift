// libFuzzer targets for every loader. fuzz/run.sh builds them with -sanitize=fuzzer and
// -D FUZZING; an ordinary build gets a stub that says how to run them.
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

let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""

/// One input: a clear refusal (a `RecurrentError`) is the expected outcome for most; anything
/// else that escapes is a finding.
func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        try loaders[target]!(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    } catch is RecurrentError {
    } catch {
        fatalError("\(target): an error that is not a RecurrentError: \(error)")
    }
    return 0
}

#if FUZZING
// fuzz/run.sh compiles this file alone with swiftc -sanitize=fuzzer, whose libFuzzer supplies main.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntry(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard loaders[target] != nil else {
        FileHandle.standardError.write(Data("FUZZ_TARGET must be one of: \(loaders.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return fuzzOne(bytes, count)
}
#else
@main
enum FuzzStub {
    static func main() {
        print("Build and run the fuzz targets with fuzz/run.sh (targets: \(loaders.keys.sorted().joined(separator: ", "))).")
    }
}
#endif
