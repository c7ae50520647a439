import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz compare-norms --out DIR`: the same network trained with each normalization
/// under the same budget and seed, and their curves on one figure.
struct CompareNormsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare-norms",
        abstract: "Train one network with no, batch, layer, instance and group normalization; draw the curves together.")

    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Architecture with BatchNorm layers to swap: 'small' or a JSON file.") var arch: String = "small"
    @Option(help: ArgumentHelp("Normalizations to compare, comma-separated.", valueName: "norm,..."))
    var norms = CommaSeparated<Architecture.NormalizationChoice>([.none, .batch, .layer, .instance, .group(4)])
    @Option(help: "Epochs per run.") var epochs: Int = 2
    @Option(help: "Steps per run (the budget; counts across epochs).") var maxSteps: Int = 240
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Learning rate.") var lr: Float = 0.02
    @Option(help: "Random seed (the same for every run).") var seed: UInt64 = 0
    @Option(help: "Output directory: one run per normalization and curves.png / curves.svg.") var out: String
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>
    @OptionGroup var png: PNGScaleOptions

    func validate() throws {
        guard epochs >= 1, maxSteps >= 1, batch >= 1 else { throw ValidationError("--epochs, --max-steps and --batch must be positive") }
        // An unreadable --arch is reported by `run`, naming the file.
        if let architecture = try? ModelSource(model: arch).architecture { try checkChoices(architecture) }
    }

    /// Every normalization fits the network (GroupNorm's groups divide each layer's
    /// channels), checked before the data is read.
    private func checkChoices(_ architecture: Architecture) throws {
        for choice in norms.elements {
            do { _ = try architecture.replacingBatchNorm(with: choice).shapes() } catch {
                throw ValidationError("--norms \(choice): \(error)")
            }
        }
    }

    func run() throws {
        let architecture = try ModelSource(model: arch).architecture
        var comparison = NormalizationComparison(architecture: architecture, choices: norms.elements)
        comparison.epochs = epochs; comparison.maxSteps = maxSteps; comparison.batchSize = batch; comparison.learningRate = lr; comparison.seed = seed
        let progress = ProgressDisplay()
        progress.note("loading \(data.data)")
        let splits = try data.data.load(input: comparison.architecture.input, seed: seed)
        let outURL = URL(fileURLWithPath: out)
        let runs = try comparison.run(splits: splits, dataName: data.data.description, directory: outURL) { event in
            switch event {
            case let .started(choice): progress.note("training with \(choice) normalization")
            case let .training(e): progress.show(e)
            case let .finished(choice, summary):
                progress.finish()
                print("\(choice): test accuracy \(String(format: "%.4f", summary.testAccuracy ?? 0)), final loss \(String(format: "%.4f", summary.finalLoss))")
            }
        }
        let figure = try TrainingCurves.comparison(comparison, runs: runs, trainingImages: splits.train.count,
                                                   dataName: data.data.description, text: text.figureText)
        let scene = figure.scene()
        let (pngScale, warning) = FigureOutputOptions.pngScale(png.scale, for: scene)
        if let warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        try Canvas.write(scene, to: outURL.appendingPathComponent("curves.png").path, pngScale: pngScale)
        try Canvas.write(scene, to: outURL.appendingPathComponent("curves.svg").path)
        print("wrote \(outURL.appendingPathComponent("curves.png").path)")
    }
}
