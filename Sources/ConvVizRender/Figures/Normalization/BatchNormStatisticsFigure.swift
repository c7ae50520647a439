import ConvVizCore
import Foundation

/// BatchNorm in training and at test time: per-channel batch means and variances at
/// every training step (thin lines) next to the running averages that test time uses
/// (thick lines), from a real training run (`BatchNormStatisticsRun`).
public struct BatchNormStatisticsFigure {
    public var records: [BatchNormRecorder.Record]
    /// The channels drawn (at most `Theme.series.count`).
    public var channels: [Int]
    public var layer = "bn1"
    public var momentum: Float = 0.1
    public var batchSize: Int
    /// Test accuracy with the running averages, when measured.
    public var testAccuracy: Float?
    /// What was trained on what (network, data, learning rate), said in the caption.
    public var source: String?
    public var text = FigureText()

    public init(records: [BatchNormRecorder.Record], channels: [Int], batchSize: Int) {
        self.records = records
        self.channels = channels
        self.batchSize = batchSize
    }

    /// Standard deviation of the batch values and of the running values of `channel`
    /// over the second half of the run: how much each jumps from step to step.
    public func spread(channel c: Int, _ value: (BatchNormRecorder.Record) -> [Float]) -> Double {
        let tail = records.suffix(max(1, records.count / 2)).map { Double(value($0)[c]) }
        let m = tail.reduce(0, +) / Double(tail.count)
        return (tail.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(tail.count)).squareRoot()
    }

    public func scene() -> Scene {
        let l = text.language
        let plotW = 320.0, plotH = 210.0, gap = 80.0
        func series(_ value: @escaping (BatchNormRecorder.Record) -> [Float]) -> [[Point]] {
            channels.map { c in records.enumerated().map { Point(Double($0.offset + 1), Double(value($0.element)[c])) } }
        }
        func plot(batch: @escaping (BatchNormRecorder.Record) -> [Float], running: @escaping (BatchNormRecorder.Record) -> [Float], yLabel: String) -> LinePlot {
            var p = LinePlot(series(batch) + series(running), xLabel: l(.step), yLabel: yLabel, markers: false)
            p.styles = channels.indices.map { LinePlot.Style(color: Theme.series[$0 % Theme.series.count].with(alpha: 0.45), width: 0.8) }
                + channels.indices.map { LinePlot.Style(color: Theme.series[$0 % Theme.series.count], width: 2.4) }
            p.integerX = true
            p.emptyText = l("no data", "无数据")
            return p
        }
        let first = channels.first ?? 0
        let batchSpread = spread(channel: first) { $0.batchMean }, runningSpread = spread(channel: first) { $0.runningMean }
        let last = records.last
        var caption = [
            l("Thin: the mean and variance of each training batch (over N, H, W) for \(channels.count) channels of \(layer), step by step (batch \(batchSize), \(records.count) steps). Thick: the running averages, running = (1 - m) running + m batch with m = \(momentum), which replace the batch statistics at test time.",
              "细线：\(layer) 的 \(channels.count) 个通道在每个训练批上（对 N、H、W）的均值和方差，逐步记录（批大小 \(batchSize)，共 \(records.count) 步）。粗线：滑动平均，running = (1 - m) running + m batch，m = \(momentum)；测试时用它们代替批统计量。"),
            l(String(format: "Over the second half of the run, channel %d's batch mean varies with standard deviation %.4f, its running mean with %.4f.", first, batchSpread, runningSpread),
              String(format: "在训练的后半段，通道 %d 的批均值的标准差为 %.4f，滑动平均均值的标准差为 %.4f。", first, batchSpread, runningSpread)),
        ]
        if let last, channels.contains(first) {
            caption.append(l(String(format: "Final running statistics of channel %d: mean %.4f, variance %.4f.", first, last.runningMean[first], last.runningVariance[first]),
                             String(format: "通道 %d 最终的滑动平均：均值 %.4f，方差 %.4f。", first, last.runningMean[first], last.runningVariance[first])))
        }
        if let testAccuracy {
            caption.append(l("Test accuracy with the running averages (evaluation mode): \(FigureNumber.percent(testAccuracy)).",
                             "使用滑动平均（评估模式）的测试准确率：\(FigureNumber.percent(testAccuracy))。"))
        }
        if let source { caption.append(source) }
        let legendH = 20.0 * 2
        let frame = FigureFrame(title: l("BatchNorm: batch statistics in training, running averages at test time", "批归一化：训练时用批统计量，测试时用滑动平均"),
                                caption: caption, contentWidth: 2 * plotW + gap + 60, contentHeight: plotH + 50 + legendH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        let meanPlot = plot(batch: { $0.batchMean }, running: { $0.runningMean }, yLabel: l(.mean))
        let varPlot = plot(batch: { $0.batchVariance }, running: { $0.runningVariance }, yLabel: l(.variance))
        scene.add(.group("mean", meanPlot.items(in: Rect(o.x + 50, o.y + 14, plotW, plotH))))
        scene.add(.group("variance", varPlot.items(in: Rect(o.x + 50 + plotW + gap, o.y + 14, plotW, plotH))))
        var legend: [Scene.Item] = []
        let ly = o.y + plotH + 56
        for (i, c) in channels.enumerated() {
            let x = o.x + 50 + Double(i) * 110
            legend.append(.polyline([Point(x, ly), Point(x + 18, ly)], color: Theme.series[i % Theme.series.count], width: 2.5))
            legend.append(.text(l("channel \(c)", "通道 \(c)"), at: Point(x + 24, ly), size: Theme.labelSize, color: Theme.ink))
        }
        let ly2 = ly + 20
        legend.append(.polyline([Point(o.x + 50, ly2), Point(o.x + 68, ly2)], color: Theme.muted.with(alpha: 0.6), width: 0.8))
        legend.append(.text(l("batch statistics (training)", "批统计量（训练）"), at: Point(o.x + 74, ly2), size: Theme.labelSize, color: Theme.ink))
        legend.append(.polyline([Point(o.x + 270, ly2), Point(o.x + 288, ly2)], color: Theme.muted, width: 2.4))
        legend.append(.text(l("running averages (test)", "滑动平均（测试）"), at: Point(o.x + 294, ly2), size: Theme.labelSize, color: Theme.ink))
        scene.add(.group("legend", legend))
        return scene
    }
}
