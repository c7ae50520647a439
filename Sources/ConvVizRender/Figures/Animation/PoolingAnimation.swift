import ConvVizCore
import Foundation

/// The pooling window moving over a grid of values, one frame per output position: the
/// window outlined, the value it keeps highlighted (max: the first largest, as PyTorch
/// picks; average: every cell, the mean written), the output cells written so far. The
/// pooled values come from `PoolingDiagram.output` (ConvViz's pooling layers).
///
/// Groups: `input` (a rectangle per cell), `window`, `kept` (the cells the value comes
/// from), `output-grid`, `output-current`, `frame-label`.
public struct PoolingAnimation: Animation {
    public var values: Tensor  // [H, W]
    public var kind: PoolingDiagram.Kind = .max
    public var kernel = 2
    public var stride = 2
    public var text = FigureText()

    public init(values: Tensor) {
        precondition(values.rank == 2, "pooling input must be [H, W]")
        self.values = values
    }

    var diagram: PoolingDiagram {
        var d = PoolingDiagram(values: values)
        d.kind = kind; d.kernel = kernel; d.stride = stride
        return d
    }

    public var outputSize: Pair {
        Pair(Window2D.outputLength(input: values.shape[0], kernel: kernel, stride: stride, padding: 0, dilation: 1) ?? 0,
             Window2D.outputLength(input: values.shape[1], kernel: kernel, stride: stride, padding: 0, dilation: 1) ?? 0)
    }

    public var frameCount: Int { outputSize.h * outputSize.w }

    /// The cells (row, column) the value of output (y, x) comes from.
    public func kept(y: Int, x: Int) -> [Pair] {
        let window = (0..<kernel).flatMap { i in (0..<kernel).map { Pair(y * stride + i, x * stride + $0) } }
        guard kind == .max else { return window }
        var best = window[0]
        for p in window where values[p.h, p.w] > values[best.h, best.w] { best = p }
        return [best]
    }

    static let cell = 40.0
    static let keptFill = Color(0.99, 0.80, 0.35), windowFill = Color(0.84, 0.90, 0.98), writtenFill = Color(0.76, 0.90, 0.80), currentFill = Color(0.10, 0.52, 0.33)

    var formula: String {
        let (h, out) = (values.shape[0], outputSize)
        var s = "H' = ⌊(H − K)/S⌋ + 1 = ⌊(\(h) − \(kernel))/\(stride)⌋ + 1 = \(out.h)"
        if values.shape[1] != h { s += ";  W' = ⌊(\(values.shape[1]) − \(kernel))/\(stride)⌋ + 1 = \(out.w)" }
        return s
    }

    public func frame(_ k: Int) -> Scene {
        let l = text.language
        let (h, w) = (values.shape[0], values.shape[1])
        let out = outputSize
        let pooled = diagram.output
        let (y, x) = (k / out.w, k % out.w)
        let c = Self.cell, header = 22.0, gap = 80.0
        let name = kind == .max ? l(.maxPooling) : l(.averagePooling)
        let op = kind == .max ? "max" : l("mean", "平均")
        let window = (0..<kernel).flatMap { i in (0..<kernel).map { values[y * stride + i, x * stride + $0] } }
        let lines = [
            (l("Output (\(y), \(x)) — frame \(k + 1) of \(frameCount)", "输出 (\(y), \(x)) — 第 \(k + 1) 帧，共 \(frameCount) 帧"), true),
            ("\(op)(\(window.map { FigureNumber.format($0) }.joined(separator: ", "))) = \(FigureNumber.format(pooled[y, x]))", false),
            (formula, false),
        ]
        let widest = (kernel * kernel) * 7 + 20  // characters: an upper bound over the frames' value lists
        let contentW = max(Double(w) * c + gap + Double(out.w) * c, TextMetrics.width(String(repeating: "8", count: widest), size: Theme.labelSize), TextMetrics.width(formula, size: Theme.labelSize))
        let lineH = Theme.labelSize + 7
        let contentH = header + Double(h) * c + 14 + Double(lines.count) * lineH
        let frame = FigureFrame(title: l("\(name.prefix(1).uppercased() + name.dropFirst()), \(kernel)×\(kernel), stride \(stride)", "\(name)，\(kernel)×\(kernel)，步幅 \(stride)"),
                                caption: [l("The window (outlined) moves by the stride; \(kind == .max ? "the largest value in it (yellow) is kept" : "the mean of its values (yellow) is written"). \(frameCount) frames, one per output position.",
                                            "窗口（方框）按步幅移动；\(kind == .max ? "保留窗口中的最大值（黄色）" : "写出窗口中各值的平均（黄色）")。共 \(frameCount) 帧，每个输出位置一帧。")],
                                contentWidth: contentW, contentHeight: contentH, text: text)
        var scene = frame.makeScene()
        let o = Point(frame.contentOrigin.x, frame.contentOrigin.y + header)
        let oo = Point(o.x + Double(w) * c + gap, o.y + (Double(h) - Double(out.h)) * c / 2)
        scene.add(.group("headers", [
            .text("\(l(.input)) \(h)×\(w)", at: Point(o.x, o.y - 11), size: Theme.labelSize, color: Theme.muted),
            .text("\(l(.output)) \(out.h)×\(out.w)", at: Point(oo.x, o.y - 11), size: Theme.labelSize, color: Theme.muted),
        ]))
        let keep = Set(kept(y: y, x: x))
        var grid: [Scene.Item] = [], keptItems: [Scene.Item] = []
        for r in 0..<h {
            for col in 0..<w {
                let rect = Rect(o.x + Double(col) * c, o.y + Double(r) * c, c, c)
                let inWindow = (y * stride..<(y * stride + kernel)).contains(r) && (x * stride..<(x * stride + kernel)).contains(col)
                grid.append(.rect(rect, fill: inWindow ? Self.windowFill : .white, stroke: Theme.grid, lineWidth: 1))
                if keep.contains(Pair(r, col)) { keptItems.append(.rect(rect, fill: Self.keptFill, stroke: Theme.grid, lineWidth: 1)) }
            }
        }
        scene.add(.group("input", grid))
        scene.add(.group("kept", keptItems))
        var numbers: [Scene.Item] = []
        for r in 0..<h { for col in 0..<w {
            numbers.append(.text(FigureNumber.format(values[r, col]), at: Point(o.x + (Double(col) + 0.5) * c, o.y + (Double(r) + 0.5) * c), size: 13, color: Theme.ink, anchor: .middle, bold: keep.contains(Pair(r, col))))
        } }
        scene.add(.group("input-values", numbers))
        let wr = Rect(o.x + Double(x * stride) * c, o.y + Double(y * stride) * c, Double(kernel) * c, Double(kernel) * c)
        scene.add(.group("window", [.polyline([Point(wr.x, wr.y), Point(wr.maxX, wr.y), Point(wr.maxX, wr.maxY), Point(wr.x, wr.maxY)], color: Theme.warning, width: 2.5, closed: true)]))
        scene.add(.text("→", at: Point(oo.x - 40, o.y + Double(h) * c / 2), size: 22, color: Theme.muted, anchor: .middle))
        var outputCells: [Scene.Item] = [], current: [Scene.Item] = []
        for oy in 0..<out.h {
            for ox in 0..<out.w {
                let n = oy * out.w + ox
                let rect = Rect(oo.x + Double(ox) * c, oo.y + Double(oy) * c, c, c)
                if n == k {
                    current.append(.rect(rect, fill: Self.currentFill, stroke: Theme.warning, lineWidth: 2))
                    current.append(.text(FigureNumber.format(pooled[oy, ox]), at: rect.center, size: 13, color: .white, anchor: .middle, bold: true))
                } else {
                    outputCells.append(.rect(rect, fill: n < k ? Self.writtenFill : .white, stroke: Theme.grid, lineWidth: 1))
                    if n < k { outputCells.append(.text(FigureNumber.format(pooled[oy, ox]), at: rect.center, size: 13, color: Theme.ink, anchor: .middle)) }
                }
            }
        }
        scene.add(.group("output-grid", outputCells))
        scene.add(.group("output-current", current))
        let top = o.y + Double(h) * c + 14
        scene.add(.group("frame-label", lines.enumerated().map { n, line in
            .text(line.0, at: Point(o.x, top + Double(n) * lineH + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.ink, bold: line.1)
        }))
        return scene
    }
}
