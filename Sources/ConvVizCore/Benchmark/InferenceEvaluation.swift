import Foundation

/// Test loss, accuracy and inference speed of a network over a labelled set.
///
/// The set is cut into consecutive batches (the last one may be shorter) and run in
/// evaluation mode; only the forward passes are timed, not the copying of batches.
/// With several `passes` over the set, the fastest pass gives the speed (the others
/// measured the machine's other tenants too); loss and accuracy are the same in
/// every pass, since no result depends on timing or on the number of cores.
public enum InferenceEvaluation {
    public struct Result: Sendable {
        public let images: Int
        public let batch: Int
        /// Mean softmax cross-entropy.
        public let loss: Float
        public let accuracy: Float
        /// Forward time of the fastest pass over the whole set.
        public let seconds: Double
        /// Forward time of every pass.
        public let allSeconds: [Double]
        public var imagesPerSecond: Double { Double(images) / max(seconds, 1e-12) }
    }

    /// Evaluates `graph` (already folded and fused as wanted) on the standardized `set`.
    public static func run(_ graph: Graph, on set: LabeledImages, batch: Int, passes: Int = 1) -> Result {
        precondition(batch >= 1 && passes >= 1 && set.count >= 1)
        var loss = 0.0, correct = 0
        var times: [Double] = []
        for pass in 0..<passes {
            var seconds = 0.0
            var start = 0
            while start < set.count {
                let end = min(start + batch, set.count)
                let (x, y) = set.batch(Array(start..<end)[...])
                let t0 = DispatchTime.now().uptimeNanoseconds
                let logits = graph.output(x)
                seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                if pass == 0 {
                    let r = CrossEntropy.evaluate(logits: logits, targets: y)
                    loss += Double(r.loss) * Double(end - start)
                    correct += r.correct
                }
                start = end
            }
            times.append(seconds)
        }
        return Result(images: set.count, batch: batch, loss: Float(loss / Double(set.count)),
                      accuracy: Float(correct) / Float(set.count), seconds: times.min()!, allSeconds: times)
    }
}
