import Foundation

extension ModelBenchmark {
    /// What one timed pass does.
    public enum Pass: String, CaseIterable, Sendable {
        /// Inference: `Graph.output` in evaluation mode.
        case forward
        /// dL/d(input) for L the sum of the outputs, as attribution and feature
        /// visualization need it: a recording forward pass, then the backward pass
        /// without weight gradients (`Graph.gradients(_:from:at:parameterGradients:)`).
        /// The peer is PyTorch autograd in eval mode with `requires_grad` on the input only.
        case inputGradient = "input-gradient"
    }

    /// `rounds` timed passes of `pass` on one random batch after a warm-up; the best is kept.
    public static func run(_ graph: Graph, batch: Int, rounds: Int, pass: Pass, seed: UInt64 = 0) throws -> Result {
        guard pass == .inputGradient else { return run(graph, batch: batch, rounds: rounds, seed: seed) }
        let x = input(graph, batch: batch, seed: seed)
        let last = graph.operations.count - 1
        let ones = Tensor(shape: [batch] + graph.shapes[last], data: [Float](repeating: 1, count: batch * graph.shapes[last].reduce(1, *)))
        return try timed(batch: batch, rounds: rounds) {
            _ = graph.forward(x, mode: .evaluationWithGradients)
            _ = try graph.gradients(ones, from: last, at: [-1])
        }
    }

    /// One layer's share of an inference pass.
    public struct LayerTime: Sendable {
        public let name: String
        public let kind: String
        /// Per-sample output shape.
        public let output: [Int]
        /// Best of the rounds, milliseconds per batch.
        public let milliseconds: Double
    }

    /// Per-layer milliseconds of an inference pass (evaluation mode, the graph as built:
    /// folded and fused where the caller did so). Each layer is timed on its inputs from
    /// one whole pass, `rounds` times, keeping its best; layers run one at a time, so the
    /// sum is close to, not equal to, a whole pass.
    public static func profile(_ graph: Graph, batch: Int, rounds: Int, seed: UInt64 = 0) -> [LayerTime] {
        let x = input(graph, batch: batch, seed: seed)
        let all = Set(graph.operations.indices)
        var values = graph.forward(x, mode: .evaluation, keep: all)
        values[-1] = x
        return graph.operations.indices.map { i in
            let inputs = graph.wiring[i].map { values[$0]! }
            var best = Double.infinity
            for _ in 0..<max(1, rounds) {
                let start = DispatchTime.now().uptimeNanoseconds
                switch graph.operations[i] {
                case let .layer(layer): _ = layer.forward(inputs[0], mode: .evaluation)
                case let .merge(merge): _ = merge.forward(inputs, mode: .evaluation)
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return LayerTime(name: graph.operations[i].name, kind: graph.architecture.layers[i].kind.rawValue, output: graph.shapes[i], milliseconds: best)
        }
    }
}
