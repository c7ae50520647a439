import ConvVizCore
import Foundation

/// The lecture's summary of a convolution layer's hyperparameters: the rule (input
/// C×H×W, K filters of size F, stride S, padding P → K×H′×W′ with F·F·C·K + K
/// parameters) and a table of the common settings applied to one input, every output
/// shape, parameter count and multiply-add count computed by the shape arithmetic.
public struct HyperparameterSummary {
    public struct Setting: Sendable, Equatable {
        public var filters: Int, kernel: Int, stride: Int, padding: Int
        public init(filters: Int, kernel: Int, stride: Int, padding: Int) {
            self.filters = filters; self.kernel = kernel; self.stride = stride; self.padding = padding
        }
    }

    /// `[C, H, W]`.
    public var input: [Int]
    public var settings: [Setting]
    public var text = FigureText()

    /// The lecture's common settings: K a power of 2; F=3,S=1,P=1; F=5,S=1,P=2; F=5,S=2
    /// with the padding that keeps the arithmetic exact; F=1,S=1,P=0 (1x1 convolution).
    public static let commonSettings = [
        Setting(filters: 64, kernel: 3, stride: 1, padding: 1), Setting(filters: 64, kernel: 5, stride: 1, padding: 2),
        Setting(filters: 128, kernel: 5, stride: 2, padding: 2), Setting(filters: 32, kernel: 1, stride: 1, padding: 0),
        Setting(filters: 128, kernel: 3, stride: 2, padding: 1),
    ]

    public init(input: [Int], settings: [Setting] = HyperparameterSummary.commonSettings) {
        self.input = input
        self.settings = settings
    }

    /// One computed row: the layer's shape-table row.
    public func row(_ s: Setting) throws -> ShapeTable.Row {
        let arch = Architecture(name: "summary", input: input, layers: [
            LayerSpec(.conv, name: "conv", out: s.filters, kernel: Pair(s.kernel), stride: Pair(s.stride), padding: Pair(s.padding))])
        return try ShapeTable(arch).rows[0]
    }

    public func scene() throws -> Scene {
        let l = text.language
        let (c, h, w) = (input[0], input[1], input[2])
        let header = ["K", "F", "S", "P", l("output K×H′×W′", "输出 K×H′×W′"), l("H′ = (H + 2P − F)/S + 1", "H′ = (H + 2P − F)/S + 1"),
                      l("parameters F·F·C·K + K", "参数量 F·F·C·K + K"), l("multiply-adds", "乘加次数")]
        var body: [[String]] = []
        for s in settings {
            let r = try row(s)
            body.append(["\(s.filters)", "\(s.kernel)", "\(s.stride)", "\(s.padding)", r.output.map(String.init).joined(separator: "×"),
                         VolumeSequence.arithmetic(input: h, window: r.window!, output: r.output[1]),
                         "\(s.kernel)·\(s.kernel)·\(c)·\(s.filters) + \(s.filters) = \(r.params)", Self.grouped(r.macs)])
        }
        let columns = header.indices.map { i in ([header[i]] + body.map { $0[i] }).map { TextMetrics.width($0, size: Theme.labelSize) }.max()! + 18 }
        let rules = [
            l("Input C×H×W = \(c)×\(h)×\(w). Four hyperparameters: the number of filters K, their size F, the stride S and the padding P.",
              "输入 C×H×W = \(c)×\(h)×\(w)。四个超参数：滤波器个数 K、滤波器大小 F、步幅 S 和填充 P。"),
            l("Output K×H′×W′ with H′ = (H + 2P − F)/S + 1 (rounded down); each filter has F·F·C weights and one bias.",
              "输出为 K×H′×W′，其中 H′ = (H + 2P − F)/S + 1（向下取整）；每个滤波器有 F·F·C 个权重和一个偏置。"),
        ]
        let rowH = 20.0
        let tableWidth = columns.reduce(0, +)
        let caption = [l("Common settings: K a power of 2; F=3, S=1, P=1; F=5, S=1, P=2; F=5, S=2 (P to fit); F=1, S=1, P=0. Every value in the table is computed by ConvViz's shape arithmetic for this input.",
                         "常见设置：K 取 2 的幂；F=3，S=1，P=1；F=5，S=1，P=2；F=5，S=2（P 取能整除的值）；F=1，S=1，P=0。表中每个数值都由 ConvViz 的形状推算针对该输入计算得到。")]
        let frame = FigureFrame(title: l("Convolution layer: hyperparameters and common settings", "卷积层：超参数与常见设置"), caption: caption,
                                contentWidth: tableWidth, contentHeight: Double(rules.count) * 18 + 14 + Double(body.count + 1) * rowH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        var y = o.y + 8
        scene.add(.group("rules", rules.map { line in defer { y += 18 }; return .text(line, at: Point(o.x, y), size: Theme.labelSize, color: Theme.ink) }))
        y += 6
        for (r, cells) in ([header] + body).enumerated() {
            var x = o.x
            var items: [Scene.Item] = []
            if r == 0 { items.append(.rect(Rect(o.x, y, tableWidth, rowH), fill: Color(0.93, 0.94, 0.97))) }
            else { items.append(.polyline([Point(o.x, y), Point(o.x + tableWidth, y)], color: Theme.grid, width: 0.6)) }
            for (i, cell) in cells.enumerated() {
                items.append(.text(cell, at: Point(x + 6, y + rowH / 2), size: Theme.labelSize, color: r == 0 ? Theme.ink : (i == 4 ? Theme.ink : Theme.muted), bold: r == 0 || i == 4))
                x += columns[i]
            }
            scene.add(.group(r == 0 ? "header" : "setting-\(r - 1)", items))
            y += rowH
        }
        return scene
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ n: Int) -> String { FigureNumber.grouped(n) }
}
