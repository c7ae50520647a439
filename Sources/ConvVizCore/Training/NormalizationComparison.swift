import Foundation

/// One network trained once per normalization under the same budget, data and seed
/// (`convviz compare-norms`): each run in a subdirectory named after its choice.
public struct NormalizationComparison: Sendable {
    /// The network whose BatchNorm layers are swapped for each choice.
    public var architecture: Architecture
    public var choices: [Architecture.NormalizationChoice]
    public var epochs = 2
    /// Steps per run, counted across epochs: the budget.
    public var maxSteps = 240
    public var batchSize = 128
    public var learningRate: Float = 0.02
    public var seed: UInt64 = 0

    public init(architecture: Architecture, choices: [Architecture.NormalizationChoice]) {
        self.architecture = architecture
        self.choices = choices
    }

    /// What a comparison reports as it goes.
    public enum Event {
        case started(Architecture.NormalizationChoice)
        case training(Trainer.Event)
        case finished(Architecture.NormalizationChoice, Trainer.Summary)
    }

    /// One finished run.
    public struct Run: Sendable {
        public var choice: Architecture.NormalizationChoice
        public var directory: URL
        /// Steps in one of the run's "epochs" (a pass over its share of the training set,
        /// not over the whole set): where its evaluations fall.
        public var stepsPerEpoch: Int
        public var summary: Trainer.Summary
        /// Test accuracy at the step of each evaluation (after each of the run's "epochs"
        /// and at the last step), for an x axis that counts steps.
        public func accuracyBySteps(_ metrics: TrainingMetrics) -> [(step: Double, value: Double)] {
            metrics.accuracy.map { (min($0.epoch * Double(stepsPerEpoch), Double(summary.steps)), $0.value) }
        }
        /// "no normalization", "batch norm", "group:4 norm": a legend entry.
        public var label: String { choice == .none ? "no normalization" : "\(choice) norm" }
    }

    /// Constant learning rate, a loss point about every 40th of the budget.
    public var settings: TrainingSettings {
        .stepBudget(steps: maxSteps, batchSize: batchSize, learningRate: learningRate, schedule: .constant, seed: seed, epochs: epochs, logPoints: 40)
    }

    /// Images each run sees: its steps times the batch size.
    public var imagesPerRun: Int { maxSteps * batchSize }

    /// Trains every choice into `directory/<choice>` (`group:4` -> `group-4`).
    public func run(splits: DataSource.Splits, dataName: String, directory: URL, onEvent: (Event) -> Void) throws -> [Run] {
        // Each "epoch" is maxSteps / epochs steps of the training set, so the curve has
        // `epochs` accuracy points within the budget.
        let perEpoch = max(batchSize, min(splits.train.count, maxSteps / epochs * batchSize))
        var short = splits
        short.train = splits.train.split(testFraction: 1 - Double(perEpoch) / Double(splits.train.count), seed: seed).0
        let stepsPerEpoch = max(1, short.train.count / max(1, min(batchSize, short.train.count)))
        return try choices.map { choice in
            onEvent(.started(choice))
            let dir = directory.appendingPathComponent("\(choice)".replacingOccurrences(of: ":", with: "-"))
            let summary = try TrainingSession.run(architecture: architecture.replacingBatchNorm(with: choice), splits: short, settings: settings,
                                                  dataName: dataName, directory: dir) { onEvent(.training($0)) }
            onEvent(.finished(choice, summary))
            return Run(choice: choice, directory: dir, stepsPerEpoch: stepsPerEpoch, summary: summary)
        }
    }
}

extension Architecture.NormalizationChoice: CustomStringConvertible {
    /// The spelling `init(parsing:)` reads: none, batch, layer, instance, group:G.
    public var description: String {
        switch self {
        case .batch: "batch"
        case .layer: "layer"
        case .instance: "instance"
        case .none: "none"
        case let .group(g): "group:\(g)"
        }
    }
}
