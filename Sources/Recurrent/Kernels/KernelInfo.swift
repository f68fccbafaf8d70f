import CRecurrentKernels
import Foundation
import Synchronization

/// Instruction sets the C kernels are compiled for; one is chosen at run time.
public enum KernelISA: String, CaseIterable, Sendable {
    /// Plain C, for any CPU.
    case portable
    /// x86-64 AVX2 with FMA.
    case avx2
    /// x86-64 AVX-512F with FMA.
    case avx512
    /// arm64 NEON.
    case neon

    var cValue: rk_isa {
        switch self {
        case .portable: return RK_ISA_PORTABLE
        case .avx2: return RK_ISA_AVX2
        case .avx512: return RK_ISA_AVX512
        case .neon: return RK_ISA_NEON
        }
    }

    init(_ value: rk_isa) {
        switch value {
        case RK_ISA_AVX2: self = .avx2
        case RK_ISA_AVX512: self = .avx512
        case RK_ISA_NEON: self = .neon
        default: self = .portable
        }
    }
}

/// What the compute kernels run on: the selected instruction set, the SGEMM register tile and
/// how many threads large matrix products use. Read it with `Recurrent.kernelInfo`.
public struct KernelInfo: CustomStringConvertible, Sendable, Equatable {
    /// The instruction set the kernels use now.
    public let isa: KernelISA
    /// The best instruction set this CPU supports (the default).
    public let bestISA: KernelISA
    /// Every instruction set this CPU supports.
    public let supportedISAs: [KernelISA]
    /// Rows of the SGEMM micro-kernel's register tile (mr).
    public let gemmTileRows: Int
    /// Columns of the SGEMM micro-kernel's register tile (nr).
    public let gemmTileColumns: Int
    /// Threads a large matrix product is split across.
    public let gemmThreads: Int

    public var description: String {
        "kernels: \(isa.rawValue) (best \(bestISA.rawValue); supported "
            + supportedISAs.map(\.rawValue).joined(separator: ", ")
            + "), SGEMM tile \(gemmTileRows)×\(gemmTileColumns), up to \(gemmThreads) thread"
            + (gemmThreads == 1 ? "" : "s")
    }
}

/// The kernels' current configuration (`Recurrent.kernelInfo`).
public var kernelInfo: KernelInfo {
    let active = rk_active_isa()
    return KernelInfo(
        isa: KernelISA(active),
        bestISA: KernelISA(rk_best_isa()),
        supportedISAs: KernelISA.allCases.filter(isKernelISASupported),
        gemmTileRows: Int(rk_gemm_mr(active)),
        gemmTileColumns: Int(rk_gemm_nr(active)),
        gemmThreads: gemmMaxThreads)
}

/// Whether this CPU can run the kernels compiled for `isa`.
public func isKernelISASupported(_ isa: KernelISA) -> Bool {
    rk_isa_supported(isa.cValue) != 0
}

/// Forces the kernels onto `isa` (for comparisons and tests; the default is the best supported).
/// The switch is atomic: a product already running finishes on the ISA it started with.
/// Throws when this CPU cannot run `isa`.
public func setKernelISA(_ isa: KernelISA) throws {
    guard rk_set_isa(isa.cValue) == 0 else {
        let supported = KernelISA.allCases.filter(isKernelISASupported).map(\.rawValue)
        throw RecurrentError.invalidArgument(
            "setKernelISA: this CPU does not support \(isa.rawValue); supported: "
                + supported.joined(separator: ", "))
    }
}

/// Stored in an atomic so any thread may read or change it.
private let gemmMaxThreadsStorage = Atomic<Int>(min(2, max(1, ProcessInfo.processInfo.activeProcessorCount)))

/// The most threads one matrix product is split across (default: 2, or 1 on a single-core
/// machine). Products too small to gain from threads (m·n·k below about 512K) always run on
/// the calling thread. The extra threads are helpers that spin for about 250 µs after each
/// product so that the next one starts at once; on a machine busy with other work, 1 may be
/// faster. Values are clamped to 1...64.
public var gemmMaxThreads: Int {
    get { gemmMaxThreadsStorage.load(ordering: .relaxed) }
    set { gemmMaxThreadsStorage.store(min(64, max(1, newValue)), ordering: .relaxed) }
}
