import Testing
@testable import Recurrent

@Suite struct TensorTests {
    @Test func creation() throws {
        let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3])
        #expect(t[1, 2] == 6)
    }
}
