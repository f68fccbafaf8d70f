import Testing
@testable import Recurrent

/// Inference calls reuse packed weights across calls (`PackedWeightCache`); every way a weight
/// can change must make the next call pack it afresh. Each test compares the output after a
/// change with the output of the same weights packed from scratch (cache emptied), and checks
/// that the change did change the output. "The same" allows 1e-6: other suites running in
/// parallel switch the kernel ISA (GEMMTests), which changes the order of float additions,
/// while a stale weight (halved, or an Adam step of 0.01) moves outputs by more than 1e-3.
@Suite(.serialized) struct PackedWeightCacheTests {
    /// Batch 4 and 80 units: the two-thread split, so W_hh is cached as two packed slices.
    static let (steps, batch, inputSize, hidden) = (5, 4, 12, 80)

    static func layers() -> [(String, RecurrentLayer)] {
        [
            ("rnn", SimpleRNN(inputSize: inputSize, hiddenSize: hidden, numLayers: 2, seed: 11)),
            ("lstm", LSTM(inputSize: inputSize, hiddenSize: hidden, bidirectional: true, seed: 12)),
            ("gru", GRU(inputSize: inputSize, hiddenSize: hidden, numLayers: 2, seed: 13)),
        ]
    }

    static func infer(_ layer: RecurrentLayer, _ x: Tensor) throws -> Tensor {
        try withoutGradients { try layer.run(Variable(x), initialState: nil, mask: nil).output.value }
    }

    /// Equal to 1e-6, reported without printing both tensors.
    static func same(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-6 }
    }

    /// The output with nothing cached: what the current weights must give.
    static func fresh(_ layer: RecurrentLayer, _ x: Tensor) throws -> Tensor {
        PackedWeightCache.shared.removeAll()
        return try infer(layer, x)
    }

    @Test func inPlaceChangesOfEveryWeightReachTheNextCall() throws {
        let x = random([Self.steps, Self.batch, Self.inputSize], seed: 21)
        for (name, layer) in Self.layers() {
            for (index, parameter) in layer.parameters.enumerated() where parameter.value.rank == 2 {
                let before = try Self.infer(layer, x)
                #expect(Self.same(try Self.infer(layer, x), before), "\(name): a cached call differs")
                parameter.value.withUnsafeMutableBufferPointer { w in
                    for i in w.indices { w[i] *= 0.5 }
                }
                let after = try Self.infer(layer, x)
                #expect(!Self.same(after, before), "\(name) parameter \(index): the change had no effect")
                #expect(Self.same(after, try Self.fresh(layer, x)), "\(name) parameter \(index): stale weights")
            }
        }
    }

    @Test func anOptimizerStepReachesTheNextCall() throws {
        let x = random([Self.steps, Self.batch, Self.inputSize], seed: 22)
        for (name, layer) in Self.layers() {
            let before = try Self.infer(layer, x)
            let optimizer = Adam(parameters: layer.parameters(), learningRate: 0.01)
            let output = try layer.run(Variable(x), initialState: nil, mask: nil).output
            try (output * output).sum().backward()
            try optimizer.step()
            let after = try Self.infer(layer, x)
            #expect(!Self.same(after, before), "\(name): the step had no effect")
            #expect(Self.same(after, try Self.fresh(layer, x)), "\(name): stale weights after a step")
        }
    }

    @Test func loadingAStateDictReachesTheNextCall() throws {
        let x = random([Self.steps, Self.batch, Self.inputSize], seed: 23)
        let source = LSTM(inputSize: Self.inputSize, hiddenSize: Self.hidden, bidirectional: true, seed: 31)
        let target = LSTM(inputSize: Self.inputSize, hiddenSize: Self.hidden, bidirectional: true, seed: 32)
        let before = try Self.infer(target, x)
        try target.loadStateDict(Dictionary(uniqueKeysWithValues: source.namedParameters.map { ($0.name, $0.variable.value) }))
        let after = try Self.infer(target, x)
        #expect(!Self.same(after, before))
        #expect(Self.same(after, try Self.fresh(source, x)))
    }

    @Test func cachedInferenceMatchesTheTrainingForward() throws {
        // The training forward packs afresh and saves for backward; same numbers either way.
        let x = random([Self.steps, Self.batch, Self.inputSize], seed: 24)
        for (name, layer) in Self.layers() {
            _ = try Self.infer(layer, x)
            let cached = try Self.infer(layer, x)
            let training = try layer.run(Variable(x, requiresGrad: true), initialState: nil, mask: nil).output.value
            expectClose(cached, training, atol: 1e-6, rtol: 1e-6, "\(name)")
        }
    }

    @Test func entriesGoWithTheirWeightsAndBeyondTheByteBudget() throws {
        let cache = PackedWeightCache(capacityBytes: 3 * 64 * 64 * 4)
        let layout = PackedWeightCache.Layout(kind: .transposed, shape: [64, 64], ranges: [])
        var packs = 0
        func lookUp(_ w: Tensor) -> PackedMatrix {
            cache.packed(w, layout: layout) {
                packs += 1
                return [pack(w.pointer, rows: 64, columns: 64, transposed: true)]
            }[0]
        }
        let kept = random([64, 64], seed: 1)
        let first = lookUp(kept)
        #expect(lookUp(kept) === first && packs == 1)
        do {
            let temporary = random([64, 64], seed: 2)
            _ = lookUp(temporary)
            withExtendedLifetime(temporary) { #expect(cache.liveBytes == 2 * first.byteCount) }
        }
        // The temporary weight is gone: its entry no longer counts and is dropped.
        #expect(cache.liveBytes == first.byteCount)
        let others = (3..<7).map { random([64, 64], seed: UInt64($0)) }
        for w in others { _ = lookUp(w) }
        // Three fit in the budget: the least recently used (`kept`) was evicted.
        #expect(cache.liveBytes == 3 * first.byteCount)
        #expect(lookUp(kept) !== first)
    }
}

