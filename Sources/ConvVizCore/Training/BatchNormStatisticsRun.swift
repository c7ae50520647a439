import Foundation

/// A short training run of a BatchNorm network that records one BatchNorm layer's batch
/// statistics and running averages at every step (the lecture's "BatchNorm at test
/// time" figure), and keeps the trained model (its conv + BN pair is what the folding
/// figure folds).
public struct BatchNormStatisticsRun {
    public var architecture = Architecture.lectureNormNet()
    /// The BatchNorm whose statistics are recorded.
    public var layer = "bn1"
    public var steps = 150
    public var batchSize = 32
    public var learningRate: Float = 0.05
    public var seed: UInt64 = 0

    public init() {}

    public struct Result {
        /// One record per training step, in order.
        public var records: [BatchNormRecorder.Record]
        /// The trained model (the recorder is unwrapped again: plain `BatchNorm2D`).
        public var model: Sequential
        public var summary: Trainer.Summary
        public var seconds: Double
        /// BatchNorm's momentum: running = (1 - m) running + m batch.
        public var momentum: Float
    }

    /// Not a BatchNorm network: names the layer that was asked for.
    public struct MissingLayer: Error, CustomStringConvertible {
        public let layer: String, architecture: String
        public var description: String { "\(architecture): no BatchNorm layer named '\(layer)' to record" }
    }

    /// Trains on standardized `train` images (evaluating on `test`, if given, at the end).
    public func run(train: LabeledImages, test: LabeledImages?, standardization: Standardization,
                    onEvent: (Trainer.Event) -> Void = { _ in }) throws -> Result {
        let plain = try architecture.makeModel(seed: seed)
        guard let (model, recorder) = try plain.recordingBatchNorm(named: layer) else {
            throw MissingLayer(layer: layer, architecture: architecture.name)
        }
        let settings = TrainingSettings.stepBudget(steps: steps, batchSize: batchSize, learningRate: learningRate, schedule: .constant, seed: seed)
        let trainer = try Trainer(model: model, architecture: architecture, settings: settings, standardization: standardization)
        let start = DispatchTime.now().uptimeNanoseconds
        let summary = try trainer.train(train, test: nil, onEvent: onEvent)
        var final = summary
        if let test {
            let (loss, accuracy) = trainer.evaluate(test)
            final.testLoss = loss
            final.testAccuracy = accuracy
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(records: recorder.records, model: plain, summary: final, seconds: seconds, momentum: recorder.wrapped.momentum)
    }
}
