import ConvVizCore
import Foundation

/// A small grid of values with the pooling windows coloured, and the pooled output
/// beside it in the matching colours.
public struct PoolingDiagram {
    public enum Kind: String, CaseIterable, Sendable { case max, avg }

    public var values: Tensor  // [H, W]
    public var kind: Kind = .max
    public var kernel: Int = 2
    public var stride: Int = 2

    public init(values: Tensor) {
        precondition(values.rank == 2, "pooling input must be [H, W]")
        self.values = values
    }

    /// The lecture's 4x4 example (CS231n's numbers).
    public static let lectureValues = Tensor(shape: [4, 4], data: [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4])

    /// The pooled values `[H', W']` (no padding).
    public var output: Tensor {
        let (h, w) = (values.shape[0], values.shape[1])
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        var out = Tensor(shape: [max(oh, 0), max(ow, 0)])
        for y in 0..<max(oh, 0) { for x in 0..<max(ow, 0) {
            var cells: [Float] = []
            for i in 0..<kernel { for j in 0..<kernel { cells.append(values[y * stride + i, x * stride + j]) } }
            out[y, x] = kind == .max ? cells.max()! : cells.reduce(0, +) / Float(cells.count)
        }}
        return out
    }

    static func format(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%.2f", v) }

    public func scene() -> Scene {
        let (h, w) = (values.shape[0], values.shape[1])
        let out = output
        let cell = 36.0
        let gridW = Double(w) * cell, outW = Double(out.shape[1]) * cell
        let frame = FigureFrame(title: "\(kind == .max ? "Max" : "Average") pooling, \(kernel)x\(kernel), stride \(stride)",
                                caption: ["Each coloured window of the input becomes one output value (\(kind == .max ? "its maximum" : "its mean")); H' = floor((H - K)/S) + 1 = \(out.shape[0]).",
                                          "Pooling has no parameters and acts on each channel independently."],
                                contentWidth: gridW + 90 + outW, contentHeight: Double(h) * cell + 24)
        var scene = frame.makeScene()
        let o = Point(frame.contentOrigin.x, frame.contentOrigin.y + 20)
        scene.add(.text("input \(h)x\(w)", at: Point(o.x, o.y - 10), size: Theme.labelSize, color: Theme.muted))
        let ox = o.x + gridW + 90
        scene.add(.text("output \(out.shape[0])x\(out.shape[1])", at: Point(ox, o.y - 10), size: Theme.labelSize, color: Theme.muted))
        let palette = [Color(0.99, 0.80, 0.80), Color(0.80, 0.90, 0.99), Color(0.85, 0.95, 0.80), Color(1.0, 0.93, 0.75),
                       Color(0.90, 0.84, 0.97), Color(0.80, 0.95, 0.95)]
        var owner = [Int](repeating: -1, count: h * w)
        for y in 0..<out.shape[0] { for x in 0..<out.shape[1] {
            for i in 0..<kernel { for j in 0..<kernel where owner[(y * stride + i) * w + x * stride + j] < 0 { owner[(y * stride + i) * w + x * stride + j] = y * out.shape[1] + x } }
        }}
        var grid: [Scene.Item] = []
        for y in 0..<h { for x in 0..<w {
            let k = owner[y * w + x]
            let r = Rect(o.x + Double(x) * cell, o.y + Double(y) * cell, cell, cell)
            grid.append(.rect(r, fill: k >= 0 ? palette[k % palette.count] : .white, stroke: Theme.grid, lineWidth: 1))
            grid.append(.text(Self.format(values[y, x]), at: r.center, size: 13, color: Theme.ink, anchor: .middle))
        }}
        scene.add(.group("input", grid))
        // Window outlines.
        for y in 0..<out.shape[0] { for x in 0..<out.shape[1] {
            let r = Rect(o.x + Double(x * stride) * cell, o.y + Double(y * stride) * cell, Double(kernel) * cell, Double(kernel) * cell)
            scene.add(.group("window-\(y)-\(x)", [.rect(Rect(r.x + 1.5, r.y + 1.5, r.width - 3, r.height - 3), fill: nil, stroke: Theme.ink.with(alpha: 0.6), lineWidth: 1.5)]))
        }}
        scene.add(.text("→", at: Point(o.x + gridW + 45, o.y + Double(h) * cell / 2), size: 24, color: Theme.muted, anchor: .middle))
        var result: [Scene.Item] = []
        let oy = o.y + (Double(h) - Double(out.shape[0])) * cell / 2
        for y in 0..<out.shape[0] { for x in 0..<out.shape[1] {
            let r = Rect(ox + Double(x) * cell, oy + Double(y) * cell, cell, cell)
            result.append(.rect(r, fill: palette[(y * out.shape[1] + x) % palette.count], stroke: Theme.ink.with(alpha: 0.6), lineWidth: 1.5))
            result.append(.text(Self.format(out[y, x]), at: r.center, size: 13, color: Theme.ink, anchor: .middle, bold: true))
        }}
        scene.add(.group("output", result))
        return scene
    }
}
