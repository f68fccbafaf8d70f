import Testing
@testable import Recurrent

@Suite struct TensorTests {
    let m = try! Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])

    @Test func creation() throws {
        #expect(m.shape == [2, 3] && m.count == 6 && m.rank == 2)
        #expect(m[1, 2] == 6)
        #expect(m.strides == [3, 1])
        #expect(try Tensor([[1, 2], [3, 4]]).scalars == [1, 2, 3, 4])
        #expect(Tensor.ones([2, 2]).sum() == 4)
        #expect(Tensor(scalar: 3).shape == [])
        #expect(Tensor(scalar: 3).scalar == 3)
        #expect(throws: RecurrentError.self) { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
        #expect(throws: RecurrentError.self) { try Tensor([[1, 2], [3]]) }
    }

    @Test func storageIsAlignedTo64Bytes() {
        for n in [1, 3, 17, 1000] {
            let t = Tensor.zeros([n])
            t.withUnsafeBufferPointer { #expect(UInt(bitPattern: $0.baseAddress!) % 64 == 0) }
        }
    }

    @Test func copyOnWrite() {
        let a = Tensor.zeros([3])
        var b = a
        b[1] = 5
        #expect(a.scalars == [0, 0, 0])
        #expect(b.scalars == [0, 5, 0])
    }

    @Test func seededRandomIsReproducible() {
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42), g3 = SeededGenerator(seed: 43)
        let a = Tensor.randomNormal([1000], generator: &g1)
        #expect(a == Tensor.randomNormal([1000], generator: &g2))
        #expect(a != Tensor.randomNormal([1000], generator: &g3))
        // Moments of a standard normal and of uniform(-2, 3).
        let mean = a.mean(), variance = a.squared().mean() - mean * mean
        #expect(abs(mean) < 0.1 && abs(variance - 1) < 0.1)
        var g4 = SeededGenerator(seed: 7)
        let u = Tensor.randomUniform([10000], low: -2, high: 3, generator: &g4)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(abs(u.mean() - 0.5) < 0.05)
    }

    @Test func reshapeAndTranspose() throws {
        #expect(try m.reshaped([3, -1]).shape == [3, 2])
        #expect(try m.reshaped([6]).scalars == m.scalars)
        #expect(throws: RecurrentError.self) { try m.reshaped([4, -1]) }
        #expect(throws: RecurrentError.self) { try m.reshaped([5]) }
        #expect(throws: RecurrentError.self) { try m.reshaped([-1, -1]) }
        let t = try m.transposedLastTwo()
        #expect(t.shape == [3, 2] && t.scalars == [1, 4, 2, 5, 3, 6])
        let batch = try Tensor(shape: [2, 1, 2], scalars: [1, 2, 3, 4]).transposedLastTwo()
        #expect(batch.shape == [2, 2, 1] && batch.scalars == [1, 2, 3, 4])
        #expect(throws: RecurrentError.self) { try Tensor([1, 2]).transposedLastTwo() }
    }

    @Test func slicingSelectingConcatenatingSplitting() throws {
        let cube = try Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        #expect(try cube.sliced(1..<2).scalars == [6, 7, 8, 9, 10, 11])
        #expect(try cube.sliced(1..<3, axis: 1).scalars == [2, 3, 4, 5, 8, 9, 10, 11])
        #expect(try cube.selecting(2, axis: 1).scalars == [4, 5, 10, 11])
        #expect(try cube.selecting(1).shape == [3, 2])
        #expect(throws: RecurrentError.self) { try cube.sliced(0..<4) }
        #expect(throws: RecurrentError.self) { try cube.selecting(0, axis: 3) }
        let joined = try Tensor.concatenate([m, Tensor([[7, 8, 9]])], axis: 0)
        #expect(joined.shape == [3, 3] && joined.scalars.last == 9)
        let wide = try Tensor.concatenate([m, Tensor([[0], [0]])], axis: 1)
        #expect(wide.scalars == [1, 2, 3, 0, 4, 5, 6, 0])
        #expect(try wide.split(sizes: [3, 1], axis: 1)[0] == m)
        do {
            _ = try Tensor.concatenate([m, Tensor.zeros([2, 2, 1])], axis: 1)
            Issue.record("rank mismatch accepted")
        } catch let error as RecurrentError {
            #expect(error.description.contains("[2, *]") && error.description.contains("[2, 2, 1]"))
        }
        #expect(throws: RecurrentError.self) { try m.split(sizes: [1, 1], axis: 1) }
    }

    @Test func broadcastingArithmetic() throws {
        #expect(try (m + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect(try (m * Tensor([[2], [3]])).scalars == [2, 4, 6, 12, 15, 18])
        #expect(try (m - Tensor(scalar: 1)).scalars == [0, 1, 2, 3, 4, 5])
        #expect(try (Tensor(scalar: 12) / m).scalars == [12, 6, 4, 3, 2.4, 2])
        // General broadcast: [2, 1, 3] + [4, 1] → [2, 4, 3].
        let a = try Tensor(shape: [2, 1, 3], scalars: [0, 1, 2, 3, 4, 5])
        let b = try Tensor(shape: [4, 1], scalars: [0, 10, 20, 30])
        let c = try a + b
        #expect(c.shape == [2, 4, 3])
        #expect(c[1, 2, 1] == 4 + 20)
        #expect(try c.reduced(toShape: [4, 1]).scalars == [15, 75, 135, 195])
        do {
            _ = try m + Tensor([1, 2])
            Issue.record("incompatible shapes accepted")
        } catch let error as RecurrentError {
            #expect(error.description == "add: expected shape a shape broadcastable with [2, 3], got [2]")
        }
    }

    @Test func reductions() throws {
        #expect(m.sum() == 21 && m.mean() == 3.5)
        #expect(try m.sum(axis: 0).scalars == [5, 7, 9])
        #expect(try m.sum(axis: -1, keepingAxis: true).shape == [2, 1])
        #expect(try m.mean(axis: 1).scalars == [2, 5])
        #expect(try m.max(axis: 0).scalars == [4, 5, 6])
        #expect(try Tensor([[1, 3, 3], [2, 0, -1]]).argmax(axis: 1).scalars == [1, 0])
        #expect(try Tensor([[1, 3, 3], [2, 0, -1]]).argmax(axis: 0).scalars == [1, 0, 0])
        #expect(throws: RecurrentError.self) { try m.sum(axis: 2) }
    }

    @Test func matmulShapesAndErrors() throws {
        let b = try Tensor([[1, 0], [0, 1], [1, 1]])
        #expect(try m.matmul(b).scalars == [4, 5, 10, 11])
        #expect(try m.matmul(m, transposeOther: true).scalars == [14, 32, 32, 77])
        #expect(try m.matmul(m, transposeSelf: true).shape == [3, 3])
        #expect(try Tensor.zeros([4, 2, 3]).matmul(b).shape == [4, 2, 2])
        #expect(throws: RecurrentError.self) { try m.matmul(m) }
    }

    @Test func unaryMath() throws {
        let x = Tensor([-1, 0, 2])
        #expect(x.relu().scalars == [0, 0, 2])
        #expect(abs(x.sigmoid()[2] - 0.880797) < 1e-6)
        #expect(abs(x.tanh()[0] + 0.761594) < 1e-6)
        #expect(abs(x.exp()[2] - 7.389056) < 1e-5)
        #expect(Tensor([1, .nan]).isFinite == false)
    }
}
