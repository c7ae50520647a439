import ConvVizCore
import Foundation

/// Loss against step and test accuracy against epoch (or step), several runs on one chart.
public struct TrainingCurves {
    public struct Run: Sendable {
        public var name: String
        public var loss: [(step: Double, value: Double)]
        /// Accuracy points at `accuracyAxis` positions (epochs counted from 1, or steps).
        public var accuracy: [(epoch: Double, value: Double)]
        public init(name: String, loss: [(step: Double, value: Double)], accuracy: [(epoch: Double, value: Double)]) {
            self.name = name; self.loss = loss; self.accuracy = accuracy
        }
        /// A run's logged metrics (read by `RunDirectory.metrics(in:)`).
        public init(name: String, metrics: TrainingMetrics) {
            self.init(name: name, loss: metrics.loss, accuracy: metrics.accuracy)
        }
    }

    /// What the accuracy panel's x axis counts. Runs cut short by a step budget are
    /// evaluated at steps that are not whole epochs: they use `.step`.
    public enum AccuracyAxis: Sendable { case epoch, step }

    public var runs: [Run]
    public var accuracyAxis = AccuracyAxis.epoch
    /// The default title (the user's `text.title` replaces it).
    public var title: String?
    /// Lines added under the axes' explanation (e.g. what the runs measured).
    public var notes: [String] = []
    public var text = FigureText()

    public init(runs: [Run]) { self.runs = runs }

    public func scene() -> Scene {
        let l = text.language
        let plotW = 300.0, plotH = 200.0, gap = 70.0
        let legend = runs.map(\.name)
        let accuracyX = accuracyAxis == .epoch ? l(.epoch) : l(.step)
        let explanation = accuracyAxis == .epoch
            ? l("Left: training loss (mean over each logged window) against step. Right: test accuracy after each epoch.",
                "左：训练损失（每个记录窗口内的平均值）随步数的变化。右：每轮结束后的测试准确率。")
            : l("Left: training loss (mean over each logged window) against step. Right: test accuracy at each evaluation, against step.",
                "左：训练损失（每个记录窗口内的平均值）随步数的变化。右：每次评估时的测试准确率，横轴为步数。")
        let frame = FigureFrame(title: title ?? l("Training curves", "训练曲线"), caption: [explanation] + notes,
                                contentWidth: 2 * plotW + gap + 60, contentHeight: plotH + 60 + Double((legend.count + 2) / 3) * 16, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        var loss = LinePlot(runs.map { $0.loss.map { Point($0.step, $0.value) } }, xLabel: l(.step), yLabel: l(.loss), markers: false)
        loss.integerX = true
        loss.emptyText = l("no data", "无数据")
        var accuracy = LinePlot(runs.map { $0.accuracy.map { Point($0.epoch, $0.value * 100) } }, xLabel: accuracyX,
                                yLabel: l("test accuracy (%)", "测试准确率（%）"), markers: true)
        accuracy.integerX = true
        accuracy.emptyText = l("no data", "无数据")
        scene.add(.group("loss", loss.items(in: Rect(o.x + 40, o.y + 10, plotW, plotH))))
        scene.add(.group("accuracy", accuracy.items(in: Rect(o.x + 40 + plotW + gap, o.y + 10, plotW, plotH))))
        var items: [Scene.Item] = []
        for (i, name) in legend.enumerated() {
            let x = o.x + 40 + Double(i % 3) * 200, y = o.y + plotH + 50 + Double(i / 3) * 16
            items.append(.polyline([Point(x, y), Point(x + 18, y)], color: Theme.series[i % Theme.series.count], width: 2.5))
            items.append(.text(name, at: Point(x + 24, y), size: Theme.labelSize, color: Theme.ink))
        }
        scene.add(.group("legend", items))
        return scene
    }
}
