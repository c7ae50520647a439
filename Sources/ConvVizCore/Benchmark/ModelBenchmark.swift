import Foundation

/// Inference speed of a whole network: one warm-up pass, then `rounds` timed passes
/// of a random batch in evaluation mode; the best is reported (the others measured the
/// machine's other tenants).
public enum ModelBenchmark {
    public struct Result: Sendable {
        public let batch: Int
        public let secondsPerBatch: Double
        public let allSeconds: [Double]
        public var imagesPerSecond: Double { Double(batch) / secondsPerBatch }
    }

    public static func run(_ graph: Graph, batch: Int, rounds: Int, seed: UInt64 = 0) -> Result {
        let x = input(graph, batch: batch, seed: seed)
        return timed(batch: batch, rounds: rounds) { _ = graph.output(x) }
    }

    /// A seeded random batch `[batch] + graph.inputShape`.
    static func input(_ graph: Graph, batch: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.normal(shape: [batch] + graph.inputShape, using: &rng)
    }

    /// One warm-up call of `pass`, then `rounds` timed ones; the best is kept.
    static func timed(batch: Int, rounds: Int, _ pass: () throws -> Void) rethrows -> Result {
        try pass()
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            try pass()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Result(batch: batch, secondsPerBatch: times.min()!, allSeconds: times)
    }
}
