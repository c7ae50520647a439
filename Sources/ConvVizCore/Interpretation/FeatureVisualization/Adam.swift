import Foundation

/// Adam (Kingma & Ba, 2015) as `torch.optim.Adam` computes it, without weight decay:
///
///     m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
///     p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
///
/// Lucid's and Lucent's feature visualization use lr 0.05 and the defaults below. Each
/// element is updated on its own, so the images of a batch are optimized independently.
public struct Adam: Sendable {
    public let learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public private(set) var step = 0
    private var m: [Float]
    private var v: [Float]

    public init(count: Int, learningRate: Float = 0.05, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition(learningRate > 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon > 0,
                     "Adam needs lr > 0, betas in [0, 1) and eps > 0")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// One update of `parameters` (minimizing) with their gradient.
    public mutating func update(_ parameters: inout [Float], gradient: [Float]) {
        precondition(parameters.count == m.count && gradient.count == m.count)
        step += 1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let correction1 = 1 - pow(b1, Float(step)), correction2 = (1 - pow(b2, Float(step))).squareRoot()
        let stepSize = learningRate / correction1
        for i in 0..<m.count {
            let g = gradient[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            parameters[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2 + eps)
        }
    }
}
