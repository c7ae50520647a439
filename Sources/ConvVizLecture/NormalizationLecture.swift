import ConvVizCore
import ConvVizRender
import Foundation

/// The course's normalization figures: BatchNorm on an N x D matrix, batch statistics
/// against running averages in a real training run, folding into the convolution,
/// BatchNorm for ConvNets, the four normalizations' cubes, and test accuracy against
/// batch size for BatchNorm and GroupNorm, measured on Fashion-MNIST.
public struct NormalizationLecture {
    public let context: LectureContext
    public var budget: Budget
    /// The figures' words: the context's language, and the user's title or caption when
    /// one figure is drawn on its own (`convviz batchnorm`).
    public var text: FigureText

    public init(context: LectureContext, budget: Budget = .lecture) {
        self.context = context
        self.budget = budget
        self.text = FigureText(language: context.language)
    }

    /// The section's figures, in the course's order.
    public static let ids = ["bn-matrix", "bn-train-test", "bn-folding", "bn-convnets", "norm-groups", "bn-batch-size"]

    /// How much training the section does. The lecture's budget keeps the whole section
    /// near two minutes on two cores (release build: one epoch of Fashion-MNIST per
    /// batch-size run, 8 runs, about 110 s); tests use `.tiny`.
    public struct Budget: Sendable {
        /// The BatchNorm-statistics run (also the trained conv + BN that is folded).
        public var statisticsSteps: Int
        public var statisticsBatch: Int
        /// The batch-size study.
        public var batchSizes: [Int]
        public var imagesPerRun: Int
        public var testImages: Int

        public init(statisticsSteps: Int, statisticsBatch: Int, batchSizes: [Int], imagesPerRun: Int, testImages: Int) {
            self.statisticsSteps = statisticsSteps; self.statisticsBatch = statisticsBatch
            self.batchSizes = batchSizes; self.imagesPerRun = imagesPerRun; self.testImages = testImages
        }

        public static let lecture = Budget(statisticsSteps: 200, statisticsBatch: 32, batchSizes: [2, 4, 16, 64], imagesPerRun: 60_000, testImages: 10_000)
        public static let tiny = Budget(statisticsSteps: 6, statisticsBatch: 8, batchSizes: [2, 4], imagesPerRun: 16, testImages: 40)
    }

    /// An id this section does not draw.
    public struct UnknownFigure: Error, CustomStringConvertible {
        public let id: String
        public var description: String { "no normalization figure '\(id)'; the figures are \(NormalizationLecture.ids.joined(separator: ", "))" }
    }

    func figures() throws -> [Report.Figure] {
        let work = Work()
        var section = self
        if context.budget == .smoke { section.budget = .tiny }
        return try Self.ids.filter(context.wants).map { try section.figure($0, work) }
    }

    /// One figure, doing only the work it needs (the matrix needs no data, the batch-size
    /// figure no statistics run).
    public func figure(_ id: String) throws -> Report.Figure { try figure(id, Work()) }

    /// What several figures share, computed once.
    private final class Work {
        var data: LectureData?
        var trained: (run: BatchNormStatisticsRun, result: BatchNormStatisticsRun.Result)?
    }

    private func data(_ work: Work) throws -> LectureData {
        if let data = work.data { return data }
        context.progress(text.language("loading Fashion-MNIST", "读取 Fashion-MNIST"))
        let data = try LectureData(directory: context.fashionMNIST, testImages: budget.testImages)
        work.data = data
        return data
    }

    private func trained(_ work: Work) throws -> (run: BatchNormStatisticsRun, result: BatchNormStatisticsRun.Result) {
        if let trained = work.trained { return trained }
        let data = try data(work)
        context.progress(text.language("training the BatchNorm network (\(budget.statisticsSteps) steps)", "训练批归一化网络（\(budget.statisticsSteps) 步）"))
        var run = BatchNormStatisticsRun()
        run.steps = budget.statisticsSteps
        run.batchSize = budget.statisticsBatch
        run.seed = context.seed
        let result = try run.run(train: data.train, test: data.test, standardization: .fashionMNIST)
        work.trained = (run, result)
        return (run, result)
    }

    private func figure(_ id: String, _ work: Work) throws -> Report.Figure {
        switch id {
        case "bn-matrix": return try matrixFigure()
        case "bn-train-test": return try statisticsFigure(work)
        case "bn-folding": return try foldingFigure(work)
        case "bn-convnets", "norm-groups": return try cubeFigure(id, work)
        case "bn-batch-size": return try batchSizeFigure(work)
        default: throw UnknownFigure(id: id)
        }
    }

    private func matrixFigure() throws -> Report.Figure {
        let l = text.language
        var matrix = try BatchNormMatrixFigure.lectureExample(seed: context.seed, language: l)
        matrix.text = text
        return Report.Figure(id: "bn-matrix", title: l("BatchNorm on an N x D matrix", "N x D 矩阵上的批归一化"),
                             caption: l("Each column is normalized with its own mean and variance over the batch, then scaled by γ and shifted by β.",
                                        "每一列用它在批上的均值和方差归一化，然后乘以 γ、加上 β。"),
                             settings: ["N": "6", "D": "4", "seed": String(context.seed)], scene: matrix.scene())
    }

    private func statisticsFigure(_ work: Work) throws -> Report.Figure {
        let l = text.language
        let (run, trained) = try trained(work)
        let network = l("the lecture network (conv 8, BN, ReLU, pool; conv 16, BN, ReLU, pool; linear) on Fashion-MNIST",
                        "课程网络（卷积 8、批归一化、ReLU、池化；卷积 16、批归一化、ReLU、池化；全连接）在 Fashion-MNIST 上")
        var statistics = BatchNormStatisticsFigure(records: trained.records, channels: [0, 1, 2], batchSize: run.batchSize)
        statistics.momentum = trained.momentum
        statistics.testAccuracy = trained.summary.testAccuracy
        // No wall-clock time in the figure: the same seed must give the same bytes.
        statistics.source = l("Run: \(network), learning rate \(run.learningRate), seed \(run.seed).",
                              "训练：\(network)，学习率 \(run.learningRate)，随机种子 \(run.seed)。")
        statistics.text = text
        return Report.Figure(id: "bn-train-test", title: l("BatchNorm in training and at test time", "训练和测试时的批归一化"),
                             caption: l("Batch means and variances of three channels of bn1 at every training step, and the running averages used at test time; from a real \(run.steps)-step run.",
                                        "bn1 三个通道在每个训练步的批均值和批方差，以及测试时使用的滑动平均；来自一次真实的 \(run.steps) 步训练。"),
                             settings: ["steps": String(run.steps), "batch": String(run.batchSize), "lr": String(run.learningRate), "seed": String(run.seed)],
                             scene: statistics.scene())
    }

    private func foldingFigure(_ work: Work) throws -> Report.Figure {
        let l = text.language
        let data = try data(work)
        let (run, trained) = try trained(work)
        let conv = trained.model.layers.first { $0.name == "conv1" } as! Conv2D
        let bn = trained.model.layers.first { $0.name == "bn1" } as! BatchNorm2D
        let checkImages = data.test.batch(Array(0..<min(64, data.test.count))[...]).images
        var folding = BatchNormFoldingFigure(conv: conv, bn: bn, check: BatchNormFolding.check(conv: conv, bn: bn, input: checkImages),
                                             checkedOn: l("\(checkImages.shape[0]) Fashion-MNIST test images", "\(checkImages.shape[0]) 张 Fashion-MNIST 测试图像"))
        folding.source = l("conv1 and bn1 of the lecture network trained for \(run.steps) steps (as in the BatchNorm statistics figure).",
                           "参数来自训练 \(run.steps) 步后的课程网络的 conv1 和 bn1（与批归一化统计量那张图相同）。")
        folding.text = text
        return Report.Figure(id: "bn-folding", title: l("Folding BatchNorm into the previous convolution", "把批归一化折叠进前一个卷积层"),
                             caption: l(String(format: "W' = W·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β for conv1 and bn1 of the trained network; the folded layer's outputs differ by at most %.1e.", folding.check.maxAbsDifference),
                                        String(format: "训练后网络的 conv1 与 bn1：W' = W·γ/√(σ²+ε)，b' = (b − μ)·γ/√(σ²+ε) + β；折叠后的层输出最多相差 %.1e。", folding.check.maxAbsDifference)),
                             settings: ["layers": "conv1 + bn1", "channel": "0"], scene: folding.scene())
    }

    /// bn-convnets and norm-groups: cubes over conv1's real activations on six test images.
    private func cubeFigure(_ id: String, _ work: Work) throws -> Report.Figure {
        let l = text.language
        let data = try data(work)
        let (_, trained) = try trained(work)
        let conv = trained.model.layers.first { $0.name == "conv1" } as! Conv2D
        let activations = conv.forward(data.test.batch(Array(0..<min(6, data.test.count))[...]).images, mode: .evaluation)
        let shape = activations.shape.map(String.init).joined(separator: " x ")
        let source = l("Tensor: conv1's output for \(activations.shape[0]) Fashion-MNIST test images (\(shape)), after training.",
                       "张量：训练后 conv1 对 \(activations.shape[0]) 张 Fashion-MNIST 测试图像的输出（\(shape)）。")
        if id == "bn-convnets" {
            var convnets = BatchNormConvNetsFigure(tensor: activations)
            convnets.source = source
            convnets.text = text
            return Report.Figure(id: id, title: l("BatchNorm for ConvNets", "卷积网络中的批归一化"),
                                 caption: l("One mean and variance per channel over N, H and W: N x C x H x W gives statistics of shape 1 x C x 1 x 1.",
                                            "每个通道在 N、H、W 上求一个均值和方差：N x C x H x W 的输入得到形状为 1 x C x 1 x 1 的统计量。"),
                                 settings: ["tensor": shape], scene: convnets.scene())
        }
        var cubes = NormalizationCubes()
        cubes.tensor = activations
        cubes.samples = activations.shape[0]; cubes.channels = activations.shape[1]; cubes.groups = 4
        cubes.source = source
        cubes.text = text
        return Report.Figure(id: id, title: l("BatchNorm, LayerNorm, InstanceNorm and GroupNorm", "批归一化、层归一化、实例归一化和组归一化"),
                             caption: l("Which values share one mean and variance in each normalization, with the statistics of the shaded set computed from conv1's real activations.",
                                        "每种归一化中哪些数值共用一个均值和方差；阴影集合的统计量由 conv1 的真实激活计算。"),
                             settings: ["N": String(cubes.samples), "C": String(cubes.channels), "G": String(cubes.groups)], scene: cubes.scene())
    }

    private func batchSizeFigure(_ work: Work) throws -> Report.Figure {
        let l = text.language
        let data = try data(work)
        var study = BatchSizeStudy()
        study.batchSizes = budget.batchSizes
        study.imagesPerRun = budget.imagesPerRun
        study.seed = context.seed
        let results = try study.run(train: data.train, test: data.test, standardization: .fashionMNIST) { event in
            switch event {
            case let .started(choice, batch, steps):
                context.progress(l("training \(l.name(choice)), batch \(batch): \(steps) steps", "训练\(l.name(choice))，批大小 \(batch)：\(steps) 步"))
            case let .finished(r):
                context.progress(l(String(format: "%@, batch %d: test accuracy %@ (%.1f s)", l.name(r.choice), r.batchSize, FigureNumber.percent(r.testAccuracy), r.seconds),
                                   String(format: "%@，批大小 %d：测试准确率 %@（%.1f 秒）", l.name(r.choice), r.batchSize, FigureNumber.percent(r.testAccuracy), r.seconds)))
            case .training: break
            }
        }
        var figure = BatchSizeFigure(results: results, imagesPerRun: study.imagesPerRun, testImages: data.test.count,
                                     learningRate: study.learningRate, referenceBatch: study.referenceBatch)
        figure.text = text
        // Shape arithmetic: each BatchNorm's input [C, H, W] in the study's network.
        let shapes = try study.architecture.shapes()
        figure.statisticsPlanes = study.architecture.layers.enumerated().compactMap { i, spec in
            guard spec.kind == .batchnorm, i > 0, shapes[i - 1].count == 3 else { return nil }
            return (spec.name ?? "bn", shapes[i - 1][1], shapes[i - 1][2])
        }
        let accuracyLine = results.map { "\(l.name($0.choice)) \($0.batchSize): \(FigureNumber.percent($0.testAccuracy))" }.joined(separator: l.listSeparator)
        return Report.Figure(id: "bn-batch-size", title: l("Batch size: BatchNorm against GroupNorm", "批大小：批归一化与组归一化"),
                             caption: l("Test accuracy of real Fashion-MNIST runs, \(FigureNumber.grouped(study.imagesPerRun)) training images each: \(accuracyLine).",
                                        "Fashion-MNIST 上真实训练的测试准确率，每次 \(FigureNumber.grouped(study.imagesPerRun)) 张训练图像：\(accuracyLine)。"),
                             settings: ["batch sizes": study.batchSizes.map(String.init).joined(separator: ","), "images per run": String(study.imagesPerRun),
                                        "test images": String(data.test.count), "seed": String(study.seed)],
                             scene: figure.scene())
    }
}

/// Fashion-MNIST standardized once for every run of the section, the test split cut to
/// `testImages` (its first images, so every figure tests on the same ones).
public struct LectureData {
    public let train: LabeledImages
    public let test: LabeledImages

    public init(directory: URL, testImages: Int) throws {
        var train = try FashionMNIST.load(split: "train", directory: directory)
        let fullTest = try FashionMNIST.load(split: "t10k", directory: directory)
        let cut = fullTest.batch(Array(0..<min(testImages, fullTest.count))[...])
        var test = LabeledImages(images: cut.images, labels: cut.labels, classes: fullTest.classes)
        Standardization.fashionMNIST.apply(to: &train.images)
        Standardization.fashionMNIST.apply(to: &test.images)
        self.train = train
        self.test = test
    }
}

extension BatchNormMatrixFigure {
    /// The lecture's matrix: 6 samples of 4 features on different scales (seeded normal
    /// values, rounded to one decimal so a reader can check the means), γ and β seeded too.
    public static func lectureExample(seed: UInt64, language: Language) throws -> BatchNormMatrixFigure {
        var rng = SeededGenerator(seed: seed &+ 0xB47C)
        let (n, d) = (6, 4)
        let centres: [Float] = [4, -2, 0.5, 10], spreads: [Float] = [2, 0.5, 1, 5]
        var x = Tensor(shape: [n, d])
        for i in 0..<n { for j in 0..<d { x[i, j] = ((centres[j] + spreads[j] * rng.normal()) * 10).rounded() / 10 } }
        let gamma = (0..<d).map { _ in (rng.uniform(0.5, 2) * 10).rounded() / 10 }
        let beta = (0..<d).map { _ in (rng.uniform(-1, 1) * 10).rounded() / 10 }
        var figure = BatchNormMatrixFigure(try MatrixBatchNorm(x, gamma: gamma, beta: beta))
        figure.text = FigureText(language: language)
        figure.source = language("Matrix, γ and β: seeded random values (seed \(seed)); columns on different scales on purpose.",
                                 "矩阵、γ 和 β：带随机种子的随机数（种子 \(seed)）；各列有意取不同的尺度。")
        return figure
    }
}
