import Foundation
import Recurrent
import Testing

/// Where the package's files are: the tests read the documentation and the reference fixtures
/// from the checkout they were built from.
enum Package {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The PyTorch and Keras reference files of `tools/reference/make_model_fixtures.py`.
    static let torchModels = Result { try SafeTensors.read(path: path("Tests/RecurrentTests/Fixtures/models/torch_models.safetensors")) }
    static let kerasModels = Result { try SafeTensors.read(path: path("Tests/RecurrentTests/Fixtures/models/keras_models.safetensors")) }
    static let kerasFunctional = Result {
        try SafeTensors.read(path: path("Tests/RecurrentTests/Fixtures/models/keras_functional.safetensors"))
    }

    /// The state dict the fixture holds for a PyTorch module: its tensors under `name.`, less x and y.
    static func stateDict(_ name: String) throws -> [String: Tensor] {
        let (tensors, _) = try torchModels.get()
        return Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
            guard key.hasPrefix(name + "."), key != name + ".x", key != name + ".y" else { return nil }
            return (String(key.dropFirst(name.count + 1)), value)
        })
    }

    /// Keras's summary text of a fixture model, without its final newline.
    static func kerasSummary(_ name: String, functional: Bool = false) throws -> String? {
        let metadata = try (functional ? kerasFunctional : kerasModels).get().metadata
        return metadata["\(name).summary_text_default"].map { String($0.dropLast()) }
    }
}

/// |a − b| ≤ atol + rtol·|b| for every element, and equal shapes.
func expectClose(_ a: Tensor, _ b: Tensor, atol: Float = 2e-6, rtol: Float = 2e-5, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, sourceLocation: sourceLocation)
    let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) - rtol * abs($1) }.max() ?? 0
    #expect(worst <= atol, "largest excess difference \(worst)", sourceLocation: sourceLocation)
}
