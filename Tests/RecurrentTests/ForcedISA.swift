import Foundation
@testable import Recurrent

/// The kernel ISA is one process-wide setting and suites run in parallel: tests that force it,
/// and tests whose results must repeat bit for bit, hold this lock, so neither sees the other's
/// switch (results on another ISA agree only to float32 tolerance).
enum ForcedISA {
    private static let lock = NSRecursiveLock()
    static let supported = KernelISA.allCases.filter(isKernelISASupported)

    /// Runs `body` once per supported ISA, forced, and restores the best ISA afterwards.
    static func forEach(_ body: (KernelISA) throws -> Void) rethrows {
        try unchanged {
            defer { try? setKernelISA(kernelInfo.bestISA) }
            for isa in supported {
                try! setKernelISA(isa)
                try body(isa)
            }
        }
    }

    /// Runs `body` on `isa`, then restores the best ISA.
    static func with<R>(_ isa: KernelISA, _ body: () throws -> R) throws -> R {
        try unchanged {
            defer { try? setKernelISA(kernelInfo.bestISA) }
            try setKernelISA(isa)
            return try body()
        }
    }

    /// Runs `body` while no other test changes the ISA.
    static func unchanged<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
