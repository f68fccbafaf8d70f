import Testing
@testable import Recurrent

/// Finite-difference checks for every differentiable op (tolerances in GradientCheck.swift).
@Suite struct AutogradTests {
    @Test func addSubtractMultiplyDivideWithBroadcasting() throws {
        let a = random([3, 4], seed: 1), b = random([4], seed: 2), c = random([3, 1], seed: 3, low: 0.5, high: 2)
        try checkGradients([a, b]) { try $0[0] + $0[1] }
        try checkGradients([a, b]) { try $0[0] - $0[1] }
        try checkGradients([a, c]) { try $0[0] * $0[1] }
        try checkGradients([a, c]) { try $0[0] / $0[1] }
        try checkGradients([a]) { -$0[0] * 3 + 1 }
    }

    @Test func matmul() throws {
        try checkGradients([random([5, 7], seed: 4), random([7, 3], seed: 5)]) { try $0[0].matmul($0[1]) }
        try checkGradients([random([2, 5, 7], seed: 6), random([3, 7], seed: 7)]) {
            try $0[0].matmul($0[1], transposeOther: true)
        }
    }

    @Test func activations() throws {
        let x = random([4, 5], seed: 8, low: -3, high: 3)
        try checkGradients([x]) { $0[0].tanh() }
        try checkGradients([x]) { $0[0].sigmoid() }
        try checkGradients([x]) { $0[0].relu() }
        try checkGradients([x]) { $0[0].exp() }
        try checkGradients([random([4, 5], seed: 9, low: 0.5, high: 3)]) { $0[0].log() }
        try checkGradients([x]) { try $0[0].softmax() }
        try checkGradients([x]) { try $0[0].logSoftmax() }
    }

    @Test func reductionsAndShapes() throws {
        let x = random([2, 3, 4], seed: 10)
        try checkGradients([x]) { $0[0].sum() }
        try checkGradients([x]) { $0[0].mean() }
        try checkGradients([x]) { try $0[0].sum(axis: 1) }
        try checkGradients([x]) { try $0[0].mean(axis: -1, keepingAxis: true) }
        try checkGradients([x]) { try $0[0].reshaped([6, -1]) }
        try checkGradients([x, random([2, 2, 4], seed: 11)]) { try Variable.concatenate($0, axis: 1) }
        try checkGradients([x]) {
            let parts = try $0[0].split(sizes: [1, 3], axis: 2)
            return try parts[0] * parts[1]
        }
    }

    /// An op with several results: (a·b, a + b) as one recorded op. Its backward runs once per
    /// pass with every result's gradient (nil for an unused one), and matches finite differences
    /// whether the results are used once, twice or not at all.
    @Test func opWithSeveralResults() throws {
        final class Calls: @unchecked Sendable { var count = 0; var sawNil = false }
        let calls = Calls()
        func pair(_ a: Variable, _ b: Variable) throws -> [Variable] {
            let (x, y) = (a.value, b.value)
            return Variable.record([try x * y, try x + y], inputs: [a, b]) { g in
                calls.count += 1
                if g.contains(where: { $0 == nil }) { calls.sawNil = true }
                let dProduct = g[0] ?? Tensor.zeros(x.shape), dSum = g[1] ?? Tensor.zeros(x.shape)
                return [try (try dProduct * y) + dSum, try (try dProduct * x) + dSum]
            }
        }
        let a = random([2, 3], seed: 4), b = random([2, 3], seed: 5)
        try checkGradients([a, b]) { v in
            let r = try pair(v[0], v[1])
            return try (try r[0] * r[1]).sum() + r[0].sum() * 2
        }
        calls.count = 0
        let (va, vb) = (Variable(a, requiresGrad: true), Variable(b, requiresGrad: true))
        try pair(va, vb)[0].sum().backward()
        #expect(calls.count == 1)
        #expect(calls.sawNil)
        expectClose(try #require(va.grad), b, atol: 1e-6, rtol: 1e-6, "d(sum a·b)/da")
        // Without gradient mode the results are constants.
        let constants = try withoutGradients { try pair(va, vb) }
        #expect(constants.allSatisfy { !$0.requiresGrad })
    }

    @Test func gatherAccumulatesRepeatedRows() throws {
        let indices = try Tensor(shape: [2, 3], scalars: [0, 2, 2, 1, 0, 2])
        try checkGradients([random([4, 3], seed: 12)]) { try $0[0].gather(rows: indices) }
        let table = Variable(random([4, 3], seed: 12), requiresGrad: true)
        try table.gather(rows: indices).sum().backward()
        #expect(table.grad!.scalars == [2, 2, 2, 1, 1, 1, 3, 3, 3, 0, 0, 0])
    }

    @Test func gatherRejectsBadIndices() throws {
        let table = Variable(random([4, 3], seed: 12), requiresGrad: true)
        #expect(throws: RecurrentError.self) { try table.gather(rows: Tensor([4])) }
        #expect(throws: RecurrentError.self) { try table.gather(rows: Tensor([1.5])) }
    }

    @Test func dropoutIsSeededAndScaled() throws {
        let x = Variable(Tensor.ones([1000]), requiresGrad: true)
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let y1 = try x.dropout(rate: 0.25, generator: &g1), y2 = try x.dropout(rate: 0.25, generator: &g2)
        #expect(y1.value == y2.value)
        let kept = y1.value.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        #expect(abs(Float(kept.count) / 1000 - 0.75) < 0.05)
        var g3 = SeededGenerator(seed: 5)
        try checkGradients([random([3, 4], seed: 13)]) { _ = g3; var g = SeededGenerator(seed: 5); return try $0[0].dropout(rate: 0.5, generator: &g) }
        #expect(throws: RecurrentError.self) { try x.dropout(rate: 1, generator: &g3) }
    }

    @Test func gradientsAccumulateUntilZeroed() throws {
        let w = Variable(Tensor([1, 2]), requiresGrad: true)
        try (w * 3).sum().backward()
        try (w * 3).sum().backward()
        #expect(w.grad!.scalars == [6, 6])
        w.zeroGradient()
        #expect(w.grad == nil)
    }

    @Test func sharedSubexpressionGetsBothPaths() throws {
        let x = Variable(Tensor([2]), requiresGrad: true)
        let y = try x * x
        try (try y + y).sum().backward()
        #expect(x.grad!.scalars == [8])
    }

    @Test func withoutGradientsRecordsNothing() throws {
        let w = Variable(Tensor([1, 2]), requiresGrad: true)
        let y = withoutGradients { w * 2 }
        #expect(!y.requiresGrad)
        #expect(throws: RecurrentError.self) { try y.sum().backward() }
    }

    @Test func nonScalarBackwardNeedsSeed() throws {
        let w = Variable(Tensor([1, 2]), requiresGrad: true)
        #expect(throws: RecurrentError.self) { try (w * 2).backward() }
        try (w * 2).backward(seed: Tensor([1, 1]))
        #expect(w.grad!.scalars == [2, 2])
    }
}
