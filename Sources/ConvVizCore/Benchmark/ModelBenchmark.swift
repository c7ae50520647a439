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
        var rng = SeededGenerator(seed: seed)
        let x = Tensor.normal(shape: [batch] + graph.inputShape, using: &rng)
        _ = graph.output(x)
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = graph.output(x)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Result(batch: batch, secondsPerBatch: times.min()!, allSeconds: times)
    }
}
