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
    /// The BatchNorm layers' feature-map sizes (from shape arithmetic), to say over how
    /// many values their statistics are taken at the smallest batch.
    public var statisticsPlanes: [(layer: String, height: Int, width: Int)] = []
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
        plot.emptyText = l("no data", "无数据")
        var caption = [
            l("Each point is one training run of the same small network on Fashion-MNIST with the same seed: every run sees \(FigureNumber.grouped(imagesPerRun)) training images (steps = \(FigureNumber.grouped(imagesPerRun)) / batch size), learning rate \(FigureNumber.format(learningRate, digits: 3)) x batch / \(referenceBatch) (cosine), then is tested on \(FigureNumber.grouped(testImages)) test images in evaluation mode (BatchNorm with its running averages).",
              "每个点是同一个小网络在 Fashion-MNIST 上用同一随机种子的一次训练：每次训练看到 \(FigureNumber.grouped(imagesPerRun)) 张训练图像（步数 = \(FigureNumber.grouped(imagesPerRun)) / 批大小），学习率为 \(FigureNumber.format(learningRate, digits: 3)) x 批大小 / \(referenceBatch)（余弦调度），然后在 \(FigureNumber.grouped(testImages)) 张测试图像上以评估模式测试（批归一化使用滑动平均）。"),
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

    /// What the numbers say, as measured however weak: BatchNorm minus GroupNorm at each
    /// batch size, whether BatchNorm falls behind at the smallest batch, how many steps the
    /// runs took, and how many values each BatchNorm statistic covers at the smallest batch.
    func verdict(sizes: [Int]) -> String {
        let l = text.language
        guard let gn = choices.first(where: { if case .group = $0 { true } else { false } }) else { return "" }
        let gaps: [(Int, Float)] = sizes.compactMap { b in
            guard let bn = accuracy(.batch, b), let g = accuracy(gn, b) else { return nil }
            return (b, (bn - g) * 100)
        }
        guard let smallest = gaps.first, gaps.count >= 2 else { return "" }
        let list = gaps.map { String(format: "%d: %+.1f", $0.0, $0.1) }.joined(separator: l.listSeparator)
        var parts = [l("BatchNorm minus GroupNorm, in points of test accuracy: \(list).", "批归一化减组归一化的测试准确率差（百分点）：\(list)。")]
        // Wu & He's effect is BatchNorm losing accuracy at small batches while GroupNorm
        // does not: compare each method's drop from its own best to its smallest batch.
        let drop = { (choice: Architecture.NormalizationChoice) -> Float in
            let values = sizes.compactMap { accuracy(choice, $0) }
            return ((values.max() ?? 0) - (accuracy(choice, smallest.0) ?? 0)) * 100
        }
        let (bnDrop, gnDrop) = (drop(.batch), drop(gn))
        if bnDrop - gnDrop > 1 {
            parts.append(l(String(format: "At batch %d BatchNorm is %.1f points below its best and GroupNorm %.1f: the direction of Wu & He's Figure 1, where BatchNorm's error grows sharply at small batches and GroupNorm's stays flat (one run per point at one seed, so a point or two may be noise).", smallest.0, bnDrop, gnDrop),
                           String(format: "批大小为 %d 时，批归一化比其最好结果低 %.1f 个百分点，组归一化低 %.1f 个百分点：与 Wu 和 He 论文图 1 的方向一致（该图中批归一化的误差在小批时急剧上升，组归一化则保持平稳；这里每个点只训练一次、只用一个随机种子，一两个百分点的差异可能是噪声）。", smallest.0, bnDrop, gnDrop)))
        } else {
            parts.append(l(String(format: "At batch %d BatchNorm is %.1f points below its best and GroupNorm %.1f: the effect of Wu & He's Figure 1 (BatchNorm failing at small batches) is not visible at this budget (one seed, a small network).", smallest.0, bnDrop, gnDrop),
                           String(format: "批大小为 %d 时，批归一化比其最好结果低 %.1f 个百分点，组归一化低 %.1f 个百分点：在这个训练预算下看不到 Wu 和 He 论文图 1 的效应（批归一化在小批时失效；单一随机种子，小网络）。", smallest.0, bnDrop, gnDrop)))
        }
        let steps = sizes.compactMap { b in results.first { $0.batchSize == b }.map { (b, $0.steps) } }
        if let first = steps.first, let last = steps.last, steps.count >= 2 {
            parts.append(l("For the same images, batch \(first.0) took \(FigureNumber.grouped(first.1)) steps and batch \(last.0) \(FigureNumber.grouped(last.1)).",
                           "相同的图像数量下，批大小 \(first.0) 训练了 \(FigureNumber.grouped(first.1)) 步，批大小 \(last.0) 训练了 \(FigureNumber.grouped(last.1)) 步。"))
        }
        if !statisticsPlanes.isEmpty {
            let b = smallest.0
            let counts = statisticsPlanes.map { "\($0.layer) \(b)·\($0.height)·\($0.width) = \(FigureNumber.grouped(b * $0.height * $0.width))" }.joined(separator: l.listSeparator)
            parts.append(l("At batch \(b) each BatchNorm mean and variance is still taken over N·H·W values: \(counts).",
                           "批大小为 \(b) 时，每个批归一化的均值和方差仍基于 N·H·W 个数值：\(counts)。"))
        }
        return l.sentences(parts)
    }
}
