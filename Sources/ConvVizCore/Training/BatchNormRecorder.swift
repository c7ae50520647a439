/// A BatchNorm layer that keeps, for every training forward pass, the batch's own
/// per-channel statistics and the running statistics after that pass's update: the
/// numbers behind "BatchNorm at test time" (batch statistics jump from step to step, the
/// running averages follow them slowly).
///
/// It wraps a `BatchNorm2D` and delegates everything to it, so training is unchanged;
/// the wrapper only reads the input and the wrapped layer's buffers. (A wrapper keeps
/// `Sequential` from running BatchNorm-ReLU-pool fused: slower, same numbers.)
public final class BatchNormRecorder: Layer {
    /// One training step of one BatchNorm layer; every array has one value per channel.
    public struct Record: Sendable {
        /// The batch mean over (N, H, W).
        public var batchMean: [Float]
        /// The biased batch variance over (N, H, W): what the batch is normalized with.
        public var batchVariance: [Float]
        /// The running mean after this step's update.
        public var runningMean: [Float]
        /// The running variance after this step's update (fed the unbiased batch variance).
        public var runningVariance: [Float]
    }

    public let wrapped: BatchNorm2D
    public private(set) var records: [Record] = []

    public init(_ wrapped: BatchNorm2D) { self.wrapped = wrapped }

    public var name: String { wrapped.name }
    public var parameters: [Parameter] { wrapped.parameters }
    public func outputShape(for input: [Int]) throws -> [Int] { try wrapped.outputShape(for: input) }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        guard mode.usesBatchStatistics else { return wrapped.forward(input, mode: mode) }
        // The same routine the layer normalizes with, so the recorded values are its own.
        let stats = input.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, .batch(input.shape)) }
        let y = wrapped.forward(input, mode: mode)
        records.append(Record(batchMean: stats.mean, batchVariance: stats.variance,
                              runningMean: wrapped.runningMean.value.data, runningVariance: wrapped.runningVar.value.data))
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        wrapped.backward(gradOutput, needsInputGradient: needsInputGradient)
    }
}

extension Sequential {
    /// The same layers (shared, not copied) with the BatchNorm named `name` wrapped in a
    /// recorder; nil when the model has no BatchNorm of that name.
    public func recordingBatchNorm(named name: String) throws -> (model: Sequential, recorder: BatchNormRecorder)? {
        guard let i = layers.firstIndex(where: { $0.name == name }), let bn = layers[i] as? BatchNorm2D else { return nil }
        let recorder = BatchNormRecorder(bn)
        var replaced = layers
        replaced[i] = recorder
        return (try Sequential(inputShape: inputShape, layers: replaced), recorder)
    }
}
