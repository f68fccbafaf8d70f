import Foundation

/// The processes of a data-parallel run and the collective operations between them. `fit`
/// takes one (`fit(…, distributed: MPICommunicator.world())` when built with the `MPI` trait and
/// launched by `mpirun`); every rank runs the same program on its shard of each global batch.
public protocol Communicator: AnyObject, Sendable {
    /// This process's place among `size` processes (0 is the one that prints and writes).
    var rank: Int { get }
    var size: Int { get }
    /// Whether `allReduceSum` may run on a background thread while this one computes (MPI
    /// granted `MPI_THREAD_MULTIPLE`): the gradient reductions then overlap the backward pass.
    var reducesInBackground: Bool { get }
    /// Every rank's `values` become the element-wise sum over the ranks.
    func allReduceSum(_ values: inout [Float]) throws
    /// Every rank's `values` become rank `root`'s.
    func broadcast(_ values: inout [Float], from root: Int) throws
    /// Every rank's `bytes` become rank `root`'s (whose length the others need not know).
    func broadcast(_ bytes: inout [UInt8], from root: Int) throws
    /// Ends every rank of the job after printing `message` (a failure on one rank must not leave
    /// the others waiting in a collective).
    func abort(_ message: String) -> Never
}

extension Communicator {
    /// Rank 0's parameter values on every rank (a run's start: the ranks initialised apart).
    public func broadcastParameters(_ parameters: [Variable]) throws {
        var flat = parameters.flatMap(\.value.scalars)
        try broadcast(&flat, from: 0)
        var offset = 0
        for parameter in parameters {
            let n = parameter.value.count
            parameter.value = try Tensor(shape: parameter.value.shape, scalars: Array(flat[offset..<(offset + n)]))
            offset += n
        }
    }

    /// Rank `root`'s bytes (a file it read, the preprocessing it fitted) on every rank.
    public func broadcasting(_ bytes: [UInt8], from root: Int = 0) throws -> [UInt8] {
        var bytes = bytes
        try broadcast(&bytes, from: root)
        return bytes
    }
}

/// The number of processes when this one was started by `mpirun` (Open MPI's, or a PMI/PMIx
/// launcher's, variables), nil otherwise. Read in every build, so that a build without the `MPI`
/// trait can refuse to run as many copies that would each write the same model.
public var mpiLauncherWorldSize: Int? {
    let environment = ProcessInfo.processInfo.environment
    return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
}

/// Averages the gradients of each data-parallel step over the ranks. The gradients travel in
/// fused buckets of about `bucketFloats` floats, one reduction each (Horovod's tensor fusion),
/// filled from the last parameters on, the first whose backward pass completes: a bucket is
/// sent as soon as its gradients are final (`gradientReady` is the hook of
/// `backward(whenComplete:)`), on a background thread where MPI allows it, so the exchange
/// overlaps the backward pass of the layers below. Every rank sends the buckets in the same
/// order, as MPI's collectives require (so a parameter the pass does not reach holds back its
/// bucket and the later ones until `finish`).
public final class GradientExchange: @unchecked Sendable {
    /// PyTorch DDP's first bucket is 1 MiB and the others 25 MiB, Horovod's fusion buffer 64 MiB;
    /// recurrent layers finish their gradients a layer at a time, so 4 MiB buckets let a
    /// 512-unit layer's gradients leave while the layer below runs its BPTT.
    public static let defaultBucketFloats = 1 << 20

    private final class Bucket: @unchecked Sendable {
        /// The parameters (their indices) and where each one's gradient starts in `flat`.
        var members: [(index: Int, offset: Int)] = []
        var flat: [Float] = []
    }

    private let world: Communicator
    private let parameters: [Variable]
    private let buckets: [Bucket]
    /// Each parameter's index, bucket and place among the bucket's members.
    private let place: [ObjectIdentifier: (index: Int, bucket: Int, member: Int)]
    private let background: DispatchQueue?
    private var waiting: [Int] = []
    private var packed: [Bool] = []
    private var launched = 0
    private var scale: Float = 1
    private var failure: Error?
    /// Seconds this thread spent blocked on reductions over the steps so far: in them when they
    /// run here, waiting for the background ones after the backward pass when they overlap it.
    public private(set) var blockedSeconds = 0.0

    public init(_ parameters: [Variable], world: Communicator, bucketFloats: Int = defaultBucketFloats, overlap: Bool = true) {
        self.world = world
        self.parameters = parameters
        var buckets: [Bucket] = [Bucket()]
        var filled = 1   // the first bucket also carries the step's global example count
        var place: [ObjectIdentifier: (Int, Int, Int)] = [:]
        for index in parameters.indices.reversed() {
            let n = parameters[index].value.count
            if !buckets[buckets.count - 1].members.isEmpty && filled + n > bucketFloats {
                buckets[buckets.count - 1].flat = [Float](repeating: 0, count: filled)
                buckets.append(Bucket())
                filled = 0
            }
            place[ObjectIdentifier(parameters[index])] = (index, buckets.count - 1, buckets[buckets.count - 1].members.count)
            buckets[buckets.count - 1].members.append((index, filled))
            filled += n
        }
        buckets[buckets.count - 1].flat = [Float](repeating: 0, count: filled)
        self.buckets = buckets
        self.place = place
        background = overlap && world.reducesInBackground ? DispatchQueue(label: "recurrent.gradient-exchange") : nil
    }

    /// Whether the reductions run on a background thread, overlapping the backward pass.
    public var overlaps: Bool { background != nil }

    /// The buckets' sizes in floats, in the order they are sent.
    public var bucketSizes: [Int] { buckets.map(\.flat.count) }

    /// A step begins: this rank's gradients will be means over `examples` examples.
    public func begin(examples: Int) {
        scale = Float(examples)
        waiting = buckets.map(\.members.count)
        packed = Array(repeating: false, count: parameters.count)
        launched = 0
        buckets[0].flat[0] = Float(examples)
    }

    /// The hook for `backward(whenComplete:)`: `variable`'s gradient is final.
    public func gradientReady(_ variable: Variable) {
        guard let (index, b, member) = place[ObjectIdentifier(variable)], !packed[index] else { return }
        pack(index, into: buckets[b], at: buckets[b].members[member].offset)
        waiting[b] -= 1
        while launched < buckets.count && waiting[launched] == 0 { launch(launched) }
    }

    /// After the backward pass: sends the buckets not yet sent (a parameter the pass did not reach
    /// counts as a zero gradient), waits for all, and leaves every parameter's gradient the mean over
    /// all ranks' examples. Returns the global example count.
    @discardableResult
    public func finish() throws -> Int {
        for b in launched..<buckets.count {
            for (index, offset) in buckets[b].members where !packed[index] { pack(index, into: buckets[b], at: offset) }
            launch(b)
        }
        let started = Date()
        background?.sync {}
        blockedSeconds += Date().timeIntervalSince(started)
        if let failure { self.failure = nil; throw failure }
        let total = Int(buckets[0].flat[0].rounded())
        let divisor = Float(max(total, 1))
        for bucket in buckets {
            for (index, offset) in bucket.members {
                let parameter = parameters[index]
                parameter.grad = try Tensor(shape: parameter.value.shape,
                                            scalars: bucket.flat[offset..<(offset + parameter.value.count)].map { $0 / divisor })
            }
        }
        return total
    }

    private func pack(_ index: Int, into bucket: Bucket, at offset: Int) {
        packed[index] = true
        let n = parameters[index].value.count
        let scale = scale
        bucket.flat.withUnsafeMutableBufferPointer { flat in
            if let grad = parameters[index].grad {
                grad.withUnsafeBufferPointer { g in for i in 0..<n { flat[offset + i] = g[i] * scale } }
            } else {
                for i in 0..<n { flat[offset + i] = 0 }
            }
        }
    }

    private func launch(_ b: Int) {
        launched = b + 1
        let bucket = buckets[b], world = world
        guard let background else {
            let started = Date()
            do { try world.allReduceSum(&bucket.flat) } catch { failure = failure ?? error }
            blockedSeconds += Date().timeIntervalSince(started)
            return
        }
        background.async {
            guard self.failure == nil else { return }
            do { try world.allReduceSum(&bucket.flat) } catch { self.failure = error }
        }
    }
}
