import ConvVizCore
import Foundation

/// Loss against step and test accuracy against epoch, several runs on one chart.
public struct TrainingCurves {
    public struct Run: Sendable {
        public var name: String
        public var loss: [(step: Double, value: Double)]
        public var accuracy: [(epoch: Double, value: Double)]
        public init(name: String, loss: [(step: Double, value: Double)], accuracy: [(epoch: Double, value: Double)]) {
            self.name = name; self.loss = loss; self.accuracy = accuracy
        }
        /// A run's logged metrics (read by `RunDirectory.metrics(in:)`).
        public init(name: String, metrics: TrainingMetrics) {
            self.init(name: name, loss: metrics.loss, accuracy: metrics.accuracy)
        }
    }

    public var runs: [Run]
    public var title = "Training curves"
    public init(runs: [Run]) { self.runs = runs }

    public func scene() -> Scene {
        let plotW = 300.0, plotH = 200.0, gap = 70.0
        let legend = runs.map(\.name)
        let frame = FigureFrame(title: title, caption: ["Left: training loss (mean over each logged window) against step. Right: test accuracy after each epoch."],
                                contentWidth: 2 * plotW + gap + 60, contentHeight: plotH + 60 + Double((legend.count + 2) / 3) * 16)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        let lossPoints = runs.map { $0.loss.map { Point($0.step, $0.value) } }
        let accPoints = runs.map { $0.accuracy.map { Point($0.epoch, $0.value * 100) } }
        scene.add(.group("loss", Self.plot(lossPoints, in: Rect(o.x + 40, o.y + 10, plotW, plotH), xLabel: "step", yLabel: "loss", markers: false)))
        scene.add(.group("accuracy", Self.plot(accPoints, in: Rect(o.x + 40 + plotW + gap, o.y + 10, plotW, plotH), xLabel: "epoch", yLabel: "test accuracy (%)", markers: true)))
        var items: [Scene.Item] = []
        for (i, name) in legend.enumerated() {
            let x = o.x + 40 + Double(i % 3) * 200, y = o.y + plotH + 50 + Double(i / 3) * 16
            items.append(.polyline([Point(x, y), Point(x + 18, y)], color: Theme.series[i % Theme.series.count], width: 2.5))
            items.append(.text(name, at: Point(x + 24, y), size: Theme.labelSize, color: Theme.ink))
        }
        scene.add(.group("legend", items))
        return scene
    }

    /// Axes with "nice" ticks and one polyline per series.
    static func plot(_ series: [[Point]], in r: Rect, xLabel: String, yLabel: String, markers: Bool) -> [Scene.Item] {
        let all = series.flatMap { $0 }
        var items: [Scene.Item] = [.rect(r, fill: Color(0.985, 0.985, 0.99), stroke: Theme.grid, lineWidth: 1)]
        guard !all.isEmpty else {
            items.append(.text("no data", at: r.center, size: Theme.labelSize, color: Theme.muted, anchor: .middle))
            return items
        }
        let xs = ticks(all.map(\.x).min()!, all.map(\.x).max()!), ys = ticks(all.map(\.y).min()!, all.map(\.y).max()!)
        let (x0, x1, y0, y1) = (xs.first!, xs.last!, ys.first!, ys.last!)
        func map(_ p: Point) -> Point {
            // Halved so that values near ±1.7e308 do not overflow to infinity (then NaN positions).
            Point(r.x + (p.x / 2 - x0 / 2) / max(x1 / 2 - x0 / 2, 1e-300) * r.width, r.maxY - (p.y / 2 - y0 / 2) / max(y1 / 2 - y0 / 2, 1e-300) * r.height)
        }
        /// Enough decimals to tell neighbouring ticks apart.
        func label(_ v: Double, _ ticks: [Double]) -> String {
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
            guard step.isFinite, step > 0, abs(v) < 1e15 else { return String(format: "%.3g", v) }  // extreme ranges
            let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
            return String(format: "%.\(decimals)f", abs(v) < step * 1e-6 ? 0 : v)
        }
        for t in xs {
            let x = map(Point(t, y0)).x
            items.append(.polyline([Point(x, r.y), Point(x, r.maxY)], color: Theme.grid, width: 0.6))
            items.append(.text(label(t, xs), at: Point(x, r.maxY + 10), size: Theme.smallSize, color: Theme.muted, anchor: .middle))
        }
        for t in ys {
            let y = map(Point(x0, t)).y
            items.append(.polyline([Point(r.x, y), Point(r.maxX, y)], color: Theme.grid, width: 0.6))
            items.append(.text(label(t, ys), at: Point(r.x - 4, y), size: Theme.smallSize, color: Theme.muted, anchor: .end))
        }
        items.append(.text(xLabel, at: Point(r.center.x, r.maxY + 24), size: Theme.labelSize, color: Theme.ink, anchor: .middle))
        items.append(.text(yLabel, at: Point(r.x, r.y - 8), size: Theme.labelSize, color: Theme.ink))
        for (i, s) in series.enumerated() where !s.isEmpty {
            let color = Theme.series[i % Theme.series.count]
            items.append(.polyline(s.map(map), color: color, width: 1.8))
            if markers || s.count == 1 {
                for p in s.map(map) { items.append(.rect(Rect(p.x - 2.5, p.y - 2.5, 5, 5), fill: color)) }
            }
        }
        return items
    }

    /// 3 to 7 round tick values covering [lo, hi].
    /// Always terminates: values near 1e308, a range narrower than a double's spacing
    /// at that magnitude, or non-finite values give two ticks at the ends instead.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [0, 1] }
        var (a, b) = (Swift.min(lo, hi), Swift.max(lo, hi))
        // Widen a range too narrow to tell apart at this magnitude (or empty).
        let scale = Swift.max(abs(a), abs(b))
        if b - a <= scale * 1e-9 {
            let pad = scale > 0 ? scale * 1e-3 : 1
            (a, b) = (a - pad, b + pad)
        }
        let raw = b / 5 - a / 5  // no overflow for a and b near ±Double.greatestFiniteMagnitude
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * mag }.first { $0 >= raw } ?? raw
        guard raw.isFinite, raw > 0, step.isFinite, step > 0, a.isFinite, b.isFinite else { return [lo, hi == lo ? lo + 1 : hi] }
        let start = floor(a / step) * step
        var out: [Double] = []
        for i in 0..<12 {  // at most 7 for a finite range; the bound guards against rounding
            let t = start + Double(i) * step
            guard t.isFinite, t < b + step * 0.999 else { break }
            out.append(t)
        }
        return out.count >= 2 ? out : [a, b]
    }
}
