import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender
@testable import ConvVizLecture

/// The normalization figures: every number read back from the SVG structure layer and
/// checked against arithmetic done here in Double (column means and variances, folded
/// weights, statistics' shapes), and the section run end to end on a tiny budget.
final class NormalizationLectureTests: XCTestCase {
    func testMatrixFigureShowsTheColumnsStatisticsAndTheAffineResult() throws {
        var rng = SeededGenerator(seed: 11)
        let (n, d) = (5, 3)
        let x = Tensor(shape: [n, d], data: (0..<(n * d)).map { _ in rng.uniform(-4, 9) })
        let gamma: [Float] = [2, 0.5, -1], beta: [Float] = [1, 0, 3]
        let figure = BatchNormMatrixFigure(try MatrixBatchNorm(x, gamma: gamma, beta: beta))
        let svg = try SVGGroupTexts(figure.scene())
        for j in 0..<d {
            let column = (0..<n).map { Double(x[$0, j]) }
            let mean = column.reduce(0, +) / Double(n)
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)  // biased, as BatchNorm divides
            XCTAssertEqual(try XCTUnwrap(svg.number("mean-\(j)")), mean, accuracy: 0.005, "mean of column \(j)")
            XCTAssertEqual(try XCTUnwrap(svg.number("variance-\(j)")), variance, accuracy: 0.005, "variance of column \(j)")
            XCTAssertEqual(svg.number("gamma-\(j)"), Double(gamma[j]))
            XCTAssertEqual(svg.number("beta-\(j)"), Double(beta[j]))
            for i in 0..<n {
                let normalized = (column[i] - mean) / (variance + 1e-5).squareRoot()
                XCTAssertEqual(try XCTUnwrap(svg.number("normalized-\(i)-\(j)")), normalized, accuracy: 0.005)
                XCTAssertEqual(try XCTUnwrap(svg.number("output-\(i)-\(j)")), Double(gamma[j]) * normalized + Double(beta[j]), accuracy: 0.005)
                XCTAssertEqual(try XCTUnwrap(svg.number("input-\(i)-\(j)")), column[i], accuracy: 0.005)
            }
        }
        XCTAssertThrowsError(try MatrixBatchNorm(x, gamma: [1, 2], beta: nil), "gamma per column")
        XCTAssertThrowsError(try MatrixBatchNorm(Tensor(shape: [0, 3]), gamma: nil, beta: nil), "empty")
    }

    func testFoldingFigureShowsWPrimeAndBPrimeOfTheFormula() throws {
        var rng = SeededGenerator(seed: 5)
        let conv = Conv2D(name: "conv1", inputChannels: 2, outputChannels: 3, window: Window2D(kernel: Pair(3), padding: Pair(1)), rng: &rng)
        let bn = BatchNorm2D(name: "bn1", channels: 3)
        bn.weight.value = Tensor(shape: [3], data: [1.5, 0.7, -0.4])
        bn.bias.value = Tensor(shape: [3], data: [0.2, -0.3, 0.05])
        bn.runningMean.value = Tensor(shape: [3], data: [0.1, -0.25, 0.6])
        bn.runningVar.value = Tensor(shape: [3], data: [0.5, 2.0, 0.09])
        let input = Tensor.normal(shape: [4, 2, 6, 6], using: &rng)
        let check = BatchNormFolding.check(conv: conv, bn: bn, input: input)
        XCTAssertLessThan(check.maxAbsDifference, 1e-5)
        for channel in 0..<3 {
            var figure = BatchNormFoldingFigure(conv: conv, bn: bn, check: check, checkedOn: "4 random inputs")
            figure.channel = channel
            let svg = try SVGGroupTexts(figure.scene())
            let s = Double(bn.weight.value.data[channel]) / (Double(bn.runningVar.value.data[channel]) + 1e-5).squareRoot()
            for i in 0..<3 { for j in 0..<3 {
                let w = Double(conv.weight.value[channel, 0, i, j])
                XCTAssertEqual(try XCTUnwrap(svg.number("weight-\(i)-\(j)")), w, accuracy: 6e-5)
                XCTAssertEqual(try XCTUnwrap(svg.number("folded-\(i)-\(j)")), w * s, accuracy: 6e-5, "W' channel \(channel)")
            }}
            let b = Double(conv.bias!.value.data[channel])
            let bPrime = (b - Double(bn.runningMean.value.data[channel])) * s + Double(bn.bias.value.data[channel])
            XCTAssertEqual(try XCTUnwrap(svg.number("folded-bias")), bPrime, accuracy: 6e-5, "b' channel \(channel)")
            XCTAssertEqual(try XCTUnwrap(svg.number("scale")), s, accuracy: 6e-5)
            XCTAssertEqual(try XCTUnwrap(svg.number("check")), Double(check.maxAbsDifference), accuracy: Double(check.maxAbsDifference) * 0.01 + 1e-12)
        }
    }

    func testConvNetsFigureStatesTheShapesOfTheStatistics() throws {
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.normal(shape: [3, 5, 4, 6], using: &rng)
        var figure = BatchNormConvNetsFigure(tensor: x)
        figure.channel = 2
        let svg = try SVGGroupTexts(figure.scene())
        XCTAssertEqual(svg.text("shape-x"), "x: N x C x H x W = 3 x 5 x 4 x 6")
        XCTAssert(try XCTUnwrap(svg.text("shape-statistics")).contains("= 1 x 5 x 1 x 1"))
        XCTAssert(try XCTUnwrap(svg.text("count")).contains("= 3·4·6 = 72 values"))
        // Channel 2's mean over N, H, W, computed here.
        var values: [Double] = []
        for n in 0..<3 { for i in 0..<4 { for j in 0..<6 { values.append(Double(x[n, 2, i, j])) } } }
        let mean = values.reduce(0, +) / 72
        let line = try XCTUnwrap(svg.text("channel-statistics"))
        XCTAssert(line.contains(String(format: "μ = %.4f", mean)), line)
        // The shaded set is channel 2 of every drawn sample.
        let shaded = svg.names.filter { $0.hasPrefix("batch/") }
        XCTAssertEqual(shaded.count, 15, "a column per (n, c)")
    }

    func testRecorderKeepsTheBatchAndRunningStatisticsOfEachStep() throws {
        let bn = BatchNorm2D(name: "bn", channels: 2)
        let recorder = BatchNormRecorder(bn)
        var rng = SeededGenerator(seed: 1)
        let a = Tensor.normal(shape: [3, 2, 2, 2], std: 2, using: &rng), b = Tensor.normal(shape: [3, 2, 2, 2], using: &rng)
        _ = recorder.forward(a, mode: .training)
        _ = recorder.forward(b, mode: .training)
        _ = recorder.forward(b, mode: .evaluation)  // not a training step: not recorded
        XCTAssertEqual(recorder.records.count, 2)
        var running = [0.0, 0.0], runningVar = [1.0, 1.0]
        for (step, x) in [a, b].enumerated() {
            for c in 0..<2 {
                var v: [Double] = []
                for n in 0..<3 { for i in 0..<4 { v.append(Double(x.data[(n * 2 + c) * 4 + i])) } }
                let m = v.reduce(0, +) / 12, variance = v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 12
                running[c] = 0.9 * running[c] + 0.1 * m
                runningVar[c] = 0.9 * runningVar[c] + 0.1 * variance * 12 / 11
                let r = recorder.records[step]
                XCTAssertEqual(Double(r.batchMean[c]), m, accuracy: 1e-5)
                XCTAssertEqual(Double(r.batchVariance[c]), variance, accuracy: 1e-4)
                XCTAssertEqual(Double(r.runningMean[c]), running[c], accuracy: 1e-5)
                XCTAssertEqual(Double(r.runningVariance[c]), runningVar[c], accuracy: 1e-4)
            }
        }
    }

    func testBatchSizeFigurePrintsTheMeasuredAccuracies() throws {
        func result(_ choice: Architecture.NormalizationChoice, _ batch: Int, _ accuracy: Float) -> BatchSizeStudy.Result {
            .init(choice: choice, batchSize: batch, steps: 64 / batch, learningRate: 0.1, testAccuracy: accuracy, seconds: 1)
        }
        let results = [result(.batch, 2, 0.70), result(.batch, 16, 0.80), result(.group(4), 2, 0.78), result(.group(4), 16, 0.79)]
        let figure = BatchSizeFigure(results: results, imagesPerRun: 64, testImages: 100, learningRate: 0.1, referenceBatch: 64)
        let svg = try SVGGroupTexts(figure.scene())
        XCTAssertEqual(svg.text("values-batch"), "BatchNorm — 2: 70.0%, 16: 80.0%")
        XCTAssertEqual(svg.text("values-group:4"), "GroupNorm (G=4) — 2: 78.0%, 16: 79.0%")
        let caption = try XCTUnwrap(svg.texts["caption"]).joined(separator: " ")
        XCTAssert(caption.contains("BatchNorm minus GroupNorm, in points of test accuracy: 2: -8.0, 16: +1.0."), caption)
        // Each method's drop from its own best to the smallest batch: BatchNorm 80 → 70, GroupNorm 79 → 78.
        XCTAssert(caption.contains("At batch 2 BatchNorm is 10.0 points below its best and GroupNorm 1.0: the direction of Wu & He's Figure 1"), caption)
        let flat = BatchSizeFigure(results: [result(.batch, 2, 0.79), result(.batch, 16, 0.80), result(.group(4), 2, 0.80), result(.group(4), 16, 0.78)],
                                   imagesPerRun: 64, testImages: 100, learningRate: 0.1, referenceBatch: 64)
        let flatCaption = try XCTUnwrap(try SVGGroupTexts(flat.scene()).texts["caption"]).joined(separator: " ")
        XCTAssert(flatCaption.contains("is not visible at this budget"), "a 1-point drop is within noise: \(flatCaption)")
        XCTAssert(caption.contains("batch 2 took 32 steps and batch 16 4."), caption)
        // Ticks at the batch sizes measured, on a log axis.
        let plot = try XCTUnwrap(svg.texts["plot"])
        XCTAssert(plot.contains("2") && plot.contains("16") && !plot.contains("8"), "\(plot)")
    }

    /// The study's budget: the same images per run, steps = images / batch, the learning
    /// rate scaled with the batch, and the same numbers from the same seed.
    func testBatchSizeStudyKeepsTheImageBudgetAndScalesTheLearningRate() throws {
        var rng = SeededGenerator(seed: 4)
        let images = LabeledImages(images: .normal(shape: [24, 1, 28, 28], using: &rng), labels: (0..<24).map { $0 % 10 }, classes: FashionMNIST.classes)
        var study = BatchSizeStudy()
        study.batchSizes = [2, 8]
        study.imagesPerRun = 16
        let first = try study.run(train: images, test: images, standardization: .fashionMNIST)
        XCTAssertEqual(first.map(\.steps), [8, 2, 8, 2], "BatchNorm then GroupNorm, 16 images each")
        let small: Float = 0.1 * 2 / 64, large: Float = 0.1 * 8 / 64
        XCTAssertEqual(first.map(\.learningRate), [small, large, small, large])
        XCTAssertEqual(first.map(\.choice), [.batch, .batch, .group(4), .group(4)])
        let again = try study.run(train: images, test: images, standardization: .fashionMNIST)
        XCTAssertEqual(first.map(\.testAccuracy), again.map(\.testAccuracy), "same seed, same accuracies")
    }

    func testCurvesCountStepsInWholeNumbers() throws {
        XCTAssertEqual(LinePlot.ticks(1, 2, integer: true), [1, 2])
        XCTAssert(LinePlot.ticks(0, 13, integer: true).allSatisfy { $0 == $0.rounded() })
        var curves = TrainingCurves(runs: [.init(name: "a", loss: [(6, 2), (12, 1)], accuracy: [(6, 0.5), (12, 0.75)])])
        curves.accuracyAxis = .step
        curves.text = FigureText(language: .zh)
        let svg = try SVGGroupTexts(curves.scene())
        let labels = try XCTUnwrap(svg.texts["accuracy"])
        XCTAssert(labels.contains("步"), "\(labels)")
        for label in labels where Double(label) != nil { XCTAssertEqual(Double(label)!, Double(label)!.rounded(), "tick \(label)") }
        XCTAssert(containsCJK(try XCTUnwrap(svg.text("title"))))
    }

    /// The whole section on a tiny budget (real training, a few steps): six figures in
    /// order, Chinese titles, and the batch-size figure listing each run it measured.
    func testSectionRunsEveryFigureInChinese() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path) else {
            throw XCTSkip("Fashion-MNIST is not installed")
        }
        var lines: [String] = []
        let context = LectureContext(language: .zh, seed: 2, workDirectory: FileManager.default.temporaryDirectory, progress: { lines.append($0) })
        let figures = try NormalizationLecture(context: context, budget: .tiny).figures()
        XCTAssertEqual(figures.map(\.id), NormalizationLecture.ids)
        for figure in figures {
            let svg = try SVGGroupTexts(figure.scene)
            XCTAssert(containsCJK(try XCTUnwrap(svg.text("title"), figure.id)), figure.id)
            XCTAssert(containsCJK(figure.title) && containsCJK(figure.caption), figure.id)
        }
        let batchSizes = try SVGGroupTexts(figures[5].scene)
        XCTAssert(try XCTUnwrap(batchSizes.text("values-batch")).hasPrefix("批归一化 — 2: "))
        XCTAssert(lines.contains { $0.contains("批大小 4") }, "\(lines)")
        // bn-train-test recorded one point per step of the tiny run.
        let statistics = try SVGGroupTexts(figures[1].scene)
        XCTAssert(try XCTUnwrap(statistics.texts["caption"]).joined().contains("共 6 步"))
    }
}
