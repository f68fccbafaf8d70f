import Foundation

/// A layer whose weights can be set from, and read as, Keras's `layer.get_weights()` list
/// (kernels [in, out], recurrent kernels with Keras's gate order).
public protocol KerasWeightsConvertible: Layer {
    /// How many arrays the layer takes from Keras's list.
    var kerasWeightCount: Int { get }
    func setKerasWeights(_ weights: [Tensor]) throws
    func kerasWeights() throws -> [Tensor]
}

extension Dense: KerasWeightsConvertible {
    public var kerasWeightCount: Int { useBias ? 2 : 1 }

    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard weights.count == kerasWeightCount, weights[0].rank == 2 else {
            throw RecurrentError.invalidArgument(
                "Dense(\(units)) Keras weights: expected kernel [in, \(units)]\(useBias ? " and bias [\(units)]" : ""), "
                    + "got \(weights.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        let kernel = try weights[0].transposedLastTwo()
        if inputSize == nil, kernel.shape[0] == units, kernel.shape[1] > 0 { build(inputSize: kernel.shape[1]) }
        guard let weight, kernel.shape == weight.shape else {
            throw RecurrentError.shapeMismatch(
                operation: "Dense(\(units)) Keras kernel", expected: "[\(inputSize ?? 0), \(units)]", got: weights[0].shape)
        }
        if let bias {
            guard weights[1].shape == [units] else {
                throw RecurrentError.shapeMismatch(operation: "Dense(\(units)) Keras bias", expected: "[\(units)]", got: weights[1].shape)
            }
            bias.value = weights[1]
        }
        weight.value = kernel
    }

    public func kerasWeights() throws -> [Tensor] {
        guard let weight else { throw RecurrentError.invalidArgument("Dense(\(units)): not built yet") }
        return [try weight.value.transposedLastTwo()] + (bias.map { [$0.value] } ?? [])
    }
}

extension Conv1D: KerasWeightsConvertible {
    public var kerasWeightCount: Int { useBias ? 2 : 1 }

    /// Keras's kernel is [kernelSize, channels, filters]; ours is PyTorch's [filters, channels, kernelSize].
    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard weights.count == kerasWeightCount, weights[0].rank == 3, weights[0].shape[0] == kernelSize,
            weights[0].shape[2] == filters
        else {
            throw RecurrentError.invalidArgument(
                "Conv1D(\(filters), \(kernelSize)) Keras weights: expected kernel [\(kernelSize), channels, \(filters)]"
                    + "\(useBias ? " and bias [\(filters)]" : ""), got \(weights.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        if channels == nil { build(channels: weights[0].shape[1]) }
        let kernel = try weights[0].permuted([2, 1, 0])
        guard let weight, kernel.shape == weight.shape else {
            throw RecurrentError.shapeMismatch(
                operation: "Conv1D(\(filters), \(kernelSize)) Keras kernel", expected: "[\(kernelSize), \(channels ?? 0), \(filters)]",
                got: weights[0].shape)
        }
        if let bias {
            guard weights[1].shape == [filters] else {
                throw RecurrentError.shapeMismatch(operation: "Conv1D Keras bias", expected: "[\(filters)]", got: weights[1].shape)
            }
            bias.value = weights[1]
        }
        weight.value = kernel
    }

    public func kerasWeights() throws -> [Tensor] {
        guard let weight else { throw RecurrentError.invalidArgument("Conv1D(\(filters), \(kernelSize)): not built yet") }
        return [try weight.value.permuted([2, 1, 0])] + (bias.map { [$0.value] } ?? [])
    }
}

extension LayerNormalization: KerasWeightsConvertible {
    public var kerasWeightCount: Int { (scale ? 1 : 0) + (center ? 1 : 0) }

    /// Keras's list: γ then β, each [features].
    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard weights.count == kerasWeightCount, let width = weights.first?.shape.last ?? features,
            weights.allSatisfy({ $0.shape == [width] })
        else {
            throw RecurrentError.invalidArgument(
                "LayerNormalization Keras weights: expected \(kerasWeightCount) arrays [features], "
                    + "got \(weights.map { Shape.describe($0.shape) }.joined(separator: ", "))")
        }
        if features == nil { build(features: width) }
        guard width == features else {
            throw RecurrentError.shapeMismatch(operation: "LayerNormalization Keras weights", expected: "[\(features ?? 0)]", got: [width])
        }
        let present = [weight, bias].compactMap { $0 }
        for (variable, value) in zip(present, weights) { variable.value = value }
    }

    public func kerasWeights() throws -> [Tensor] {
        guard features != nil else { throw RecurrentError.invalidArgument("LayerNormalization: not built yet") }
        return [weight, bias].compactMap { $0?.value }
    }
}

extension Embedding: KerasWeightsConvertible {
    public var kerasWeightCount: Int { 1 }

    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard weights.count == 1, weights[0].shape == weight.shape else {
            throw RecurrentError.shapeMismatch(
                operation: "Embedding Keras weights", expected: Shape.describe(weight.shape), got: weights.first?.shape ?? [])
        }
        weight.value = weights[0]
    }

    public func kerasWeights() throws -> [Tensor] { [weight.value] }
}

extension RecurrentLayer: KerasWeightsConvertible {
    public var kerasWeightCount: Int { useBias ? 3 : 2 }
}

extension Bidirectional: KerasWeightsConvertible {
    public var kerasWeightCount: Int { forwardLayer.kerasWeightCount + backwardLayer.kerasWeightCount }

    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard weights.count == kerasWeightCount else {
            throw RecurrentError.invalidArgument("Bidirectional Keras weights: expected \(kerasWeightCount) arrays, got \(weights.count)")
        }
        try forwardLayer.setKerasWeights(Array(weights.prefix(forwardLayer.kerasWeightCount)))
        try backwardLayer.setKerasWeights(Array(weights.suffix(backwardLayer.kerasWeightCount)))
    }

    public func kerasWeights() throws -> [Tensor] {
        try forwardLayer.kerasWeights() + backwardLayer.kerasWeights()
    }
}

extension TimeDistributed: KerasWeightsConvertible {
    public var kerasWeightCount: Int { (layer as? KerasWeightsConvertible)?.kerasWeightCount ?? 0 }

    public func setKerasWeights(_ weights: [Tensor]) throws {
        guard let inner = layer as? KerasWeightsConvertible else {
            guard weights.isEmpty else { throw RecurrentError.invalidArgument("TimeDistributed: the wrapped layer has no weights") }
            return
        }
        try inner.setKerasWeights(weights)
    }

    public func kerasWeights() throws -> [Tensor] { try (layer as? KerasWeightsConvertible)?.kerasWeights() ?? [] }
}

extension Model {
    /// Sets every layer's weights from Keras's `model.get_weights()` list, in layer order,
    /// converting Keras's layout. Builds a `Sequential` first (it needs its input shape).
    public func setKerasWeights(_ weights: [Tensor]) throws {
        if let sequential = self as? Sequential, !sequential.isBuilt { try sequential.build() }
        var rest = weights[...]
        for (name, layer) in children {
            let count: Int
            switch layer {
            case let l as KerasWeightsConvertible: count = l.kerasWeightCount
            case let l as Model: count = try l.kerasWeights().count
            default: count = layer.namedParameters.isEmpty ? 0 : -1
            }
            guard count >= 0 else {
                throw RecurrentError.invalidArgument("Keras weights: layer \(name) (\(type(of: layer))) cannot take Keras weights")
            }
            guard rest.count >= count else {
                throw RecurrentError.invalidArgument(
                    "Keras weights: \(weights.count) arrays run out at layer \(name), which needs \(count) more")
            }
            let mine = Array(rest.prefix(count))
            rest = rest.dropFirst(count)
            do {
                if let l = layer as? KerasWeightsConvertible { try l.setKerasWeights(mine) }
                else if let l = layer as? Model { try l.setKerasWeights(mine) }
            } catch let error as RecurrentError {
                throw RecurrentError.invalidArgument("Keras weights for layer \(name): \(error)")
            }
        }
        guard rest.isEmpty else {
            throw RecurrentError.invalidArgument(
                "Keras weights: \(weights.count) arrays given, the model takes \(weights.count - rest.count)")
        }
    }

    /// The weights in Keras's `model.get_weights()` order and layout.
    public func kerasWeights() throws -> [Tensor] {
        try children.flatMap { _, layer -> [Tensor] in
            if let l = layer as? KerasWeightsConvertible { return try l.kerasWeights() }
            if let l = layer as? Model { return try l.kerasWeights() }
            return []
        }
    }

    /// Loads `np.savez(path, *model.get_weights())` from Keras: arrays `arr_0`, `arr_1`, … in order.
    public func loadKerasWeights(npz path: String) throws {
        let arrays = try NumPy.readNPZ(path: path)
        let ordered = try arrays.enumerated().map { index, entry -> Tensor in
            guard entry.name == "arr_\(index)" else {
                throw RecurrentError.file(
                    path: path, problem: "expected arrays arr_0, arr_1, … as np.savez(path, *model.get_weights()) writes; "
                        + "found \(entry.name) at position \(index)")
            }
            return entry.tensor
        }
        try setKerasWeights(ordered)
    }
}
