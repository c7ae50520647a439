import Foundation

/// Continuing a run from its checkpoint, by the rules `convviz train --resume` follows:
/// the checkpoint is a run directory's `checkpoint.safetensors` (or a file), its network
/// is rebuilt with every tensor checked, the momentum buffers come from the
/// `optimizer.safetensors` beside it, and the step it reached is a counter read from a
/// file, so it is checked (at most `TrainingSettings.stepLimit` when read, at most the
/// run's end once the data is known).
public struct TrainingResume {
    public let checkpointURL: URL
    public let architecture: Architecture
    public let model: Sequential
    public let step: Int
    public let optimizerState: [String: Tensor]

    /// Opens `source` (a run directory or a checkpoint file) to continue into `run`.
    /// Continuing another folder's run into a folder that holds a run of its own would mix
    /// two runs' files: refused (`RunDirectory.Occupied`, naming `runName`).
    public init(_ source: String, into run: RunDirectory, runName: String, limits: ReadLimits = .default) throws {
        let url = WeightsSource(parsing: source).fileURL
        guard AtomicFile.sameFile(url.deletingLastPathComponent(), run.url) || !run.contents.contains(where: RunDirectory.isRunFile) else {
            throw RunDirectory.Occupied(folder: runName, files: run.contents)
        }
        let checkpoint = try Checkpoint(contentsOf: url, limits: limits)
        checkpointURL = url
        architecture = checkpoint.architecture
        model = try checkpoint.makeModel(file: url.path)
        step = checkpoint.step
        optimizerState = RunDirectory.optimizerState(besideCheckpoint: url)
    }

    /// For `TrainingSession.run(resumeFrom:)`.
    public var point: (step: Int, optimizer: [String: Tensor]) { (step, optimizerState) }

    /// Checks that the run, with `settings` over `n` training images, does not end before
    /// the step the checkpoint reached (a run resumed at its end only writes its summary).
    public func check(settings: TrainingSettings, trainingImages n: Int) throws {
        let (perEpoch, total) = try settings.stepPlan(trainingImages: n)
        guard step <= total else { throw Self.pastTheEnd(step: step, total: total, settings: settings, perEpoch: perEpoch, file: checkpointURL.path) }
    }

    /// A checkpoint past the end of the run asked for, in one line.
    static func pastTheEnd(step: Int, total: Int, settings: TrainingSettings, perEpoch: Int, file: String? = nil) -> TrainingSettings.CounterError {
        let why = settings.maxSteps == total ? "--max-steps \(total)" : "--epochs \(settings.epochs) of \(perEpoch) steps each"
        return TrainingSettings.CounterError("\(file.map { "\(OneLine.escaped($0)): " } ?? "")the checkpoint is at step \(step), past the end of this run at step \(total) (\(why)); raise --epochs or --max-steps to continue it")
    }
}
