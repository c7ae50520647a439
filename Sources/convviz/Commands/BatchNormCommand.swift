import ArgumentParser
import ConvVizCore
import ConvVizRender
import ConvVizLecture
import Foundation

/// `convviz batchnorm --figure bn-batch-size -o batch.svg`: one of the lecture's
/// normalization figures on its own, with its training on Fashion-MNIST done here.
struct BatchNormCommand: ComputeCommand {
    static let configuration = CommandConfiguration(commandName: "batchnorm",
        abstract: "Draw one of the lecture's BatchNorm figures, training on Fashion-MNIST where the figure needs it.",
        discussion: """
        Figures: bn-matrix (BatchNorm on an N x D matrix), bn-train-test (batch statistics \
        against running averages over a training run), bn-folding (BatchNorm folded into the \
        convolution, checked), bn-convnets (statistics over N, H, W), norm-groups (the four \
        normalizations' cubes), bn-batch-size (test accuracy against batch size for BatchNorm \
        and GroupNorm; about two minutes with the defaults on two cores).
        """)

    enum Figure: String, CaseIterable, ExpressibleByArgument {
        case matrix = "bn-matrix", trainTest = "bn-train-test", folding = "bn-folding", convnets = "bn-convnets", groups = "norm-groups", batchSize = "bn-batch-size"
    }

    @Option(help: "Which figure.") var figure: Figure
    @Option(name: .customLong("fashion-mnist"), help: ArgumentHelp("Directory of the Fashion-MNIST IDX files.", valueName: "dir")) var fashionMNIST: String = FashionMNIST.defaultDirectory.path
    @Option(help: "Random seed (data order, initial weights, the matrix's values).") var seed: UInt64 = 0
    @Option(help: "Training steps of the BatchNorm-statistics run (bn-train-test, bn-folding, bn-convnets, norm-groups).") var steps = NormalizationLecture.Budget.lecture.statisticsSteps
    @Option(help: "Batch size of that run.") var batch = NormalizationLecture.Budget.lecture.statisticsBatch
    @Option(help: ArgumentHelp("bn-batch-size: the batch sizes compared.", valueName: "b,...")) var batchSizes = CommaSeparated(NormalizationLecture.Budget.lecture.batchSizes)
    @Option(help: "bn-batch-size: training images each run sees.") var images = NormalizationLecture.Budget.lecture.imagesPerRun
    @Option(help: "Test images evaluated (the first ones of the test split).") var testImages = NormalizationLecture.Budget.lecture.testImages
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        guard (1...100_000).contains(steps), (1...4096).contains(batch) else { throw ValidationError("--steps must be 1 to 100000 and --batch 1 to 4096") }
        guard !batchSizes.elements.isEmpty, batchSizes.elements.allSatisfy({ (1...4096).contains($0) }) else { throw ValidationError("--batch-sizes must be 1 to 4096") }
        guard (1...1_000_000).contains(images), (1...10_000).contains(testImages) else { throw ValidationError("--images must be 1 to 1000000 and --test-images 1 to 10000") }
    }

    func run() throws {
        let progress = ProgressDisplay()
        let context = LectureContext(language: text.lang, seed: seed, fashionMNIST: URL(fileURLWithPath: fashionMNIST),
                                     workDirectory: FileManager.default.temporaryDirectory, progress: { progress.note($0) })
        var lecture = NormalizationLecture(context: context, budget: .init(statisticsSteps: steps, statisticsBatch: batch, batchSizes: batchSizes.elements,
                                                                          imagesPerRun: images, testImages: testImages))
        lecture.text = text.figureText
        try output.write(try lecture.figure(figure.rawValue).scene)
    }
}
