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
        /// "no normalization", "batch norm", "group:4 norm": a legend entry.
        public var label: String { choice == .none ? "no normalization" : "\(choice) norm" }
    }

    /// Constant learning rate, a loss point about every 40th of the budget.
    public var settings: TrainingSettings {
        var s = TrainingSettings()
        s.epochs = epochs
        s.maxSteps = maxSteps
        s.batchSize = batchSize
        s.learningRate = learningRate
        s.schedule = .constant
        s.seed = seed
        s.logEvery = max(1, maxSteps / 40)
        return s
    }

    /// Trains every choice into `directory/<choice>` (`group:4` -> `group-4`).
    public func run(splits: DataSource.Splits, dataName: String, directory: URL, onEvent: (Event) -> Void) throws -> [Run] {
        // Each "epoch" is maxSteps / epochs steps of the training set, so the curve has
        // `epochs` accuracy points within the budget.
        let perEpoch = max(batchSize, min(splits.train.count, maxSteps / epochs * batchSize))
        var short = splits
        short.train = splits.train.split(testFraction: 1 - Double(perEpoch) / Double(splits.train.count), seed: seed).0
        return try choices.map { choice in
            onEvent(.started(choice))
            let dir = directory.appendingPathComponent("\(choice)".replacingOccurrences(of: ":", with: "-"))
            let summary = try TrainingSession.run(architecture: architecture.replacingBatchNorm(with: choice), splits: short, settings: settings,
                                                  dataName: dataName, directory: dir) { onEvent(.training($0)) }
            onEvent(.finished(choice, summary))
            return Run(choice: choice, directory: dir)
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
