import Foundation
import Testing
@testable import Recurrent

/// Inputs the fuzzers found (`fuzz/run.sh`), kept as regression tests.
@Suite struct FuzzRegressionTests {
    static func input(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/fuzz"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// model-json: an architecture declaring a 94898 × 7820 input made building it allocate 3 GB.
    @Test func anArchitectureTooLargeForItsFileIsRefusedBeforeItIsBuilt() throws {
        let architecture = try Self.input("model-json-oom-input-shape.json")
        let metadata = ["format": Sequential.archiveFormat, "architecture": architecture]
        #expect(message { _ = try Sequential.load(tensors: [:], metadata: metadata, path: "m.safetensors") }
            .contains("has more than 4194304 elements per example"))
        let wide = #"{"sequential": {"name": "s", "inputShape": [4], "layers": [{"dense": {"units": 900000000, "activation": "linear", "useBias": true, "convention": "keras"}}]}}"#
        #expect(message { _ = try Sequential.load(tensors: [:], metadata: ["format": Sequential.archiveFormat, "architecture": wide], path: "m.safetensors") }
            .contains("Dense units of 900000000 is larger than the file's 65536 weights could fill"))
    }

    /// model-json: an input axis of -2 reached a precondition (a negative element count).
    @Test func aNegativeInputAxisIsAnError() throws {
        let metadata = ["format": Sequential.archiveFormat, "architecture": try Self.input("model-json-negative-input-axis.json")]
        #expect(message { _ = try Sequential.load(tensors: [:], metadata: metadata, path: "m.safetensors") }
            .contains("has an axis of -2, not a positive length"))
        #expect(message { try Sequential { Input(shape: [3, -1]); Dense(units: 1) }.build() }.contains("has an axis of -1"))
    }
}
