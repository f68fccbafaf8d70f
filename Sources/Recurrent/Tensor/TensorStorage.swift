/// A 64-byte-aligned buffer of Float32 owned by one or more tensors (copy-on-write).
final class TensorStorage: @unchecked Sendable {
    static let alignment = 64

    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// Bumped by every mutable access (`Tensor.withUnsafeMutableBufferPointer`), so that
    /// copies derived from the contents (packed weights) can tell they are stale.
    var version = 0

    init(count: Int) {
        precondition(count >= 0, "negative element count")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: Self.alignment)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(copying source: UnsafeBufferPointer<Float>) {
        self.init(count: source.count)
        if let base = source.baseAddress {
            pointer.update(from: base, count: source.count)
        }
    }

    func copy() -> TensorStorage {
        TensorStorage(copying: UnsafeBufferPointer(start: pointer, count: count))
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
