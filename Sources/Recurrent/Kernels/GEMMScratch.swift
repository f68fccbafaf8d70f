import Foundation

/// Reusable 64-byte-aligned packing buffers for the GEMM driver, so a product allocates nothing
/// in steady state. Each running product (each thread of a split one) holds its own buffer.
final class GEMMScratch: @unchecked Sendable {  // all mutable state is guarded by `lock`
    static let shared = GEMMScratch()

    private let lock = NSLock()
    private var idle: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    /// Buffers kept for reuse; more concurrent products allocate and free their own.
    private let keep = 4

    /// Calls `body` with a buffer of at least `count` floats (contents undefined).
    func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        var buffer = take()
        if buffer == nil || buffer!.capacity < count {
            if let old = buffer { Self.free(old.pointer) }
            buffer = (Self.allocate(count), count)
        }
        defer { give(buffer!) }
        return body(buffer!.pointer)
    }

    private func take() -> (pointer: UnsafeMutablePointer<Float>, capacity: Int)? {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast()
    }

    private func give(_ buffer: (pointer: UnsafeMutablePointer<Float>, capacity: Int)) {
        lock.lock()
        if idle.count < keep {
            // Largest last, so the next `take` gets the one most likely to fit.
            idle.append(buffer)
            idle.sort { $0.capacity < $1.capacity }
            lock.unlock()
        } else {
            lock.unlock()
            Self.free(buffer.pointer)
        }
    }

    static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
    }

    static func free(_ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
