import ConvVizCore
import Foundation

/// Test accuracy against batch size, one line per normalization (after Wu & He, Group
/// Normalization, 2018, Fig. 1), from real runs (`BatchSizeStudy`). The x axis is
/// logarithmic with a tick per batch size; the measured values are also printed under
/// the chart (groups `values-<choice>`).
public struct BatchSizeFigure {
    public var results: [BatchSizeStudy.Result]
    /// Training images per run (the budget).
    public var imagesPerRun: Int
    public var testImages: Int
    /// Learning rate at `referenceBatch`, scaled linearly with the batch size.
    public var learningRate: Float
    public var referenceBatch: Int
    public var source: String?
    public var text = FigureText()

    public init(results: [BatchSizeStudy.Result], imagesPerRun: Int, testImages: Int, learningRate: Float, referenceBatch: Int) {
        self.results = results
        self.imagesPerRun = imagesPerRun
        self.testImages = testImages
        self.learningRate = learningRate
        self.referenceBatch = referenceBatch
    }

    /// The normalizations in the order first measured.
    var choices: [Architecture.NormalizationChoice] {
        var seen: [Architecture.NormalizationChoice] = []
        for r in results where !seen.contains(r.choice) { seen.append(r.choice) }
        return seen
    }

    func accuracy(_ choice: Architecture.NormalizationChoice, _ batch: Int) -> Float? {
        results.first { $0.choice == choice && $0.batchSize == batch }?.testAccuracy
    }

    public func scene() -> Scene {
        let l = text.language
        let plotW = 420.0, plotH = 230.0
        let sizes = Array(Set(results.map(\.batchSize))).sorted()
        let series = choices.map { choice in
            results.filter { $0.choice == choice }.sorted { $0.batchSize < $1.batchSize }
                .map { Point(log2(Double($0.batchSize)), Double($0.testAccuracy) * 100) }
        }
        var plot = LinePlot(series, xLabel: l(.batchSize) + l(" (log scale)", "（对数刻度）"), yLabel: l("test accuracy (%)", "测试准确率（%）"), markers: true)
        plot.xTicks = sizes.map { (log2(Double($0)), String($0)) }
        let seconds = results.map(\.seconds).reduce(0, +)
        var caption = [
            l("Each point is one training run of the same small network on Fashion-MNIST with the same seed: every run sees \(FigureNumber.grouped(imagesPerRun)) training images (steps = \(FigureNumber.grouped(imagesPerRun)) / batch size), learning rate \(FigureNumber.format(learningRate, digits: 3)) x batch / \(referenceBatch) (cosine), then is tested on \(FigureNumber.grouped(testImages)) test images in evaluation mode (BatchNorm with its running averages).",
              "每个点是同一个小网络在 Fashion-MNIST 上用同一随机种子的一次训练：每次训练看到 \(FigureNumber.grouped(imagesPerRun)) 张训练图像（步数 = \(FigureNumber.grouped(imagesPerRun)) / 批大小），学习率为 \(FigureNumber.format(learningRate, digits: 3)) x 批大小 / \(referenceBatch)（余弦调度），然后在 \(FigureNumber.grouped(testImages)) 张测试图像上以评估模式测试（批归一化使用滑动平均）。"),
            l(String(format: "Training and testing took %.0f s in all on this machine.", seconds), String(format: "本机上训练和测试共用时 %.0f 秒。", seconds)),
        ]
        caption.append(verdict(sizes: sizes))
        if let source { caption.append(source) }
        let tableH = Double(choices.count) * 16 + 10
        let frame = FigureFrame(title: l("Test accuracy against batch size: BatchNorm and GroupNorm, measured", "测试准确率与批大小：批归一化与组归一化的实测结果"),
                                caption: caption, contentWidth: plotW + 230, contentHeight: plotH + 50 + tableH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        scene.add(.group("plot", plot.items(in: Rect(o.x + 40, o.y + 14, plotW, plotH))))
        var legend: [Scene.Item] = []
        for (i, choice) in choices.enumerated() {
            let x = o.x + plotW + 60, y = o.y + 30 + Double(i) * 18
            legend.append(.polyline([Point(x, y), Point(x + 18, y)], color: Theme.series[i % Theme.series.count], width: 2.5))
            legend.append(.text(l.name(choice), at: Point(x + 24, y), size: Theme.labelSize, color: Theme.ink))
        }
        scene.add(.group("legend", legend))
        for (i, choice) in choices.enumerated() {
            let values = sizes.compactMap { b in accuracy(choice, b).map { "\(b): \(FigureNumber.percent($0))" } }
            scene.add(.group("values-\(choice)", [.text("\(l.name(choice)) — \(values.joined(separator: l.listSeparator))",
                                                        at: Point(o.x + 40, o.y + plotH + 56 + Double(i) * 16), size: Theme.labelSize, color: Theme.ink)]))
        }
        return scene
    }

    /// What the numbers say about BatchNorm against GroupNorm from the largest batch to
    /// the smallest, in points of accuracy: stated as measured, however weak.
    func verdict(sizes: [Int]) -> String {
        let l = text.language
        guard let small = sizes.first, let large = sizes.last, small != large,
              let bnSmall = accuracy(.batch, small), let bnLarge = accuracy(.batch, large),
              let gn = choices.first(where: { if case .group = $0 { true } else { false } }),
              let gnSmall = accuracy(gn, small), let gnLarge = accuracy(gn, large) else { return "" }
        let bnDrop = (bnLarge - bnSmall) * 100, gnDrop = (gnLarge - gnSmall) * 100
        let en = String(format: "Measured here: from batch %d to batch %d, BatchNorm's test accuracy changes by %+.1f points and GroupNorm's by %+.1f. ", large, small, -bnDrop, -gnDrop)
        let zh = String(format: "本次实测：批大小从 %d 减到 %d 时，批归一化的测试准确率变化 %+.1f 个百分点，组归一化变化 %+.1f 个百分点。", large, small, -bnDrop, -gnDrop)
        let shows = bnDrop > gnDrop + 1
        return l(en + (shows ? "BatchNorm loses more at small batches, as in Wu & He's Figure 1 (its batch statistics get noisy and differ from the running averages used at test time)."
                             : "At this budget the effect of Wu & He's Figure 1 is weak or absent: BatchNorm does not lose clearly more than GroupNorm. (One seed, a small network.)"),
                 zh + (shows ? "批越小批归一化损失越大，与 Wu 和 He 论文图 1 一致（批统计量噪声变大，并与测试时使用的滑动平均不一致）。"
                             : "在这个训练预算下，Wu 和 He 论文图 1 的效应很弱或没有出现：批归一化并没有比组归一化明显损失更多。（单一随机种子，小网络。）"))
    }
}
