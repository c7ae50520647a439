import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz compare-norms`: the same network trained with each normalization under the
/// same budget and seed, and their curves on one figure.
struct CompareNormsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare-norms",
        abstract: "Train one network with no, batch, layer, instance and group normalization; draw the curves together.")

    @Option(help: "Training data: fashion-mnist, samples, cifar10:DIR or folder:DIR.") var data: String = "fashion-mnist"
    @Option(help: "Architecture with BatchNorm layers to swap: 'small' or a JSON file.") var arch: String = "small"
    @Option(help: "Normalizations to compare, comma-separated.") var norms: String = "none,batch,layer,instance,group:4"
    @Option(help: "Epochs per run.") var epochs: Int = 2
    @Option(help: "Steps per run (the budget; counts across epochs).") var maxSteps: Int = 240
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Learning rate.") var lr: Float = 0.02
    @Option(help: "Random seed (the same for every run).") var seed: UInt64 = 0
    @Option(help: "Output directory: one run per normalization and curves.png / curves.svg.") var out: String

    func validate() throws {
        for n in norms.split(separator: ",") where Architecture.NormalizationChoice(parsing: String(n)) == nil {
            throw ValidationError("unknown normalization '\(n)'; use none, batch, layer, instance or group:G")
        }
        guard epochs >= 1, maxSteps >= 1, batch >= 1 else { throw ValidationError("--epochs, --max-steps and --batch must be positive") }
    }

    func run() throws {
        let base = try ModelSource(model: arch).architecture
        let source = try DataSource(parsing: data)
        let progress = ProgressDisplay()
        progress.note("loading \(source)")
        let splits = try source.load(input: base.input, seed: seed)
        // Evaluate on a fixed part of the test split per epoch, so several epochs fit the budget.
        var settings = TrainingSettings()
        settings.epochs = epochs
        settings.maxSteps = maxSteps
        settings.batchSize = batch
        settings.learningRate = lr
        settings.schedule = .constant
        settings.seed = seed
        settings.logEvery = max(1, maxSteps / 40)
        // Each "epoch" is maxSteps / epochs steps of the training set, so the curve has
        // `epochs` accuracy points within the budget.
        let perEpoch = max(batch, min(splits.train.count, maxSteps / epochs * batch))
        var short = splits
        short.train = splits.train.split(testFraction: 1 - Double(perEpoch) / Double(splits.train.count), seed: seed).0
        var runs: [TrainingCurves.Run] = []
        let outURL = URL(fileURLWithPath: out)
        for name in norms.split(separator: ",").map(String.init) {
            let arch = base.replacingBatchNorm(with: Architecture.NormalizationChoice(parsing: name)!)
            progress.note("training with \(name) normalization")
            let dir = outURL.appendingPathComponent(name.replacingOccurrences(of: ":", with: "-"))
            let summary = try TrainingSession.run(architecture: arch, splits: short, settings: settings, dataName: source.description,
                                                  directory: dir, onEvent: progress.show)
            progress.finish()
            print("\(name): test accuracy \(String(format: "%.4f", summary.testAccuracy ?? 0)), final loss \(String(format: "%.4f", summary.finalLoss))")
            runs.append(try TrainingCurves.load(runDirectory: dir, name: name == "none" ? "no normalization" : name + " norm"))
        }
        var figure = TrainingCurves(runs: runs)
        figure.title = "Normalization compared: \(base.name) on \(source), \(maxSteps) steps, seed \(seed)"
        for ext in ["png", "svg"] { try Canvas.write(figure.scene(), to: outURL.appendingPathComponent("curves.\(ext)").path) }
        print("wrote \(outURL.appendingPathComponent("curves.png").path)")
    }
}
