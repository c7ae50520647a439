import CKernels
import Foundation
import Synchronization

/// Threads that stay awake for a moment between `Parallel` loops, so that the next loop
/// starts without waking anyone.
///
/// Why: a network at batch 1 runs one short parallel loop per layer, 30 to 200 of them,
/// many of 20 to 100 microseconds. `DispatchQueue.concurrentPerform` parks its threads
/// between calls, and waking one costs about 40 microseconds on this virtual machine:
/// two loops of 135 and 546 us of work took 116 and 312 us on 2 cores instead of 68 and
/// 273. onnxruntime's and OpenBLAS's pools spin the same way.
///
/// One loop at a time: the caller claims parts along with the workers until all are
/// claimed, then waits for the last to finish. Which thread runs a part does not change
/// what it computes (each part is a fixed range), so the bytes are those of any other
/// schedule. A loop started while another runs (a nested loop, or a second caller
/// thread) goes to Dispatch as before.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(threads: ProcessInfo.processInfo.activeProcessorCount - 1)

    /// How long an idle worker keeps looking for the next loop before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// Loops of at most this many parts run here (one per thread, the caller included).
    let capacity: Int

    /// The current loop: generation (bits 32...), its number of parts (16..<32) and the
    /// next unclaimed part (0..<16), in one word so that a claim can never mix two loops.
    private let claim = Atomic<Int>(0)
    /// Parts of the current loop not yet finished.
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The current loop's body; read only after a part of it is claimed, so it is alive.
    private var job: ((Int) -> Void)?
    private let sleep = NSCondition()
    private var sleepers = 0
    private var started = false

    init(threads: Int) { capacity = max(0, threads) + 1 }

    /// Runs `body(p)` for every `p` in `0..<parts` on the pool's threads and the caller's,
    /// or returns false (nothing run) when the pool is in use or too small.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        guard parts > 1, parts <= capacity, parts < 1 << 16 else { return false }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        startThreadsOnce()
        withoutActuallyEscaping(body) { body in
            job = body
            remaining.store(parts, ordering: .relaxed)
            // 31 bits, so that the word stays positive and `>> 32` reads it back.
            let generation = ((claim.load(ordering: .relaxed) >> 32) &+ 1) & 0x7FFF_FFFF
            claim.store(generation << 32 | parts << 16, ordering: .releasing)
            sleep.lock()
            if sleepers > 0 { sleep.broadcast() }
            sleep.unlock()
            work(generation: generation)
            // A worker may still be finishing a part; if it was descheduled (another
            // tenant on the cores), give it the core rather than spin against it.
            var spins = 0
            while remaining.load(ordering: .acquiring) != 0 {
                ck_spin_pause()
                spins &+= 1
                if spins > 512 { sched_yield() }  // 512 PAUSEs: some microseconds
            }
            job = nil
        }
        return true
    }

    /// Claims and runs parts of loop `generation` until none is left.
    private func work(generation: Int) {
        var word = claim.load(ordering: .acquiring)
        while word >> 32 == generation {
            let parts = (word >> 16) & 0xFFFF, next = word & 0xFFFF
            if next >= parts { return }
            let (exchanged, original) = claim.compareExchange(expected: word, desired: word &+ 1, ordering: .acquiringAndReleasing)
            if !exchanged { word = original; continue }
            job!(next)
            remaining.wrappingSubtract(1, ordering: .releasing)
            word = claim.load(ordering: .acquiring)
        }
    }

    private func startThreadsOnce() {
        guard !started else { return }
        started = true
        // Read before the first loop is posted, so that no thread can take that loop's
        // generation for one it has already seen.
        let seen = claim.load(ordering: .acquiring) >> 32
        for _ in 1..<capacity {
            // The threads keep their pool alive (the shared one lives for the process).
            let thread = Thread { self.workerLoop(seen: seen) }
            thread.qualityOfService = .userInitiated
            thread.start()
        }
    }

    private func workerLoop(seen first: Int) {
        var seen = first
        while true {
            // Spin a while for the next loop, then sleep until one is posted.
            let deadline = DispatchTime.now().uptimeNanoseconds &+ Self.spinNanoseconds
            var spins = 0
            var generation = claim.load(ordering: .acquiring) >> 32
            while generation == seen {
                ck_spin_pause()
                spins &+= 1
                if spins & 255 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
                generation = claim.load(ordering: .acquiring) >> 32
            }
            if generation == seen {
                sleep.lock()
                sleepers += 1
                while claim.load(ordering: .acquiring) >> 32 == seen { sleep.wait() }
                sleepers -= 1
                sleep.unlock()
                generation = claim.load(ordering: .acquiring) >> 32
            }
            seen = generation
            work(generation: generation)
        }
    }
}
