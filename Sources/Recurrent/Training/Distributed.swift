import Foundation

/// The processes of a data-parallel run and the collective operations between them. `fit`
/// takes one (`fit(…, distributed: MPICommunicator.world())` when built with the `MPI` trait and
/// launched by `mpirun`); every rank runs the same program on its shard of each global batch.
public protocol Communicator: AnyObject {
    /// This process's place among `size` processes (0 is the one that prints and writes).
    var rank: Int { get }
    var size: Int { get }
    /// Every rank's `values` become the element-wise sum over the ranks.
    func allReduceSum(_ values: inout [Float]) throws
    /// Every rank's `values` become rank `root`'s.
    func broadcast(_ values: inout [Float], from root: Int) throws
    /// Ends every rank of the job after printing `message` (a failure on one rank must not leave
    /// the others waiting in a collective).
    func abort(_ message: String) -> Never
}

/// Gradient fusion: the gradients go to the other ranks in buckets of about this many floats,
/// one reduction per bucket (Horovod's tensor fusion), instead of one per parameter.
let fusionBucketFloats = 4 << 20

extension Communicator {
    /// Rank 0's parameter values on every rank (a run's start: the ranks initialised apart).
    func broadcastParameters(_ parameters: [Variable]) throws {
        var flat = parameters.flatMap(\.value.scalars)
        try broadcast(&flat, from: 0)
        var offset = 0
        for parameter in parameters {
            let n = parameter.value.count
            parameter.value = try Tensor(shape: parameter.value.shape, scalars: Array(flat[offset..<(offset + n)]))
            offset += n
        }
    }

    /// Turns each rank's mean gradient over its `examples` into the mean over every rank's
    /// examples: scaled by the local count, summed across ranks in fused buckets, divided by the
    /// global count, which it returns.
    func averageGradients(_ parameters: [Variable], examples: Int) throws -> Int {
        var buckets: [[Variable]] = [[]]
        var filled = 0
        for parameter in parameters {
            if filled > 0 && filled + parameter.value.count > fusionBucketFloats { buckets.append([]); filled = 0 }
            buckets[buckets.count - 1].append(parameter)
            filled += parameter.value.count
        }
        var total = 0
        for (index, bucket) in buckets.enumerated() {
            // The global count rides with the first bucket, so that every bucket is divided as it is unpacked.
            let isFirst = index == 0
            var flat: [Float] = isFirst ? [Float(examples)] : []
            flat.reserveCapacity(bucket.reduce(flat.count) { $0 + $1.value.count })
            for parameter in bucket {
                if let grad = parameter.grad { flat += grad.scalars.map { $0 * Float(examples) } }
                else { flat += [Float](repeating: 0, count: parameter.value.count) }
            }
            try allReduceSum(&flat)
            if isFirst { total = Int(flat[0].rounded()) }
            let divisor = Float(max(total, 1))
            var offset = isFirst ? 1 : 0
            for parameter in bucket {
                let n = parameter.value.count
                parameter.grad = try Tensor(shape: parameter.value.shape, scalars: flat[offset..<(offset + n)].map { $0 / divisor })
                offset += n
            }
        }
        return total
    }
}
