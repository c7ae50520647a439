import Foundation

/// The files of one training run: `checkpoint.safetensors`, `optimizer.safetensors`
/// (momentum, for resuming), `metrics.jsonl` (one JSON object per logged step and per
/// evaluation), `summary.json` (the outcome, and OpenBLAS's kernels) and `timing.json`
/// (speeds: the only file that differs between two runs of the same seed).
///
/// One process at a time writes a run directory (`RunLock`), and its files are replaced
/// together (`RunStaging`): a failure or a kill never leaves a checkpoint of one run
/// beside the metrics of another.
public final class RunDirectory {
    /// How a run treats the folder it writes.
    public enum Mode: Sendable {
        /// A new run: refused when the folder already holds files.
        case new
        /// Continues the run in the folder; each save replaces its files together.
        case resume
        /// Replaces the run in the folder, which stays whole until the new run has
        /// finished: every save is staged, and all of them commit at the end.
        case replace
    }

    public let url: URL
    public let mode: Mode
    private let lock: RunLock
    private let staging: RunStaging
    private let createdFolder: Bool
    private var metricLines: [String] = []
    private var timingLines: [[String: Any]] = []

    public static let checkpointFileName = "checkpoint.safetensors"
    static let optimizerFileName = "optimizer.safetensors"
    public static let metricsFileName = "metrics.jsonl"
    public static let summaryFileName = "summary.json"
    public static let timingFileName = "timing.json"
    /// The files a run consists of.
    static let runFileNames = [checkpointFileName, optimizerFileName, metricsFileName, summaryFileName, timingFileName]
    /// Whether `name` is one of a run's files.
    public static func isRunFile(_ name: String) -> Bool { runFileNames.contains(name) }

    /// Opens (creating) the folder and locks it; finishes or drops what an interrupted
    /// run left staged, and removes stale temporary files.
    public init(_ url: URL, mode: Mode = .resume) throws {
        self.url = url
        self.mode = mode
        createdFolder = !FileManager.default.fileExists(atPath: url.path)
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw WriteError(file: url.path, message: "cannot create the run directory: \(FileReading.reason(error))")
        }
        lock = try RunLock(folder: url)
        staging = RunStaging(run: url)
        try staging.recover()
        for name in Self.runFileNames { AtomicFile.removeStaleTemporaries(of: url.appendingPathComponent(name)) }
        if mode == .new, !contents.isEmpty { throw Occupied(folder: url.path, files: contents) }
    }

    /// The folder already holds a run (or other files) and neither resuming nor replacing was asked for.
    public struct Occupied: Error, CustomStringConvertible {
        public let folder: String
        public let files: [String]
        public init(folder: String, files: [String]) { self.folder = folder; self.files = files }
        public var description: String {
            let f = OneLine.escaped(folder)
            return "\(f): already holds a run (\(files.prefix(3).map(OneLine.escaped).joined(separator: ", "))\(files.count > 3 ? ", ..." : "")); give --resume \(f) to continue it, --overwrite to replace it, or another --out"
        }
    }

    /// The folder's files, without ConvViz's own bookkeeping (lock, staging).
    public var contents: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
            .filter { $0 != RunLock.fileName && $0 != RunStaging.folderName }.sorted()
    }

    /// After a failure: a folder this run created and never wrote a file into is removed.
    public func discardIfEmpty() {
        guard createdFolder, contents.isEmpty else { return }
        try? FileManager.default.removeItem(at: url)
    }

    public var checkpointURL: URL { url.appendingPathComponent(Self.checkpointFileName) }
    public var optimizerURL: URL { url.appendingPathComponent(Self.optimizerFileName) }
    public var metricsURL: URL { url.appendingPathComponent(Self.metricsFileName) }
    public var summaryURL: URL { url.appendingPathComponent(Self.summaryFileName) }
    public var timingURL: URL { url.appendingPathComponent(Self.timingFileName) }

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
    public func loadExistingMetrics() throws {
        guard FileManager.default.fileExists(atPath: metricsURL.path) else { return }
        let text = String(decoding: try FileReading.read(metricsURL, maxBytes: 1 << 28, what: "metrics file"), as: UTF8.self)
        metricLines = text.split(separator: "\n").map(String.init)
    }

    public func record(_ event: Trainer.Event) throws {
        let object: [String: Any]
        switch event {
        case let .step(step, _, epoch, loss, accuracy, lr, ips):
            object = ["step": step, "epoch": epoch, "loss": Double(loss), "accuracy": Double(accuracy), "lr": Double(lr)]
            timingLines.append(["step": step, "images_per_second": (ips * 10).rounded() / 10])
        case let .evaluation(epoch, loss, accuracy):
            object = ["epoch": epoch, "test_loss": Double(loss), "test_accuracy": Double(accuracy)]
        case .epochEnd:
            return
        }
        metricLines.append(String(decoding: try Self.json(object, file: metricsURL), as: UTF8.self))
    }

    /// Writes the metrics so far, the checkpoint and the optimizer state, together.
    public func save(trainer: Trainer, epoch: Int) throws {
        var checkpoint = Checkpoint(model: trainer.model, architecture: trainer.architecture, standardization: trainer.standardization,
                                    settings: trainer.settings.json, step: trainer.step, epoch: epoch)
        checkpoint.notes[Checkpoint.machineKey] = BLAS.machineJSON  // what its bytes depend on besides the seed
        try staging.stage(Self.metricsFileName, Data((metricLines.joined(separator: "\n") + "\n").utf8))
        try staging.stage(Self.checkpointFileName, checkpoint.encoded(model: trainer.model))
        try staging.stage(Self.optimizerFileName, SafeTensorsFile.encode(trainer.optimizerState, metadata: ["convviz.step": String(trainer.step)]))
        // The previous outcome no longer describes the run once its checkpoint moves on.
        if mode != .replace { try commit() }
    }

    /// Writes `summary.json` and `timing.json`, and (replacing a run) every staged file.
    public func writeSummary(_ summary: Trainer.Summary, settings: TrainingSettings, data: String, architecture: Architecture) throws {
        var object: [String: Any] = [
            "steps": summary.steps, "epochs": summary.epochs, "final_loss": Double(summary.finalLoss),
            "data": data, "architecture": architecture.name,
            "settings": (try? JSONSerialization.jsonObject(with: Data(settings.json.utf8))) ?? [:],
            "openblas": BLAS.configuration, "machine": BLAS.machine,
        ]
        if let a = summary.testAccuracy { object["test_accuracy"] = Double(a) }
        if let l = summary.testLoss { object["test_loss"] = Double(l) }
        let timing: [String: Any] = ["train_images_per_second": (summary.trainImagesPerSecond * 10).rounded() / 10, "steps": timingLines]
        try staging.stage(Self.summaryFileName, try Self.json(object, file: summaryURL, pretty: true))
        try staging.stage(Self.timingFileName, try Self.json(timing, file: timingURL, pretty: true))
        try commit()
    }

    /// Moves what is staged into place; a set that includes a checkpoint replaces the
    /// whole run, so run files it does not include are removed.
    private func commit() throws {
        let staged = Set(staging.staged)
        let removing = staged.contains(Self.checkpointFileName) ? Self.runFileNames.filter { !staged.contains($0) } : []
        try staging.commit(removing: removing)
    }

    /// JSON for a run file; NaN and infinities (which JSON lacks) become null, at any depth.
    static func json(_ object: Any, file: URL, pretty: Bool = false) throws -> Data {
        do {
            return try JSONSerialization.data(withJSONObject: jsonSafe(object), options: pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys])
        } catch {
            throw WriteError(file: file.path, message: "cannot encode as JSON: \(FileReading.reason(error))")
        }
    }
}

/// JSON has no NaN or infinity: such a number is written as null, in nested objects and
/// arrays too.
func jsonSafe(_ value: Any) -> Any {
    if let d = value as? Double, !d.isFinite { return NSNull() }
    if let f = value as? Float, !f.isFinite { return NSNull() }
    if let o = value as? [String: Any] { return o.mapValues(jsonSafe) }
    if let a = value as? [Any] { return a.map(jsonSafe) }
    return value
}
