import CRecurrentKernels
import Dispatch
import Foundation
import Synchronization

/// The helper threads that share large matrix products with the calling thread.
///
/// Why not `DispatchQueue.concurrentPerform`: on the 2-vCPU VM it was measured against, waking
/// an idle Dispatch worker often took longer than 80 µs, so two 81 µs halves took 163 µs — the
/// recurrent step products (50–300 µs) gained nothing. These helpers instead spin for a short
/// while (`spinSeconds`) after each job before they park, as OpenMP runtimes do, so the
/// back-to-back products of a recurrent loop start on both cores within a microsecond.
///
/// A job is `chunks` independent pieces. The caller and the helpers claim pieces with one
/// compare-and-swap on a ticket (generation, piece count, next piece), so the caller does every
/// piece a late (parked or descheduled) helper has not claimed yet and never waits for a helper
/// to wake up; it only waits for pieces a helper is already running. A product started while
/// another thread's product holds the helpers runs on the calling thread alone.
final class GEMMThreads: @unchecked Sendable {  // `body` is ordered by `ticket` (release/acquire)
    static let shared = GEMMThreads()

    /// How long an idle helper spins before it parks.
    static let spinSeconds = 250e-6

    /// generation (31 bits) << 32 | piece count (16 bits) << 16 | next piece (16 bits).
    private let ticket = Atomic<Int>(0)
    /// Pieces of the current job not yet finished.
    private let pending = Atomic<Int>(0)
    /// Set while one caller owns the helpers.
    private let busy = Atomic<Bool>(false)
    /// The current job, valid while its pieces are pending.
    private var body: ((Int) -> Void)?

    private let park = NSCondition()
    private var parked = 0  // guarded by `park`
    private let helperCount = Atomic<Int>(0)
    private let spawnLock = NSLock()

    /// Runs `body(0) … body(chunks - 1)` on the calling thread and up to `threads - 1` helpers.
    func run(chunks: Int, threads: Int, _ body: (Int) -> Void) {
        precondition(chunks > 0 && chunks < 1 << 16)
        guard threads > 1, chunks > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for i in 0..<chunks { body(i) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureHelpers(threads - 1)
        withoutActuallyEscaping(body) { body in
            self.body = body
            pending.store(chunks, ordering: .relaxed)
            let generation = (ticket.load(ordering: .relaxed) >> 32) &+ 1
            ticket.store((generation & 0x7FFF_FFFF) << 32 | chunks << 16, ordering: .releasing)
            park.lock()
            if parked > 0 { park.broadcast() }
            park.unlock()
            work()
            // Wait for pieces the helpers claimed.
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins < 4096 { rk_spin_pause() } else { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Claims and runs pieces of the current job until none is left.
    private func work() {
        var t = ticket.load(ordering: .acquiring)
        while true {
            let count = (t >> 16) & 0xFFFF, next = t & 0xFFFF
            if next >= count { return }
            let (exchanged, original) = ticket.compareExchange(
                expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                body!(next)
                pending.subtract(1, ordering: .releasing)
                t = ticket.load(ordering: .acquiring)
            } else {
                t = original
            }
        }
    }

    private func ensureHelpers(_ wanted: Int) {
        if helperCount.load(ordering: .relaxed) >= wanted { return }
        spawnLock.lock()
        defer { spawnLock.unlock() }
        while helperCount.load(ordering: .relaxed) < wanted {
            let thread = Thread { [self] in helperLoop() }
            thread.name = "Recurrent GEMM helper"
            thread.start()
            helperCount.add(1, ordering: .relaxed)
        }
    }

    private func helperLoop() {
        var seen = ticket.load(ordering: .acquiring) >> 32
        while true {
            // Spin for the next job, then park.
            var spins = 0
            var since = 0.0
            while ticket.load(ordering: .acquiring) >> 32 == seen {
                rk_spin_pause()
                spins += 1
                if spins & 255 == 0 {
                    let now = Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
                    if since == 0 {
                        since = now
                    } else if now - since > Self.spinSeconds {
                        park.lock()
                        parked += 1
                        while ticket.load(ordering: .acquiring) >> 32 == seen { park.wait() }
                        parked -= 1
                        park.unlock()
                    }
                }
            }
            seen = ticket.load(ordering: .acquiring) >> 32
            work()
        }
    }
}

/// A recurrent loop split across threads: `steps` steps, each cut into `parts` independent
/// pieces, where every piece of step s may read what any piece of step s − 1 wrote (one
/// barrier per step, no fork-join per step). Piece p of every step is preferably run by the
/// same thread (its slice of the weights stays in that core's cache); a thread that finds its
/// partner late takes over the partner's piece, so a descheduled or parked helper never stalls
/// the loop and a lone caller runs every piece itself.
extension GEMMThreads {
    /// Runs `body(step, part)` for every step in order and every part of it.
    func runSteps(steps: Int, parts: Int, threads: Int, _ body: (_ step: Int, _ part: Int) -> Void) {
        precondition(parts > 0 && parts <= 16 && steps >= 0)
        guard steps > 0 else { return }
        guard parts > 1, threads > 1 else {
            for s in 0..<steps { for p in 0..<parts { body(s, p) } }
            return
        }
        let state = SteppedLoopState()
        let total = steps * parts
        run(chunks: parts, threads: min(threads, parts)) { me in
            for s in 0..<steps {
                // Every piece of step s − 1 must be done.
                let ready = s * parts
                var spins = 0
                while state.done.load(ordering: .acquiring) < ready {
                    spins += 1
                    if spins < 1 << 14 { rk_spin_pause() } else { sched_yield() }
                }
                // Own piece first; the others only if nobody has claimed them yet (a late or
                // descheduled partner).
                for k in 0..<parts {
                    let p = (me + k) % parts
                    if state.claim(step: s, part: p) {
                        body(s, p)
                        state.done.add(1, ordering: .releasing)
                    }
                }
            }
            // The caller returns only when every piece is done (helpers' pieces included).
            var spins = 0
            while state.done.load(ordering: .acquiring) < total {
                spins += 1
                if spins < 1 << 14 { rk_spin_pause() } else { sched_yield() }
            }
        }
    }
}

/// Shared counters of one `runSteps` loop.
private final class SteppedLoopState: Sendable {
    /// Pieces finished so far (all steps).
    let done = Atomic<Int>(0)
    /// step << 16 | bit mask of the parts of that step already claimed.
    let claims = Atomic<Int>(0)

    /// Claims piece `part` of `step`; false when another thread has it. Steps are claimed in
    /// order: step s is only claimed once every piece of s − 1 is done.
    func claim(step: Int, part: Int) -> Bool {
        var current = claims.load(ordering: .relaxed)
        while true {
            let currentStep = current >> 16, mask = current & 0xFFFF
            // A later step already started: every piece of this one was claimed.
            if currentStep > step { return false }
            let desired: Int
            if currentStep == step {
                if mask & (1 << part) != 0 { return false }
                desired = current | (1 << part)
            } else {
                desired = step << 16 | (1 << part)
            }
            let (exchanged, original) = claims.compareExchange(
                expected: current, desired: desired, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }
}
