import Foundation

/// Axes with round ticks and one polyline per series: the chart inside training curves,
/// the BatchNorm statistics figure and the batch-size figure.
struct LinePlot {
    /// How one series is drawn.
    struct Style {
        var color: Color
        var width: Double = 1.8
        var markers = false
        var dash: [Double] = []
    }

    var series: [[Point]]
    var styles: [Style]
    var xLabel: String
    var yLabel: String
    /// Ticks on x at these values with these labels (e.g. batch sizes on a log axis);
    /// nil: round ticks chosen from the data.
    var xTicks: [(value: Double, label: String)]?
    /// Whether x counts things (steps, epochs): ticks then fall on whole numbers only.
    var integerX = false
    /// Said in the empty frame when there are no points, in the figure's language.
    var emptyText = "no data"

    /// Series in `Theme.series` colours.
    init(_ series: [[Point]], xLabel: String, yLabel: String, markers: Bool) {
        self.series = series
        self.styles = series.indices.map { Style(color: Theme.series[$0 % Theme.series.count], markers: markers) }
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    func items(in r: Rect) -> [Scene.Item] {
        let all = series.flatMap { $0 }
        var items: [Scene.Item] = [.rect(r, fill: Color(0.985, 0.985, 0.99), stroke: Theme.grid, lineWidth: 1)]
        guard !all.isEmpty else {
            items.append(.text(emptyText, at: r.center, size: Theme.labelSize, color: Theme.muted, anchor: .middle))
            return items
        }
        let xValues = all.map(\.x) + (xTicks ?? []).map(\.value)
        let xs = xTicks?.map(\.value) ?? Self.ticks(xValues.min()!, xValues.max()!, integer: integerX)
        let ys = Self.ticks(all.map(\.y).min()!, all.map(\.y).max()!)
        let (x0, x1, y0, y1) = (min(xs.first!, xValues.min()!), max(xs.last!, xValues.max()!), ys.first!, ys.last!)
        func map(_ p: Point) -> Point {
            // Halved so that values near ±1.7e308 do not overflow to infinity (then NaN positions).
            Point(r.x + (p.x / 2 - x0 / 2) / max(x1 / 2 - x0 / 2, 1e-300) * r.width, r.maxY - (p.y / 2 - y0 / 2) / max(y1 / 2 - y0 / 2, 1e-300) * r.height)
        }
        let xLabels = xTicks?.map(\.label) ?? xs.map { Self.label($0, xs) }
        for (t, text) in zip(xs, xLabels) {
            let x = map(Point(t, y0)).x
            items.append(.polyline([Point(x, r.y), Point(x, r.maxY)], color: Theme.grid, width: 0.6))
            items.append(.text(text, at: Point(x, r.maxY + 10), size: Theme.smallSize, color: Theme.muted, anchor: .middle))
        }
        for t in ys {
            let y = map(Point(x0, t)).y
            items.append(.polyline([Point(r.x, y), Point(r.maxX, y)], color: Theme.grid, width: 0.6))
            items.append(.text(Self.label(t, ys), at: Point(r.x - 4, y), size: Theme.smallSize, color: Theme.muted, anchor: .end))
        }
        items.append(.text(xLabel, at: Point(r.center.x, r.maxY + 24), size: Theme.labelSize, color: Theme.ink, anchor: .middle))
        items.append(.text(yLabel, at: Point(r.x, r.y - 8), size: Theme.labelSize, color: Theme.ink))
        for (s, style) in zip(series, styles) where !s.isEmpty {
            items.append(.polyline(s.map(map), color: style.color, width: style.width, dash: style.dash))
            if style.markers || s.count == 1 {
                for p in s.map(map) { items.append(.rect(Rect(p.x - 2.5, p.y - 2.5, 5, 5), fill: style.color)) }
            }
        }
        return items
    }

    /// Enough decimals to tell neighbouring ticks apart.
    static func label(_ v: Double, _ ticks: [Double]) -> String {
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        guard step.isFinite, step > 0, abs(v) < 1e15 else { return String(format: "%.3g", v) }  // extreme ranges
        // As many decimals as the step has (2.5 needs one, 0.25 two), at most 4.
        let decimals = (0...4).first { d in let scaled = step * pow(10, Double(d)); return abs(scaled - scaled.rounded()) < 1e-6 * scaled } ?? 4
        return String(format: "%.\(decimals)f", abs(v) < step * 1e-6 ? 0 : v)
    }

    /// 3 to 7 round tick values covering [lo, hi]; with `integer`, whole numbers only
    /// (a step of at least 1), for axes that count steps or epochs.
    /// Always terminates: values near 1e308, a range narrower than a double's spacing
    /// at that magnitude, or non-finite values give two ticks at the ends instead.
    static func ticks(_ lo: Double, _ hi: Double, integer: Bool = false) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [0, 1] }
        var (a, b) = (Swift.min(lo, hi), Swift.max(lo, hi))
        // Widen a range too narrow to tell apart at this magnitude (or empty).
        let scale = Swift.max(abs(a), abs(b))
        if b - a <= scale * 1e-9 {
            let pad = integer ? 1 : scale > 0 ? scale * 1e-3 : 1
            (a, b) = (a - pad, b + pad)
        }
        let raw = b / 5 - a / 5  // no overflow for a and b near ±Double.greatestFiniteMagnitude
        let mag = pow(10, floor(log10(raw)))
        var step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * mag }.first { $0 >= raw } ?? raw
        // 0.2 or 2.5 steps would put ticks between whole numbers: 1 and 5 instead.
        if integer && step != step.rounded() { step = step < 1 ? 1 : step * 2 }
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
