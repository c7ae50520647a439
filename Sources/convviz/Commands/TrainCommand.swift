import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz train`: trains a network and writes a run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network; writes RUN_DIR/checkpoint.safetensors, metrics.jsonl, summary.json and timing.json.",
        discussion: """
        Example: convviz train --data fashion-mnist --arch small --epochs 1 --out Outputs/runs/fmnist
        """)

    @OptionGroup var data: DataOptions
    @OptionGroup var budget: ReadLimitOptions
    @OptionGroup var threads: ThreadOptions

    @Option(help: "Architecture: 'small' (SmallConvNet) or an architecture JSON file.")
    var arch: String = "small"

    @Option(help: "Epochs.")
    var epochs: Int = 1

    @Option(help: "Stop after this many steps in total.")
    var maxSteps: Int?

    @Option(help: "Batch size.")
    var batch: Int = 128

    @Option(help: "Base learning rate. The default recipe (0.02 with a cosine schedule) reaches 88% on Fashion-MNIST in one epoch of SmallConvNet; 0.05 constant is PyTorch tutorials' recipe.")
    var lr: Float = 0.02

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Option(help: "Weight decay (L2), applied to every parameter as torch.optim.SGD does.")
    var weightDecay: Float = 5e-4

    @Option(help: "Learning-rate schedule: constant, step (x0.1 at 50% and 75% of the steps) or cosine.")
    var schedule: TrainingSettings.Schedule = .cosine

    @Option(help: "Normalization after convolutions, replacing the architecture's BatchNorm (group:G: G groups).")
    var norm: Architecture.NormalizationChoice?

    @Option(help: "Random seed: the same seed gives byte-identical checkpoints.")
    var seed: UInt64 = 0

    @Option(help: "Steps between two logged lines of metrics.")
    var logEvery: Int = 50

    @Option(help: "Resume from this run directory or checkpoint (continues to --epochs / --max-steps).")
    var resume: String?

    @Option(help: "Run directory to write. A directory that already holds files is refused unless --resume or --overwrite is given.")
    var out: String

    @Flag(help: "Train into a non-empty --out, replacing the previous run's files as the new run writes them.")
    var overwrite = false

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1") }
        guard logEvery >= 1 else { throw ValidationError("--log-every must be at least 1") }
        for (name, value) in [("--lr", lr), ("--momentum", momentum), ("--weight-decay", weightDecay)] where !value.isFinite {
            throw ValidationError("\(name) must be a finite number, not \(value)")
        }
    }

    func run() throws {
        var settings = TrainingSettings()
        settings.epochs = epochs
        settings.maxSteps = maxSteps
        settings.batchSize = batch
        settings.learningRate = lr
        settings.momentum = momentum
        settings.weightDecay = weightDecay
        settings.schedule = schedule
        settings.seed = seed
        settings.logEvery = logEvery

        // Locked first, so two runs cannot both find the folder empty; a previous run is
        // refused, continued, or kept whole until the new one has finished.
        let run = try RunDirectory(URL(fileURLWithPath: out), mode: resume != nil ? .resume : overwrite ? .replace : .new)
        // A run that fails before writing a file leaves no folder it created behind.
        do { try train(into: run, settings: settings) } catch {
            run.discardIfEmpty()
            // A shape that does not work is the architecture's: the message names its file.
            if let e = error as? ShapeError { throw ReadError(resume ?? arch, .badShape, e.description) }
            throw error
        }
    }

    private func train(into run: RunDirectory, settings: TrainingSettings) throws {
        let progress = ProgressDisplay()
        var architecture: Architecture
        var model: Sequential
        var resumed: TrainingResume?
        if let resume {
            let point = try TrainingResume(resume, into: run, runName: out, limits: budget.limits)
            architecture = point.architecture
            model = point.model
            resumed = point
            progress.note("resuming \(point.checkpointURL.path) at step \(point.step)")
        } else {
            architecture = try ModelSource.architecture(of: arch)
            if let norm { architecture = architecture.replacingBatchNorm(with: norm) }
            // Data the network cannot take is refused before its weights are built.
            try data.data.checkFits(input: architecture.input, limits: budget.limits)
            model = try architecture.makeModel(seed: seed)
        }
        let source = data.data
        progress.note("loading \(source)")
        let splits = try source.load(input: architecture.input, seed: seed, limits: budget.limits)
        try TrainingSession.validate(architecture: architecture, splits: splits, architectureSource: resume ?? arch, dataName: source.description)
        try resumed?.check(settings: settings, trainingImages: splits.train.count)
        progress.note("\(splits.train.count) training and \(splits.test.count) test images of \(splits.train.sampleShape); model \(architecture.name) with \(model.namedParameters.filter { $0.parameter.trainable }.reduce(0) { $0 + $1.parameter.value.count }) parameters")

        let summary = try TrainingSession.run(architecture: architecture, model: model, splits: splits, settings: settings,
                                              dataName: source.description, run: run, resumeFrom: resumed?.point,
                                              onEvent: progress.show)
        progress.finish()
        let accuracy = summary.testAccuracy.map { String(format: "%.4f", $0) } ?? "-"
        print("test accuracy \(accuracy), \(String(format: "%.0f", summary.trainImagesPerSecond)) images/s; wrote \(out)")
    }
}
