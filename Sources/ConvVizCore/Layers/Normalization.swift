/// Batch normalization for convolutional features (Ioffe & Szegedy, 2015).
///
/// Input `[N, C, H, W]`; one mean and (biased) variance per channel over (N, H, W) in
/// training, running statistics in evaluation. The running variance is updated with the
/// unbiased batch variance, as PyTorch does:
/// `running = (1 - momentum) * running + momentum * batch`.
public final class BatchNorm2D: Layer {
    public let name: String
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Parameter, bias: Parameter
    public let runningMean: Parameter, runningVar: Parameter
    private var cache: (input: Tensor, mean: [Float], invStd: [Float], layout: NormalizationGroups)?
    /// Per-channel gamma/sqrt(running_var + eps) of an evaluation forward that records.
    private var evaluationScale: (scale: [Float], plane: Int)?

    public init(name: String, channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.name = name
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Parameter("weight", Tensor(shape: [channels], repeating: 1))
        bias = Parameter("bias", Tensor(shape: [channels]))
        runningMean = Parameter("running_mean", Tensor(shape: [channels]), trainable: false)
        runningVar = Parameter("running_var", Tensor(shape: [channels], repeating: 1), trainable: false)
    }

    public var parameters: [Parameter] { [weight, bias, runningMean, runningVar] }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input[0] == channels else {
            throw ShapeError(layer: name, "expects [\(channels), H, W] input, got \(input)")
        }
        return input
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let layout = NormalizationGroups.batch(input.shape)
        let affine = NormalizationKernel.Affine.perChannel(channels: channels, plane: layout.length)
        guard mode.usesBatchStatistics else {
            if mode.recordsForBackward {
                cache = nil
                evaluationScale = ((0..<channels).map { weight.value.data[$0] / (runningVar.value.data[$0] + eps).squareRoot() }, layout.length)
            }
            return NormalizationKernel.normalize(input, layout, mean: runningMean.value.data, variance: runningVar.value.data,
                                                 eps: eps, gamma: weight.value, beta: bias.value, affine: affine).y
        }
        let stats = input.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, layout) }
        let r = NormalizationKernel.normalize(input, layout, mean: stats.mean, variance: stats.variance,
                                              eps: eps, gamma: weight.value, beta: bias.value, affine: affine)
        updateRunningStatistics(mean: stats.mean, variance: stats.variance, count: layout.size)
        cache = (input, stats.mean, r.invStd, layout)
        evaluationScale = nil
        return r.y
    }

    /// Folds one batch's statistics (over `count` values per channel) into the running
    /// ones; the variance enters unbiased.
    func updateRunningStatistics(mean: [Float], variance: [Float], count: Int) {
        let m = Float(count)
        let unbiased = m > 1 ? m / (m - 1) : 1
        for c in 0..<channels {
            runningMean.value.data[c] = (1 - momentum) * runningMean.value.data[c] + momentum * mean[c]
            runningVar.value.data[c] = (1 - momentum) * runningVar.value.data[c] + momentum * variance[c] * unbiased
        }
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        if let evaluationScale {
            // Evaluation BN is an affine map per channel: dx = dy * gamma / sqrt(var + eps).
            guard needsInputGradient else { return nil }
            var dx = gradOutput
            for i in 0..<dx.count { dx.data[i] *= evaluationScale.scale[(i / evaluationScale.plane) % channels] }
            return dx
        }
        guard let cache else { preconditionFailure("\(name): backward without a training forward") }
        return NormalizationKernel.backward(gradOutput, input: cache.input, mean: cache.mean, invStd: cache.invStd, cache.layout,
                                            gamma: weight.value, gradGamma: &weight.grad, gradBeta: &bias.grad,
                                            affine: .perChannel(channels: channels, plane: cache.layout.length),
                                            needsInputGradient: needsInputGradient)
    }
}

/// Group normalization (Wu & He, 2018): per sample, one mean and variance for each of
/// `groups` groups of C/G channels, over (C/G, H, W); gamma and beta per channel.
/// `groups = 1` normalizes over (C, H, W); `groups = C` is instance normalization.
/// Training and evaluation compute the same thing: the statistics are per sample.
public class GroupNorm: Layer {
    public let name: String
    public let channels: Int
    public let groups: Int
    public let eps: Float
    public let weight: Parameter, bias: Parameter
    private var cache: (input: Tensor, mean: [Float], invStd: [Float], layout: NormalizationGroups)?

    public init(name: String, channels: Int, groups: Int, eps: Float = 1e-5) {
        self.name = name
        self.channels = channels
        self.groups = groups
        self.eps = eps
        weight = Parameter("weight", Tensor(shape: [channels], repeating: 1))
        bias = Parameter("bias", Tensor(shape: [channels]))
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input[0] == channels else {
            throw ShapeError(layer: name, "expects [\(channels), H, W] input, got \(input)")
        }
        guard groups >= 1, channels % groups == 0 else {
            throw ShapeError(layer: name, "\(channels) channels cannot be split into \(groups) groups")
        }
        return input
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let layout = NormalizationGroups.perSample(input.shape, groups: groups)
        let stats = input.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, layout) }
        let r = NormalizationKernel.normalize(input, layout, mean: stats.mean, variance: stats.variance, eps: eps,
                                              gamma: weight.value, beta: bias.value, affine: affine(input.shape))
        if mode.recordsForBackward { cache = (input, stats.mean, r.invStd, layout) }
        return r.y
    }

    private func affine(_ shape: [Int]) -> NormalizationKernel.Affine {
        .perChannel(channels: channels, plane: shape.dropFirst(2).reduce(1, *))
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let cache else { preconditionFailure("\(name): backward without a training forward") }
        return NormalizationKernel.backward(gradOutput, input: cache.input, mean: cache.mean, invStd: cache.invStd, cache.layout,
                                            gamma: weight.value, gradGamma: &weight.grad, gradBeta: &bias.grad,
                                            affine: affine(gradOutput.shape), needsInputGradient: needsInputGradient)
    }
}

/// Instance normalization (Ulyanov et al., 2016): per sample and channel over (H, W),
/// with a per-channel affine transform. The same as GroupNorm with one group per channel.
public final class InstanceNorm: GroupNorm {
    public init(name: String, channels: Int, eps: Float = 1e-5) {
        super.init(name: name, channels: channels, groups: channels, eps: eps)
    }
}

/// Layer normalization (Ba et al., 2016) over every non-batch dimension, e.g. (C, H, W),
/// with an element-wise affine transform of that shape (PyTorch's
/// `nn.LayerNorm([C, H, W])`).
public final class LayerNorm: Layer {
    public let name: String
    public let normalizedShape: [Int]
    public let eps: Float
    public let weight: Parameter, bias: Parameter
    private var cache: (input: Tensor, mean: [Float], invStd: [Float], layout: NormalizationGroups)?

    public init(name: String, normalizedShape: [Int], eps: Float = 1e-5) {
        self.name = name
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = Parameter("weight", Tensor(shape: normalizedShape, repeating: 1))
        bias = Parameter("bias", Tensor(shape: normalizedShape))
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input == normalizedShape else {
            throw ShapeError(layer: name, "normalizes \(normalizedShape) but the input is \(input)")
        }
        return input
    }

    private var affine: NormalizationKernel.Affine { .perElement(size: normalizedShape.reduce(1, *)) }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let layout = NormalizationGroups.perSample([input.shape[0], 1, input.count / max(1, input.shape[0])], groups: 1)
        let stats = input.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, layout) }
        let r = NormalizationKernel.normalize(input, layout, mean: stats.mean, variance: stats.variance, eps: eps,
                                              gamma: weight.value, beta: bias.value, affine: affine)
        if mode.recordsForBackward { cache = (input, stats.mean, r.invStd, layout) }
        return r.y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let cache else { preconditionFailure("\(name): backward without a training forward") }
        return NormalizationKernel.backward(gradOutput, input: cache.input, mean: cache.mean, invStd: cache.invStd, cache.layout,
                                            gamma: weight.value, gradGamma: &weight.grad, gradBeta: &bias.grad,
                                            affine: affine, needsInputGradient: needsInputGradient)
    }
}
