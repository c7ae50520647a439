import Dispatch
import Foundation

/// Data-parallel loops over the batch.
///
/// ConvViz splits a batch across cores itself and runs OpenBLAS single-threaded inside
/// each part. That way im2col, col2im and the element-wise passes run on every core
/// too, instead of one core unrolling patches while OpenBLAS's threads spin waiting.
public enum Parallel {
    /// Number of workers (the machine's active cores unless set).
    nonisolated(unsafe) public static var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Splits `0..<count` into at most `workers` contiguous ranges and runs `body` on
    /// each concurrently; `body` receives the part index and its range.
    /// Parts smaller than `minimumPerPart` items are not worth a thread. Runs on
    /// `WorkerPool`'s threads when it is free and large enough, else on Dispatch's.
    public static func forEachRange(_ count: Int, minimumPerPart: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        BLAS.ensureSingleThreaded()
        let parts = max(1, min(workers, count / max(minimumPerPart, 1)))
        if parts == 1 { body(0, 0..<count); return }
        let part = { (p: Int) in body(p, count * p / parts..<count * (p + 1) / parts) }
        if WorkerPool.shared.run(parts: parts, part) { return }
        withoutActuallyEscaping(body) { body in
            // The parts touch disjoint slices of the caller's buffers; the caller owns
            // that guarantee, so the closure is passed across threads unchecked.
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = count * p / parts, hi = count * (p + 1) / parts
                task.value(p, lo..<hi)
            }
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
