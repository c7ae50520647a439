import Foundation

/// Softmax cross-entropy with mean reduction over the batch.
///
/// `logits [N, K]`, `targets [N]` in `0..<K`. The log-sum-exp subtracts each row's
/// maximum, so logits in the hundreds do not overflow.
public enum CrossEntropy {
    public struct Result {
        /// Mean loss over the batch.
        public let loss: Float
        /// dLoss/dlogits = (softmax - onehot) / N.
        public let gradient: Tensor
        /// Softmax probabilities `[N, K]`.
        public let probabilities: Tensor
        /// Number of rows whose arg-max equals the target.
        public let correct: Int
    }

    public static func evaluate(logits: Tensor, targets: [Int]) -> Result {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count, "logits \(logits.shape), \(targets.count) targets")
        let (n, k) = (logits.shape[0], logits.shape[1])
        var probs = Tensor(shape: logits.shape)
        var grad = Tensor(shape: logits.shape)
        var total = 0.0
        var correct = 0
        for r in 0..<n {
            let row = r * k
            var maxValue = -Float.infinity, argmax = 0
            for j in 0..<k where logits.data[row + j] > maxValue { maxValue = logits.data[row + j]; argmax = j }
            var sum = 0.0
            for j in 0..<k { sum += exp(Double(logits.data[row + j] - maxValue)) }
            let logSum = log(sum) + Double(maxValue)
            let t = targets[r]
            precondition(t >= 0 && t < k, "target \(t) out of range 0..<\(k)")
            total += logSum - Double(logits.data[row + t])
            if argmax == t { correct += 1 }
            for j in 0..<k {
                let p = Float(exp(Double(logits.data[row + j]) - logSum))
                probs.data[row + j] = p
                grad.data[row + j] = (p - (j == t ? 1 : 0)) / Float(n)
            }
        }
        return Result(loss: Float(total / Double(max(n, 1))), gradient: grad, probabilities: probs, correct: correct)
    }
}
