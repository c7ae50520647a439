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
    public static func run(_ graph: Graph, batch: Int, rounds: Int, pass: Pass, warmup: Double = defaultWarmup, seed: UInt64 = 0) throws -> Result {
        guard pass == .inputGradient else { return run(graph, batch: batch, rounds: rounds, warmup: warmup, seed: seed) }
        let x = input(graph, batch: batch, seed: seed)
        let last = graph.operations.count - 1
        let ones = Tensor(shape: [batch] + graph.shapes[last], data: [Float](repeating: 1, count: batch * graph.shapes[last].reduce(1, *)))
        return try timed(batch: batch, rounds: rounds, warmup: warmup) {
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
        /// For a convolution in a forward profile, the path it took
        /// (`Conv2D.inferencePathDescription`), and a pool fused into it; for that pool, the
        /// convolution it runs inside; else empty.
        public var path = ""
    }

    /// Per-layer milliseconds of `pass` (the graph as built: folded and fused where the
    /// caller did so).
    ///
    /// Forward: each layer is timed inside `rounds` whole passes after a warm-up, with
    /// caches as a real pass leaves them (its weights are not warm from a repeat of the
    /// same layer), and the lower quartile is kept, as `Benchmarks/onnxruntime_profile.py`
    /// does for onnxruntime's nodes. The sum is close to a whole pass.
    ///
    /// Input gradient: each layer's backward step alone (input gradient, no weight
    /// gradients, after an untimed recording forward step on the same inputs), `rounds`
    /// times, its best; the recording forward pass costs about what `.forward` shows.
    public static func profile(_ graph: Graph, batch: Int, rounds: Int, pass: Pass = .forward, seed: UInt64 = 0) -> [LayerTime] {
        if pass == .forward { return profileInPasses(graph, batch: batch, rounds: rounds, seed: seed) }
        let x = input(graph, batch: batch, seed: seed)
        let all = Set(graph.operations.indices)
        let recording = pass == .inputGradient
        var values = graph.forward(x, mode: recording ? .evaluationWithGradients : .evaluation, keep: all)
        values[-1] = x
        // The recording pass's backward steps compute input gradients alone, as `run` does.
        return graph.accumulatingParameterGradients(!recording) { graph.operations.indices.map { i in
            let inputs = graph.wiring[i].map { values[$0]! }
            let operation = graph.operation(i, recording: recording)
            let gradient = recording ? Tensor(shape: values[i]!.shape, data: [Float](repeating: 1, count: values[i]!.count)) : nil
            var best = Double.infinity
            for _ in 0..<max(1, rounds) {
                if recording {  // the recording step, untimed
                    switch operation {
                    case let .layer(layer): _ = layer.forward(inputs[0], mode: .evaluationWithGradients)
                    case let .merge(merge): _ = merge.forward(inputs, mode: .evaluationWithGradients)
                    }
                }
                let start = DispatchTime.now().uptimeNanoseconds
                switch (operation, gradient) {
                case let (.layer(layer), nil): _ = layer.forward(inputs[0], mode: .evaluation)
                case let (.merge(merge), nil): _ = merge.forward(inputs, mode: .evaluation)
                case let (.layer(layer), gradient?): _ = layer.backward(gradient, needsInputGradient: true)
                case let (.merge(merge), gradient?): _ = merge.backward(gradient)
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return LayerTime(name: graph.operations[i].name, kind: graph.architecture.layers[i].kind.rawValue, output: graph.shapes[i], milliseconds: best)
        }}
    }

    private static func profileInPasses(_ graph: Graph, batch: Int, rounds: Int, seed: UInt64) -> [LayerTime] {
        let x = input(graph, batch: batch, seed: seed)
        _ = graph.output(x)
        var times = [[UInt64]](repeating: [], count: graph.operations.count)
        graph.layerTimer = { times[$0].append($1) }
        defer { graph.layerTimer = nil }
        for _ in 0..<max(1, rounds) { _ = graph.output(x) }
        let pools = Dictionary(uniqueKeysWithValues: graph.fusedPools.map { ($1.convolutionIndex, $0) })
        return graph.operations.indices.map { i in
            let sorted = times[i].sorted()
            var row = LayerTime(name: graph.operations[i].name, kind: graph.architecture.layers[i].kind.rawValue, output: graph.shapes[i],
                                milliseconds: sorted.isEmpty ? 0 : Double(sorted[sorted.count / 4]) / 1e6)  // 0: not on the way to the output
            if case let .layer(conv as Conv2D) = graph.operation(i, recording: false), let source = graph.wiring[i].first {
                row.path = conv.inferencePathDescription(input: [batch] + (source < 0 ? graph.inputShape : graph.shapes[source]))
                if let pool = pools[i] { row.path += ", then \(graph.operations[pool].name)" }
            }
            if let fused = graph.fusedPools[i] { row.path = "inside \(graph.operations[fused.convolutionIndex].name)" }
            return row
        }
    }
}
