import Foundation
import Recurrent

/// Everything the unroller page shows for one input, computed by the library: the network's
/// input vectors, every layer's states and gates at every step (the cells unrolled with the
/// autograd ops the sweep is tested against), the task's outputs, and gradients through time
/// from a backward pass over the unrolled graph.
public struct UnrollTrace {
    /// One layer and direction over the input: values [step][unit], steps in input order.
    public struct Lane {
        public var layer: Int, direction: Int
        public var h: [[Float]]
        /// Gates and cell state by name ("i", "f", "g", "o", "c"; "r", "z", "n"; "a").
        public var gates: [String: [[Float]]]
    }

    public var lanes: [Lane]
    /// The input vector of each step (embeddings and features side by side).
    public var inputs: [[Float]]
    /// Per step: output probabilities (a language model's next character, a tagger's tags, a
    /// classifier on the prefix ending there); for a forecaster one row, the forecast.
    public var outputs: [[Float]]
    /// ‖∂L/∂h_t‖ of the last layer (both directions together), L as `lossDescription` says.
    public var gradientNorms: [Float]
    public var lossDescription: String
    /// connectivity[t][t′] = ‖∂y_t/∂x_t′‖, y_t the largest output at step t (one row, the final
    /// output, for sequence heads).
    public var connectivity: [[Float]]
    /// The network's output for the whole input, by its own fused forward pass.
    public var networkOutput: [Float]
}

extension UnrollTrace {
    /// Traces `example` (one sequence) through `network`.
    static func make(_ network: SequenceNetwork, _ example: SequenceExample, featureWidth: Int) throws -> UnrollTrace {
        network.eval()
        let batch = try Batching.batch([example], featureWidth: featureWidth)
        let T = example.length
        let spec = network.spec
        let fused = try withoutGradients { try network.forward(batch).output.value.scalars }

        // The input vectors, as leaves: their gradients give the connectivity.
        let x = try withoutGradients { () -> Tensor in
            var parts = try zip(network.embeddings, batch.ids).map { try $0(Variable($1)).value }
            if let features = batch.features { parts.append(features) }
            return parts.count == 1 ? parts[0] : try Tensor.concatenate(parts, axis: 2)
        }
        let width = x.shape[2]
        let steps = try x.reshaped([T, width])
        let inputs = try (0..<T).map { t in Variable(try steps.rows(at: [t]), requiresGrad: true) }

        var lanes: [Lane] = []
        var layerInput = inputs
        var probes: [[Variable]] = []
        var finals: [Variable] = []
        let last = spec.layers - 1
        for layer in 0..<spec.layers {
            var directionOutputs: [[Variable]] = []
            for direction in 0..<spec.directions {
                let p = network.rnn.layers[layer][direction]
                var h = Variable(Tensor.zeros([1, spec.units])), c = Variable(Tensor.zeros([1, spec.units]))
                var hs = [Variable?](repeating: nil, count: T)
                var gates: [String: [[Float]]] = [:]
                var laneProbes: [Variable] = []
                for t in direction == 0 ? Array(0..<T) : Array((0..<T).reversed()) {
                    var seen: [String: [Float]] = [:]
                    let observe: CellObserver = { name, value in seen[name] = value.value.scalars }
                    switch spec.cell {
                    case .lstm: (h, c) = try CellStep.lstm(p, layerInput[t], h, c, observe: observe)
                    case .gru: h = try CellStep.gru(p, layerInput[t], h, resetAfter: true, observe: observe)
                    case .rnn: h = try CellStep.simpleRNN(p, layerInput[t], h, activation: .tanh, observe: observe)
                    }
                    if layer == last {
                        // h + 0: the zero leaf's gradient is ∂L/∂h_t.
                        let probe = Variable(Tensor.zeros([1, spec.units]), requiresGrad: true)
                        h = try h + probe
                        laneProbes.append(probe)
                    }
                    hs[t] = h
                    for (name, value) in seen { gates[name, default: Array(repeating: [], count: T)][t] = value }
                }
                if layer == last {
                    probes.append(direction == 0 ? laneProbes : laneProbes.reversed())
                    finals.append(h)
                }
                lanes.append(Lane(layer: layer, direction: direction, h: hs.map { $0!.value.scalars }, gates: gates))
                directionOutputs.append(hs.map { $0! })
            }
            layerInput = try (0..<T).map { t in
                directionOutputs.count == 1 ? directionOutputs[0][t] : try Variable.concatenate(directionOutputs.map { $0[t] }, axis: 1)
            }
        }

        // The head, step by step or on the summary, as SequenceNetwork.forward computes it.
        var stepLogits: [Variable] = []
        var finalOutput: Variable
        switch spec.head {
        case .stepClasses:
            stepLogits = try layerInput.map { try network.head($0) }
            finalOutput = try Variable.concatenate(stepLogits, axis: 0)
        case .sequenceClasses, .regression:
            var summary = finals.count == 1 ? finals[0] : try Variable.concatenate(finals, axis: 1)
            if spec.maxPooling { summary = try Variable.concatenate([summary, try Variable.stack(layerInput, dim: 1).max(dim: 1).values], axis: 1) }
            finalOutput = try network.head(summary)
            if let bag = network.bag {
                finalOutput = try finalOutput + (try bag(Variable(batch.ids[0])).meanOverTime(mask: nil))
            }
            if let skip = network.skip, let features = batch.features {
                finalOutput = try finalOutput + skip(Variable(try features.reshaped([1, T * spec.features])))
            }
        }
        let difference = zip(finalOutput.value.scalars, fused).map { abs($0 - $1) }.max() ?? 0
        guard difference <= 1e-4 * (1 + (fused.map(abs).max() ?? 0)) else {
            throw RecurrentError.invalidArgument("unroll: the unrolled network differs from the fused one by \(difference)")
        }

        // Outputs per step.
        var outputs: [[Float]]
        let lossDescription: String
        let loss: Variable
        switch spec.head {
        case .stepClasses:
            outputs = stepLogits.map { softmax($0.value.scalars) }
            let top = argmaxIndex(outputs[T - 1])
            loss = try logSoftmaxEntry(stepLogits[T - 1], top) * -1
            lossDescription = "−log p of the most likely output at the last step"
        case .sequenceClasses:
            // The classifier on each prefix, by the network's own forward pass.
            outputs = try (1...T).map { t in
                var prefix = example
                prefix.length = t
                prefix.ids = prefix.ids.map { Array($0.prefix(t)) }
                prefix.features = Array(prefix.features.prefix(t * featureWidth))
                let b = try Batching.batch([prefix], featureWidth: featureWidth)
                return softmax(try withoutGradients { try network.forward(b).output.value.scalars })
            }
            let top = argmaxIndex(finalOutput.value.scalars)
            loss = try logSoftmaxEntry(finalOutput, top) * -1
            lossDescription = "−log p of the predicted class"
        case .regression:
            outputs = [finalOutput.value.scalars]
            loss = try finalOutput[.all, 0]
            lossDescription = "the first forecast value"
        }
        try loss.sum().backward()
        let gradientNorms = (0..<T).map { t in norm(probes.flatMap { $0[t].grad?.scalars ?? [] }) }

        // Connectivity: one backward pass per output step.
        var connectivity: [[Float]] = []
        let rows: [Variable]
        if case .stepClasses = spec.head {
            rows = try stepLogits.enumerated().map { t, logits in try logits[.all, argmaxIndex(outputs[t])] }
        } else {
            rows = [try finalOutput[.all, argmaxIndex(finalOutput.value.scalars)]]
        }
        for row in rows {
            for input in inputs { input.zeroGradient() }
            try row.sum().backward()
            connectivity.append(inputs.map { norm($0.grad?.scalars ?? []) })
        }
        return UnrollTrace(
            lanes: lanes, inputs: inputs.map { $0.value.scalars }, outputs: outputs, gradientNorms: gradientNorms,
            lossDescription: lossDescription, connectivity: connectivity, networkOutput: fused)
    }

    private static func softmax(_ logits: [Float]) -> [Float] {
        let top = logits.max() ?? 0
        let e = logits.map { Foundation.exp(Double($0 - top)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }

    private static func argmaxIndex(_ values: [Float]) -> Int { values.indices.max { values[$0] < values[$1] } ?? 0 }

    private static func logSoftmaxEntry(_ logits: Variable, _ index: Int) throws -> Variable {
        try logits.logSoftmax()[.all, index]
    }

    private static func norm(_ values: [Float]) -> Float { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
