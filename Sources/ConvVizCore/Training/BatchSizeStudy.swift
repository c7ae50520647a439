import Foundation

/// Test accuracy against batch size for several normalizations, measured (after Wu &
/// He, Group Normalization, 2018, Fig. 1: BatchNorm's error grows as the batch shrinks,
/// GroupNorm's does not).
///
/// Every run sees the same number of training images, so a smaller batch takes more
/// steps, and the learning rate scales linearly with the batch size (as in Wu & He,
/// after Goyal et al., 2017), so every run follows about the same path per image. Only
/// the batch size and the normalization change between runs; the seed, data, network
/// and image budget are shared.
public struct BatchSizeStudy {
    public var architecture = Architecture.lectureNormNet()
    public var choices: [Architecture.NormalizationChoice] = [.batch, .group(4)]
    public var batchSizes = [2, 4, 16, 64]
    /// Training images each run sees (its budget); steps = imagesPerRun / batch size.
    public var imagesPerRun = 60_000
    /// The learning rate at a batch of `referenceBatch`; other batches scale it linearly.
    public var learningRate: Float = 0.1
    public var referenceBatch = 64
    public var seed: UInt64 = 0

    public init() {}

    /// One finished run.
    public struct Result: Sendable {
        public var choice: Architecture.NormalizationChoice
        public var batchSize: Int
        public var steps: Int
        public var learningRate: Float
        public var testAccuracy: Float
        public var seconds: Double
    }

    /// What the study reports as it goes.
    public enum Event {
        case started(Architecture.NormalizationChoice, batchSize: Int, steps: Int)
        case training(Trainer.Event)
        case finished(Result)
    }

    public func learningRate(batchSize: Int) -> Float { learningRate * Float(batchSize) / Float(referenceBatch) }

    public func steps(batchSize: Int) -> Int { max(1, imagesPerRun / batchSize) }

    /// Trains every (normalization, batch size) pair on standardized `train` images and
    /// measures accuracy on `test` with the network in evaluation mode (BatchNorm with its
    /// running averages, as deployed).
    public func run(train: LabeledImages, test: LabeledImages, standardization: Standardization,
                    onEvent: (Event) -> Void = { _ in }) throws -> [Result] {
        var results: [Result] = []
        for choice in choices {
            let network = architecture.replacingBatchNorm(with: choice)
            for batch in batchSizes {
                let settings = TrainingSettings.stepBudget(steps: steps(batchSize: batch), batchSize: batch, learningRate: learningRate(batchSize: batch),
                                                           schedule: .cosine, seed: seed, logPoints: 10)
                onEvent(.started(choice, batchSize: batch, steps: settings.maxSteps!))
                let start = DispatchTime.now().uptimeNanoseconds
                // The same initial weights for every batch size of one normalization.
                let trainer = try Trainer(model: try network.makeModel(seed: seed), architecture: network, settings: settings,
                                          standardization: standardization)
                let summary = try trainer.train(train, test: nil) { onEvent(.training($0)) }
                let accuracy = trainer.evaluate(test).accuracy
                let result = Result(choice: choice, batchSize: batch, steps: summary.steps, learningRate: settings.learningRate,
                                    testAccuracy: accuracy, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                results.append(result)
                onEvent(.finished(result))
            }
        }
        return results
    }
}
