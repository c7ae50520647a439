import Foundation
import XCTest
@testable import ConvVizCore

/// The spinning pool behind `Parallel.forEachRange`: every part runs exactly once, on
/// several threads; a loop inside a loop, or from a second thread while one runs, goes
/// to Dispatch and still runs every part; loops larger than the pool are refused.
final class WorkerPoolTests: XCTestCase {
    func testEveryPartRunsOnceAcrossManyLoops() {
        let pool = WorkerPool(threads: 3)
        for parts in [2, 3, 4] {
            for _ in 0..<2000 {
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts)
                counts.initialize(repeating: 0, count: parts)
                defer { counts.deallocate() }
                let shared = UncheckedSendable(counts)
                XCTAssertTrue(pool.run(parts: parts) { p in shared.value[p] += 1 })
                XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: parts)), [Int](repeating: 1, count: parts))
            }
        }
    }

    func testLongPartsRunOnOtherThreads() {
        let pool = WorkerPool(threads: 1)
        let threads = UnsafeMutablePointer<UInt>.allocate(capacity: 2)
        defer { threads.deallocate() }
        let shared = UncheckedSendable(threads)
        var sawTwo = false
        for _ in 0..<50 where !sawTwo {
            XCTAssertTrue(pool.run(parts: 2) { p in
                shared.value[p] = UInt(pthread_self())
                usleep(2000)  // long enough that the caller cannot take both parts
            })
            sawTwo = threads[0] != threads[1]
        }
        XCTAssertTrue(sawTwo, "both parts always ran on one thread")
    }

    /// A worker that has gone to sleep (no loop for longer than its spin) is woken by the
    /// next loop: a lost wake-up would leave every part to the caller.
    func testSleepingWorkersWakeForTheNextLoop() {
        let pool = WorkerPool(threads: 1)
        let threads = UnsafeMutablePointer<UInt>.allocate(capacity: 2)
        defer { threads.deallocate() }
        let shared = UncheckedSendable(threads)
        var onTwoThreads = 0
        for _ in 0..<20 {
            usleep(2000)  // ten times the spin: the worker sleeps
            XCTAssertTrue(pool.run(parts: 2) { p in
                shared.value[p] = UInt(pthread_self())
                usleep(2000)
            })
            if threads[0] != threads[1] { onTwoThreads += 1 }
        }
        XCTAssertGreaterThanOrEqual(onTwoThreads, 15, "the sleeping worker did not join \(20 - onTwoThreads) of 20 loops")
    }

    func testTooManyPartsAreRefused() {
        let pool = WorkerPool(threads: 1)
        var ran = false
        XCTAssertFalse(pool.run(parts: 3) { _ in ran = true })
        XCTAssertFalse(ran)
        XCTAssertFalse(pool.run(parts: 1) { _ in ran = true }, "one part needs no pool")
    }

    /// Nested loops and loops from other threads while one runs: all parts, right sums.
    func testNestedAndConcurrentLoopsThroughParallel() {
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        Parallel.workers = 2
        let outer = 64, inner = 100
        var totals = [Int](repeating: 0, count: 4)
        totals.withUnsafeMutableBufferPointer { t in
            let shared = UncheckedSendable(t.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: 4) { caller in
                var sum = [Int](repeating: 0, count: outer)
                sum.withUnsafeMutableBufferPointer { s in
                    let rows = UncheckedSendable(s.baseAddress!)
                    Parallel.forEachRange(outer) { _, range in
                        for i in range {
                            var row = [Int](repeating: 0, count: inner)
                            row.withUnsafeMutableBufferPointer { r in
                                let cells = UncheckedSendable(r.baseAddress!)
                                Parallel.forEachRange(inner) { _, js in for j in js { cells.value[j] = i * inner + j } }
                            }
                            rows.value[i] = row.reduce(0, +)
                        }
                    }
                }
                shared.value[caller] = sum.reduce(0, +)
            }
        }
        let n = outer * inner
        XCTAssertEqual(totals, [Int](repeating: n * (n - 1) / 2, count: 4))
    }
}
