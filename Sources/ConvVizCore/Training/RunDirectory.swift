import Foundation

/// The files of one training run, each written atomically:
/// `checkpoint.safetensors`, `optimizer.safetensors` (momentum, for resuming),
/// `metrics.jsonl` (one JSON object per logged step and per evaluation) and
/// `summary.json`.
public final class RunDirectory {
    public let url: URL
    private var metricLines: [String] = []

    public init(_ url: URL) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }
    public var optimizerURL: URL { url.appendingPathComponent(Self.optimizerFileName) }
    static let optimizerFileName = "optimizer.safetensors"
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var summaryURL: URL { url.appendingPathComponent("summary.json") }

    /// The momentum buffers saved beside `checkpoint` (`optimizer.safetensors`), by
    /// parameter name; empty when there are none to read (training then resumes with
    /// fresh momentum).
    public static func optimizerState(besideCheckpoint checkpoint: URL) -> [String: Tensor] {
        let url = checkpoint.deletingLastPathComponent().appendingPathComponent(optimizerFileName)
        guard let file = try? SafeTensorsFile(contentsOf: url) else { return [:] }
        var state: [String: Tensor] = [:]
        for name in file.names { state[name] = try? file.tensor(name) }
        return state
    }

    /// Keeps the metrics of a run being resumed.
    public func loadExistingMetrics() {
        if let text = try? String(contentsOf: metricsURL, encoding: .utf8) {
            metricLines = text.split(separator: "\n").map(String.init)
        }
    }

    public func record(_ event: Trainer.Event) throws {
        let object: [String: Any]
        switch event {
        case let .step(step, _, epoch, loss, accuracy, lr, ips):
            object = ["step": step, "epoch": epoch, "loss": Double(loss), "accuracy": Double(accuracy), "lr": Double(lr),
                      "images_per_second": (ips * 10).rounded() / 10]
        case let .evaluation(epoch, loss, accuracy):
            object = ["epoch": epoch, "test_loss": Double(loss), "test_accuracy": Double(accuracy)]
        case .epochEnd:
            return
        }
        metricLines.append(String(decoding: try JSONSerialization.data(withJSONObject: object.mapValues(jsonSafe), options: [.sortedKeys]), as: UTF8.self))
    }

    /// Writes the metrics so far, the checkpoint and the optimizer state.
    public func save(trainer: Trainer, epoch: Int) throws {
        try AtomicFile.write(metricLines.joined(separator: "\n") + "\n", to: metricsURL)
        let checkpoint = Checkpoint(model: trainer.model, architecture: trainer.architecture, standardization: trainer.standardization,
                                    settings: trainer.settings.json, step: trainer.step, epoch: epoch)
        try checkpoint.write(to: checkpointURL, model: trainer.model)
        try AtomicFile.write(SafeTensorsFile.encode(trainer.optimizerState, metadata: ["convviz.step": String(trainer.step)]), to: optimizerURL)
    }

    public func writeSummary(_ summary: Trainer.Summary, settings: TrainingSettings, data: String, architecture: Architecture) throws {
        var object: [String: Any] = [
            "steps": summary.steps, "epochs": summary.epochs, "final_loss": Double(summary.finalLoss),
            "train_images_per_second": (summary.trainImagesPerSecond * 10).rounded() / 10,
            "data": data, "architecture": architecture.name,
            "settings": try JSONSerialization.jsonObject(with: Data(settings.json.utf8)),
        ]
        if let a = summary.testAccuracy { object["test_accuracy"] = Double(a) }
        if let l = summary.testLoss { object["test_loss"] = Double(l) }
        // A resumed run that had nothing left to do has no final loss: null, not a JSON error.
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: object.mapValues(jsonSafe), options: [.sortedKeys, .prettyPrinted]), to: summaryURL)
    }
}

/// JSON has no NaN or infinity: such a number is written as null.
func jsonSafe(_ value: Any) -> Any {
    if let d = value as? Double, !d.isFinite { return NSNull() }
    if let f = value as? Float, !f.isFinite { return NSNull() }
    return value
}
