import Foundation
import Testing
@testable import Recurrent

/// The pieces of data-parallel training that need no MPI: leaves reported as their gradients
/// become final, and the fused buckets that average them (the MPI runs are RecurrentMPITests).
@Suite struct GradientExchangeTests {
    static func model() -> Sequential {
        Sequential {
            Input(shape: [5, 3])
            LSTM(units: 4, returnSequences: true, seed: 1)
            GRU(units: 4, seed: 2)
            Dense(units: 1, seed: 3)
        }
    }

    static func loss(_ model: Sequential) throws -> Variable {
        var generator = SeededGenerator(seed: 9)
        let x = Tensor.randomNormal([6, 5, 3], generator: &generator)
        return try Loss.meanSquaredError(try model(Variable(x)), Tensor.randomNormal([6, 1], generator: &generator))
    }

    @Test func backwardReportsEachLeafOnceWithItsFinalGradientLastLayerFirst() throws {
        let plain = Self.model(), hooked = Self.model()
        try Self.loss(plain).backward()
        let loss = try Self.loss(hooked)   // builds the layers
        let parameters = hooked.parameters()
        var reported: [(index: Int, grad: Tensor)] = []
        try loss.backward { leaf in
            let index = try #require(parameters.firstIndex { $0 === leaf })
            reported.append((index, leaf.grad!))
        }
        #expect(reported.map(\.index).sorted() == Array(parameters.indices))
        for (index, grad) in reported {
            #expect(grad.scalars == parameters[index].grad!.scalars, "reported before its gradient was complete")
            #expect(grad.scalars == plain.parameters()[index].grad!.scalars, "the hook changed the gradient")
        }
        // The Dense layer's, then the GRU's, then the LSTM's: in the order the pass completes them.
        let layerNames = hooked.children.map(\.name)
        let layers = reported.map { report in layerNames.firstIndex(of: String(hooked.namedParameters[report.index].name.split(separator: ".")[0]))! }
        #expect(layers == layers.sorted(by: >) && Set(layers).count == 3, "\(layers)")
    }

    @Test func aLeafUsedTwiceIsReportedOnceWithBothContributions() throws {
        let w = Variable(Tensor([2, 3]), requiresGrad: true)
        let a = Variable(Tensor([1, 5])), b = Variable(Tensor([4, -1]))
        var reports: [[Float]] = []
        try ((w * a) + (w * b)).sum().backward { reports.append($0.grad!.scalars) }
        #expect(reports == [[5, 4]])
    }

    /// Two ranks that computed the same gradients: the average is that gradient, the count the
    /// sum of both, and the buckets go out during the backward pass, last parameters first.
    final class IdenticalPeer: Communicator, @unchecked Sendable {
        let rank = 0, size = 2, reducesInBackground = false
        var reductions: [Int] = []
        var duringBackward: [Bool] = []
        var inBackward = false
        func allReduceSum(_ values: inout [Float]) throws {
            reductions.append(values.count)
            duringBackward.append(inBackward)
            values = values.map { $0 * 2 }
        }
        func broadcast(_ values: inout [Float], from root: Int) throws {}
        func broadcast(_ bytes: inout [UInt8], from root: Int) throws {}
        func abort(_ message: String) -> Never { fatalError(message) }
    }

    @Test func bucketsAverageOverRanksAsTheBackwardPassCompletesThem() throws {
        let reference = Self.model(), model = Self.model()
        try Self.loss(reference).backward()
        let unused = Variable(Tensor([7, 7]), requiresGrad: true)
        let loss = try Self.loss(model)
        // (First: the buckets go out in order, so one the pass never reaches waits until the end.)
        let parameters = [unused] + model.parameters()
        let peer = IdenticalPeer()
        let exchange = GradientExchange(parameters, world: peer, bucketFloats: 40)
        #expect(exchange.bucketSizes.count > 3)
        #expect(exchange.bucketSizes.reduce(0, +) == parameters.reduce(1) { $0 + $1.value.count })
        exchange.begin(examples: 6)
        peer.inBackward = true
        try loss.backward(whenComplete: exchange.gradientReady)
        peer.inBackward = false
        #expect(try exchange.finish() == 12)
        #expect(peer.reductions == exchange.bucketSizes)
        #expect(peer.duringBackward.first == true, "the first bucket waited for the whole pass")
        for (mine, theirs) in zip(model.parameters(), reference.parameters()) {
            let difference = zip(mine.grad!.scalars, theirs.grad!.scalars).map { abs($0 - $1) }.max()!
            #expect(difference <= 1e-6 * (theirs.grad!.scalars.map(abs).max()! + 1))
        }
        #expect(unused.grad?.scalars == [0, 0], "a parameter the pass did not reach counts as a zero gradient")
    }
}
