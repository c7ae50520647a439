/// Stochastic gradient descent with momentum and weight decay, as `torch.optim.SGD`:
/// `g += wd * w; v = momentum * v + g` (v = g on the first step); `w -= lr * v`.
public final class SGD {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [ObjectIdentifier: [Float]] = [:]

    public struct InvalidHyperparameter: Error, CustomStringConvertible {
        public let description: String
    }

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) throws {
        guard learningRate > 0, learningRate.isFinite else { throw InvalidHyperparameter(description: "learning rate must be a positive number, got \(learningRate)") }
        guard momentum >= 0, momentum < 1 else { throw InvalidHyperparameter(description: "momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw InvalidHyperparameter(description: "weight decay must be >= 0, got \(weightDecay)") }
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter]) {
        for p in parameters where p.trainable {
            let id = ObjectIdentifier(p)
            let first = velocity[id] == nil
            var v = velocity.removeValue(forKey: id) ?? [Float](repeating: 0, count: p.value.count)
            let (lr, mu, wd) = (learningRate, momentum, weightDecay)
            p.value.data.withUnsafeMutableBufferPointer { w in
            p.grad.data.withUnsafeBufferPointer { g in
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<w.count {
                    let d = g[i] + wd * w[i]
                    v[i] = (first || mu == 0) ? d : mu * v[i] + d
                    w[i] -= lr * v[i]
                }
            }}}
            velocity[id] = v
        }
    }

    /// Momentum buffers by parameter, for checkpoints that resume training.
    public func momentumBuffer(for p: Parameter) -> [Float]? { velocity[ObjectIdentifier(p)] }
    public func setMomentumBuffer(_ v: [Float], for p: Parameter) { velocity[ObjectIdentifier(p)] = v }
}
