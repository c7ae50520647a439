import Foundation

/// A vertical colour bar with ticks: the key to a colormapped figure.
public struct Colorbar {
    public var colormap: Colormap
    public var low: Float
    public var high: Float
    public var height: Double
    public var barWidth: Double = 12

    public init(colormap: Colormap, low: Float, high: Float, height: Double) {
        self.colormap = colormap
        self.low = low
        self.high = high
        self.height = height
    }

    /// Width including tick labels.
    public var width: Double { barWidth + 48 }

    /// Tick values: a "nice" step giving 3 to 6 ticks inside [low, high].
    public var ticks: [Float] {
        guard high > low, (high - low).isFinite else { return [low] }
        let raw = Double(high - low) / 4
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = ceil(Double(low) / step) * step
        var out: [Float] = []
        while t <= Double(high) + step * 1e-9 { out.append(Float(abs(t) < step * 1e-9 ? 0 : t)); t += step }
        return out
    }

    public func items(at origin: Point) -> [Scene.Item] {
        let steps = max(2, Int(height))
        var values = [Float](repeating: 0, count: steps)
        for i in 0..<steps { values[i] = 1 - Float(i) / Float(steps - 1) }
        let raster = values.withUnsafeBufferPointer { colormap.raster($0, width: 1, height: steps, low: 0, high: 1) }
        var wide = RasterImage(width: Int(barWidth), height: steps)
        for y in 0..<steps { for x in 0..<Int(barWidth) { for c in 0..<4 { wide.pixels[4 * (y * Int(barWidth) + x) + c] = raster.pixels[4 * y + c] } } }
        var items: [Scene.Item] = [.image(wide, at: origin), .rect(Rect(origin.x, origin.y, barWidth, Double(steps)), fill: nil, stroke: Theme.muted, lineWidth: 0.5)]
        for t in ticks {
            let y = origin.y + Double(steps - 1) * Double((high - t) / max(high - low, .leastNormalMagnitude))
            items.append(.polyline([Point(origin.x + barWidth, y), Point(origin.x + barWidth + 3, y)], color: Theme.muted, width: 0.8))
            items.append(.text(Colorbar.format(t), at: Point(origin.x + barWidth + 5, y), size: Theme.smallSize, color: Theme.ink))
        }
        return items
    }

    static func format(_ v: Float) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1000 || a < 0.01 { return String(format: "%.1e", v) }
        return String(format: a >= 10 ? "%.0f" : (a >= 1 ? "%.1f" : "%.2f"), v)
    }
}
