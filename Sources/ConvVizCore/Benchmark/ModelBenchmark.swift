import Foundation

/// Inference speed of a whole network: warm-up passes, then `rounds` timed passes of a
/// random batch in evaluation mode; the best is reported (the others measured the
/// machine's other tenants).
public enum ModelBenchmark {
    public struct Result: Sendable {
        public let batch: Int
        public let secondsPerBatch: Double
        public let allSeconds: [Double]
        public var imagesPerSecond: Double { Double(batch) / secondsPerBatch }
    }

    /// Warm-up before the timed passes, in seconds (`timed`).
    public static let defaultWarmup = 0.3

    public static func run(_ graph: Graph, batch: Int, rounds: Int, warmup: Double = defaultWarmup, seed: UInt64 = 0) -> Result {
        let x = input(graph, batch: batch, seed: seed)
        return timed(batch: batch, rounds: rounds, warmup: warmup) { _ = graph.output(x) }
    }

    /// A seeded random batch `[batch] + graph.inputShape`.
    static func input(_ graph: Graph, batch: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.normal(shape: [batch] + graph.inputShape, using: &rng)
    }

    /// Untimed calls of `pass` until `warmup` seconds have gone by (at least one), then
    /// `rounds` timed ones; the best is kept.
    ///
    /// Why by time and not one call: on a virtual machine whose cores were idle, the
    /// first tens of milliseconds of work run slow (the host's clock or scheduling
    /// catching up): MobileNetV2's pass at batch 1 took 7-9 ms for its first 60 ms of
    /// passes and 2.5 ms after, while a peer that spends 100 ms building its session
    /// before its first pass never sees that.
    static func timed(batch: Int, rounds: Int, warmup: Double = defaultWarmup, _ pass: () throws -> Void) rethrows -> Result {
        let warmupStart = DispatchTime.now().uptimeNanoseconds
        repeat { try pass() } while Double(DispatchTime.now().uptimeNanoseconds - warmupStart) / 1e9 < warmup
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            try pass()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Result(batch: batch, secondsPerBatch: times.min()!, allSeconds: times)
    }
}
