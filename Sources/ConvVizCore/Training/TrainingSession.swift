import Foundation

/// One training run end to end: a model, data already loaded, a run directory written
/// as it goes (checkpoint and metrics after every epoch, summary at the end). Shared by
/// `convviz train`, `compare-norms` and `demo`.
public enum TrainingSession {
    public static func run(architecture: Architecture, model: Sequential? = nil, splits: DataSource.Splits, settings: TrainingSettings,
                           dataName: String, directory: URL, resumeFrom: (step: Int, optimizer: [String: Tensor])? = nil,
                           onEvent: (Trainer.Event) -> Void) throws -> Trainer.Summary {
        let run = try RunDirectory(directory, mode: resumeFrom == nil ? .replace : .resume)
        return try self.run(architecture: architecture, model: model, splits: splits, settings: settings, dataName: dataName,
                            run: run, resumeFrom: resumeFrom, onEvent: onEvent)
    }

    /// Trains into `run`, a run directory already opened (and locked) by the caller.
    public static func run(architecture: Architecture, model: Sequential? = nil, splits: DataSource.Splits, settings: TrainingSettings,
                           dataName: String, run: RunDirectory, resumeFrom: (step: Int, optimizer: [String: Tensor])? = nil,
                           onEvent: (Trainer.Event) -> Void) throws -> Trainer.Summary {
        // A run that fails before writing anything (a loss diverging in the first epoch)
        // leaves no empty folder behind.
        do {
            try validate(architecture: architecture, splits: splits, architectureSource: architecture.name, dataName: dataName)
            let model = try model ?? architecture.makeModel(seed: settings.seed)
            let trainer = try Trainer(model: model, architecture: architecture, settings: settings, standardization: splits.standardization)
            if let resumeFrom { trainer.resume(step: resumeFrom.step, optimizerState: resumeFrom.optimizer); try run.loadExistingMetrics() }
            let summary = try trainer.train(splits.train, test: splits.test) { event in
                try run.record(event)
                onEvent(event)
                if case let .epochEnd(epoch) = event { try run.save(trainer: trainer, epoch: epoch + 1) }
            }
            try run.writeSummary(summary, settings: settings, data: dataName, architecture: architecture)
            return summary
        } catch {
            run.discardIfEmpty()
            throw error
        }
    }

    /// Training data that does not fit the network: one line naming both.
    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Checks, before anything is built or written, that the architecture can train on
    /// the data: a flat `[K]` output with a class per label, and at least one training
    /// image. `architectureSource` names where the architecture came from (a file).
    public static func validate(architecture: Architecture, splits: DataSource.Splits, architectureSource: String, dataName: String) throws {
        guard splits.train.count >= 1 else {
            throw Mismatch(description: "\(dataName): no training images (\(splits.test.count) test images); training needs at least one image per split")
        }
        let sample = splits.train.sampleShape
        guard sample == architecture.input else {
            throw Mismatch(description: "\(architectureSource): the architecture takes \(architecture.input) but \(dataName) gives \(sample) images")
        }
        let shapes = try architecture.shapes()
        guard let output = shapes.last, output.count == 1 else {
            throw Mismatch(description: "\(architectureSource): the network ends in \(shapes.last ?? []) per image; training needs a flat [classes] output (end with flatten and linear layers)")
        }
        let classes = max(splits.train.classes.count, (splits.train.labels + splits.test.labels).max().map { $0 + 1 } ?? 0)
        guard output[0] >= classes else {
            throw Mismatch(description: "\(architectureSource): the network outputs \(output[0]) classes but \(dataName) has \(classes)")
        }
    }
}
