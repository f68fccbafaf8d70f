import CRecurrentKernels
import Foundation

/// Packed copies of weights kept from one inference call to the next: a recurrent layer's
/// sweep packs its W_hh slices once per weight version instead of once per call, which at
/// batch 1 (a few hundred microseconds per sequence) is a tenth of the call; W_ih likewise.
///
/// An entry is keyed by the weight's storage (held weakly, so identity cannot be reused), the
/// storage's version (bumped by every mutable access, e.g. an optimizer step or a weight
/// load), the layout and the kernel ISA. Packed matrices are immutable once made, so callers
/// may share them across threads.
final class PackedWeightCache: @unchecked Sendable {  // `entries` is guarded by `lock`
    static let shared = PackedWeightCache()

    /// Packed bytes kept at most; the least recently used entries go first.
    let capacityBytes: Int

    init(capacityBytes: Int = 64 << 20) {
        self.capacityBytes = capacityBytes
    }

    /// How a weight was packed: per part, rows {g·H + range} of every gate g (W_hh), or the whole
    /// weight transposed (W_ih); and the weight's shape.
    struct Layout: Equatable, Sendable {
        enum Kind: Equatable, Sendable { case gateRows(gates: Int), transposed }
        var kind: Kind
        var shape: [Int]
        var ranges: [Range<Int>]
    }

    private struct Entry: @unchecked Sendable {  // TensorStorage is only compared, never read
        weak var storage: TensorStorage?
        var version: Int
        var layout: Layout
        var isa: rk_isa
        var packed: [PackedMatrix]
        var bytes: Int { packed.reduce(0) { $0 + $1.byteCount } }
    }

    // An NSLock (a pthread mutex) rather than Synchronization's Mutex: ThreadSanitizer sees
    // pthread locks as synchronisation, and reported every access under the futex-based Mutex
    // as a race.
    private let lock = NSLock()
    nonisolated(unsafe) private var entries: [Entry] = []

    /// The packed matrices of `weight` in `layout`, made by `make` when none are cached for
    /// the weight's current contents.
    func packed(_ weight: Tensor, layout: Layout, make: () -> [PackedMatrix]) -> [PackedMatrix] {
        let storage = weight.storage, version = storage.version, isa = rk_active_isa()
        let hit = lock.withLock { () -> [PackedMatrix]? in
            entries.removeAll { $0.storage == nil }
            guard let i = entries.firstIndex(where: {
                $0.storage === storage && $0.version == version && $0.layout == layout && $0.isa == isa
            }) else { return nil }
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry.packed
        }
        if let hit { return hit }
        let packed = make()
        lock.withLock {
            // Drop entries of freed weights and older versions of this one, then the least
            // recently used beyond the byte budget.
            entries.removeAll { $0.storage == nil || ($0.storage === storage && $0.layout == layout) }
            entries.append(Entry(storage: storage, version: version, layout: layout, isa: isa, packed: packed))
            var bytes = entries.reduce(0) { $0 + $1.bytes }
            while bytes > capacityBytes, entries.count > 1 {
                bytes -= entries.removeFirst().bytes
            }
        }
        return packed
    }

    /// Bytes of packed storage held for weights still alive.
    var liveBytes: Int {
        lock.withLock { entries.filter { $0.storage != nil }.reduce(0) { $0 + $1.bytes } }
    }

    /// Forgets every entry (for tests and memory measurements).
    func removeAll() {
        lock.withLock { entries.removeAll() }
    }
}
