#if MPI
import CMPIShim
import Foundation

/// MPI's world communicator (the `MPI` package trait): the processes `mpirun` started.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let reducesInBackground: Bool

    private init() throws {
        guard rk_mpi_init() == 0 else { throw RecurrentError.invalidArgument("MPI_Init failed") }
        rank = Int(rk_mpi_rank())
        size = Int(rk_mpi_size())
        reducesInBackground = rk_mpi_thread_multiple() != 0
        atexit { _ = rk_mpi_finalize() }
    }

    nonisolated(unsafe) private static var shared: MPICommunicator?
    private static let lock = NSLock()

    /// The world of this job, initialising MPI on first use.
    public static func world() throws -> MPICommunicator {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        let made = try MPICommunicator()
        shared = made
        return made
    }

    public func allReduceSum(_ values: inout [Float]) throws {
        let status = values.withUnsafeMutableBufferPointer { rk_mpi_allreduce_sum($0.baseAddress, $0.count) }
        guard status == 0 else { throw RecurrentError.invalidArgument("rank \(rank): MPI_Allreduce failed (error \(status))") }
    }

    public func broadcast(_ values: inout [Float], from root: Int) throws {
        let status = values.withUnsafeMutableBufferPointer { rk_mpi_broadcast($0.baseAddress, $0.count, Int32(root)) }
        guard status == 0 else { throw RecurrentError.invalidArgument("rank \(rank): MPI_Bcast failed (error \(status))") }
    }

    public func broadcast(_ bytes: inout [UInt8], from root: Int) throws {
        // The length first, as eight bytes.
        var length = withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { [UInt8]($0) }
        try broadcastBytes(&length, from: root)
        if rank != root {
            bytes = [UInt8](repeating: 0, count: Int(length.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }))
        }
        try broadcastBytes(&bytes, from: root)
    }

    private func broadcastBytes(_ bytes: inout [UInt8], from root: Int) throws {
        let status = bytes.withUnsafeMutableBufferPointer { rk_mpi_broadcast_bytes($0.baseAddress, $0.count, Int32(root)) }
        guard status == 0 else { throw RecurrentError.invalidArgument("rank \(rank): MPI_Bcast failed (error \(status))") }
    }

    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: rank \(rank) of \(size): \(message)\n".utf8))
        rk_mpi_abort(1)
        exit(1)
    }
}
#endif
