import Foundation

/// One training run end to end: a model, data already loaded, a run directory written
/// as it goes (checkpoint and metrics after every epoch, summary at the end). Shared by
/// `convviz train`, `compare-norms` and `demo`.
public enum TrainingSession {
    public static func run(architecture: Architecture, model: Sequential? = nil, splits: DataSource.Splits, settings: TrainingSettings,
                           dataName: String, directory: URL, resumeFrom: (step: Int, optimizer: [String: Tensor])? = nil,
                           onEvent: (Trainer.Event) -> Void) throws -> Trainer.Summary {
        let model = try model ?? architecture.makeModel(seed: settings.seed)
        let trainer = try Trainer(model: model, architecture: architecture, settings: settings, standardization: splits.standardization)
        let run = try RunDirectory(directory)
        if let resumeFrom { trainer.resume(step: resumeFrom.step, optimizerState: resumeFrom.optimizer); run.loadExistingMetrics() }
        let summary = try trainer.train(splits.train, test: splits.test) { event in
            run.record(event)
            onEvent(event)
            if case let .epochEnd(epoch) = event { try run.save(trainer: trainer, epoch: epoch + 1) }
        }
        try run.writeSummary(summary, settings: settings, data: dataName, architecture: architecture)
        return summary
    }
}
