import ConvVizCore
import Foundation

/// A small grid of values with the pooling windows coloured, and the pooled output
/// beside it in the matching colours. The pooled values are computed by ConvViz's own
/// pooling layers (`MaxPool2D`, `AvgPool2D`), the ones networks train with.
public struct PoolingDiagram {
    public enum Kind: String, CaseIterable, Sendable { case max, avg }

    public var values: Tensor  // [H, W]
    public var kind: Kind = .max
    public var kernel: Int = 2
    public var stride: Int = 2
    /// Where the values come from, said in the caption ("pixels of camera.png ..."); nil: nothing said.
    public var source: String?
    public var text = FigureText()

    public init(values: Tensor) {
        precondition(values.rank == 2, "pooling input must be [H, W]")
        self.values = values
    }

    /// The lecture's 4x4 example (CS231n's numbers).
    public static let lectureValues = Tensor(shape: [4, 4], data: [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4])

    /// The pooled values `[H', W']` (no padding), from the pooling layer on `[1, 1, H, W]`.
    public var output: Tensor {
        let (h, w) = (values.shape[0], values.shape[1])
        let window = Window2D(kernel: Pair(kernel), stride: Pair(stride))
        guard let oh = Window2D.outputLength(input: h, kernel: kernel, stride: stride, padding: 0, dilation: 1),
              let ow = Window2D.outputLength(input: w, kernel: kernel, stride: stride, padding: 0, dilation: 1) else { return Tensor(shape: [0, 0]) }
        let layer: Layer = kind == .max ? MaxPool2D(name: "pool", window: window) : AvgPool2D(name: "pool", window: window)
        return layer.forward(values.reshaped([1, 1, h, w]), mode: .evaluation).reshaped([oh, ow])
    }

    static let cell = 36.0
    static let palette = [Color(0.99, 0.80, 0.80), Color(0.80, 0.90, 0.99), Color(0.85, 0.95, 0.80), Color(1.0, 0.93, 0.75),
                          Color(0.90, 0.84, 0.97), Color(0.80, 0.95, 0.95)]

    /// Width and height of the input grid, the arrow and the output grid.
    var panelSize: (width: Double, height: Double) {
        let out = output
        return (Double(values.shape[1]) * Self.cell + 90 + Double(out.shape[1]) * Self.cell, Double(values.shape[0]) * Self.cell + 24)
    }

    public func scene() -> Scene {
        let l = text.language
        let out = output
        let name = kind == .max ? l(.maxPooling) : l(.averagePooling)
        let title = l("\(name.prefix(1).uppercased() + name.dropFirst()), \(kernel)x\(kernel), stride \(stride)", "\(name)，\(kernel)x\(kernel)，步幅 \(stride)")
        var caption = [
            l("Each coloured window of the input becomes one output value (\(kind == .max ? "its maximum" : "its mean")); H' = floor((H - K)/S) + 1 = \(out.shape[0]).",
              "输入中每个着色窗口变为一个输出值（取\(kind == .max ? "最大值" : "平均值")）；H' = floor((H - K)/S) + 1 = \(out.shape[0])。"),
            l("Pooling has no parameters and acts on each channel independently.", "池化没有参数，对每个通道分别进行。"),
        ]
        if let source { caption.append(source) }
        let size = panelSize
        let frame = FigureFrame(title: title, caption: caption, contentWidth: size.width, contentHeight: size.height, text: text)
        var scene = frame.makeScene()
        for item in panel(at: frame.contentOrigin, names: ("input", "output"), windows: true) { scene.add(item) }
        return scene
    }

    /// The input grid with its windows, an arrow and the pooled grid, starting at
    /// `origin` (labels above the grids); groups named `names.input` and `names.output`
    /// (each output cell also `names.output-y-x`), window outlines `window-y-x` when asked.
    func panel(at origin: Point, names: (input: String, output: String), windows: Bool, label: String? = nil) -> [Scene.Item] {
        let l = text.language
        let (h, w) = (values.shape[0], values.shape[1])
        let out = output
        let cell = Self.cell
        let gridW = Double(w) * cell
        let o = Point(origin.x, origin.y + 20)
        let ox = o.x + gridW + 90
        var items: [Scene.Item] = []
        items.append(.text(label ?? "\(l(.input)) \(h)x\(w)", at: Point(o.x, o.y - 10), size: Theme.labelSize, color: Theme.muted))
        items.append(.text("\(l(.output)) \(out.shape[0])x\(out.shape[1])", at: Point(ox, o.y - 10), size: Theme.labelSize, color: Theme.muted))
        var owner = [Int](repeating: -1, count: h * w)
        for y in 0..<out.shape[0] { for x in 0..<out.shape[1] {
            for i in 0..<kernel { for j in 0..<kernel where owner[(y * stride + i) * w + x * stride + j] < 0 { owner[(y * stride + i) * w + x * stride + j] = y * out.shape[1] + x } }
        }}
        var grid: [Scene.Item] = []
        for y in 0..<h { for x in 0..<w {
            let k = owner[y * w + x]
            let r = Rect(o.x + Double(x) * cell, o.y + Double(y) * cell, cell, cell)
            grid.append(.rect(r, fill: k >= 0 ? Self.palette[k % Self.palette.count] : .white, stroke: Theme.grid, lineWidth: 1))
            grid.append(.text(FigureNumber.format(values[y, x]), at: r.center, size: 13, color: Theme.ink, anchor: .middle))
        }}
        items.append(.group(names.input, grid))
        if windows {
            for y in 0..<out.shape[0] { for x in 0..<out.shape[1] {
                let r = Rect(o.x + Double(x * stride) * cell, o.y + Double(y * stride) * cell, Double(kernel) * cell, Double(kernel) * cell)
                items.append(.group("window-\(y)-\(x)", [.rect(Rect(r.x + 1.5, r.y + 1.5, r.width - 3, r.height - 3), fill: nil, stroke: Theme.ink.with(alpha: 0.6), lineWidth: 1.5)]))
            }}
        }
        items.append(.text("→", at: Point(o.x + gridW + 45, o.y + Double(h) * cell / 2), size: 24, color: Theme.muted, anchor: .middle))
        var result: [Scene.Item] = []
        let oy = o.y + (Double(h) - Double(out.shape[0])) * cell / 2
        for y in 0..<out.shape[0] { for x in 0..<out.shape[1] {
            let r = Rect(ox + Double(x) * cell, oy + Double(y) * cell, cell, cell)
            result.append(.group("\(names.output)-\(y)-\(x)", [
                .rect(r, fill: Self.palette[(y * out.shape[1] + x) % Self.palette.count], stroke: Theme.ink.with(alpha: 0.6), lineWidth: 1.5),
                .text(FigureNumber.format(out[y, x]), at: r.center, size: 13, color: Theme.ink, anchor: .middle, bold: true),
            ]))
        }}
        items.append(.group(names.output, result))
        return items
    }

    /// The top-left corner of output cell (y, x) of a panel drawn at `origin`.
    func outputCell(y: Int, x: Int, panelOrigin origin: Point) -> Rect {
        let out = output
        let ox = origin.x + Double(values.shape[1]) * Self.cell + 90
        let oy = origin.y + 20 + (Double(values.shape[0]) - Double(out.shape[0])) * Self.cell / 2
        return Rect(ox + Double(x) * Self.cell, oy + Double(y) * Self.cell, Self.cell, Self.cell)
    }
}
