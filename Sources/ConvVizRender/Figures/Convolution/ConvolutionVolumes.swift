import ConvVizCore
import Foundation

/// The lecture's volume picture: 3-D boxes for the input, each convolution's filter bank
/// and output, and each pooling layer's output, labelled with shapes from the shape
/// arithmetic (3×32×32 ∗ W1 6×3×5×5, b1 6 = conv1 6×28×28 → pool ...). Depth is
/// proportional to channels (or to their logarithm for deep stacks), so a 1x1 reduction
/// from 64 to 32 channels is visible; padding is drawn as a dashed frame around the
/// volume the window slides over, and the window at two positions one stride apart.
/// Rows wrap at `maxRowWidth`.
public struct ConvolutionVolumes {
    public enum DepthScale: String, CaseIterable, Sendable { case linear, log }

    public var table: ShapeTable
    /// The architecture, for facts the table does not keep (whether convolutions have biases).
    public var architecture: Architecture?
    /// Most convolutions drawn; a larger network shows its first ones and says so.
    public var maxConvolutions = 8
    /// nil: one image (C×H×W); otherwise a batch, labelled N×C×H×W (or the number).
    public var batch: BatchLabel?
    public var depthScale = DepthScale.linear
    public var maxRowWidth: Double = 1100
    public var text = FigureText()

    public enum BatchLabel: Sendable, Equatable { case symbolic, count(Int) }

    public init(table: ShapeTable, architecture: Architecture? = nil) {
        self.table = table
        self.architecture = architecture
    }

    var sequence: VolumeSequence { VolumeSequence(table: table, architecture: architecture, maxConvolutions: maxConvolutions) }

    /// "6×28×28", or "N×6×28×28" for a batch.
    func shape(_ dims: [Int]) -> String {
        let plain = dims.map(String.init).joined(separator: "×")
        switch batch {
        case nil: return plain
        case .symbolic: return "N×" + plain
        case let .count(n): return "\(n)×" + plain
        }
    }

    /// The labels under a box: its name in bold, then shapes and facts.
    func labels(_ v: VolumeSequence.Volume) -> [String] {
        let l = text.language
        switch v.kind {
        case .input:
            return [l(batch == nil ? l(.image) : l("batch of images", "一批图像"), batch == nil ? "输入图像" : "一批输入图像"), shape([v.c, v.h, v.w])]
        case .filters:
            let w = v.window!
            var lines = ["W\(v.ordinal) \(v.count)×\(v.c)×\(v.h)×\(v.w)"]
            if v.bias { lines.append("b\(v.ordinal) \(v.count)") }
            lines.append(l("stride \(w.stride), pad \(w.padding)", "步幅 \(w.stride)，填充 \(w.padding)"))
            lines.append(l("\(v.parameters) parameters", "\(v.parameters) 个参数"))
            return lines
        case .convolutionOutput:
            let act = v.activation.map { $0 == "relu" ? "ReLU" : $0 }
            return [act.map { "\($0)(\(v.layer))" } ?? v.layer, shape([v.c, v.h, v.w])]
        case .poolingOutput:
            return [v.layer, shape([v.c, v.h, v.w])]
        }
    }

    /// The symbol between a box and the next one, and the words over it.
    func connector(_ from: VolumeSequence.Volume, _ to: VolumeSequence.Volume) -> (symbol: String, words: String?) {
        let l = text.language
        switch (from.kind, to.kind) {
        case (_, .filters): return ("∗", nil)
        case (.filters, _): return ("=", nil)
        case (_, .poolingOutput):
            let w = to.window!
            let kind = l(to.averages ? .averagePooling : .maxPooling)
            return ("→", l("\(w.kernel)×\(w.kernel) \(kind), stride \(w.stride)", "\(w.kernel)×\(w.kernel) \(kind)，步幅 \(w.stride)"))
        default: return ("→", nil)
        }
    }

    /// Box sizes in points: width and height from the spatial size, depth from channels.
    func boxSize(_ v: VolumeSequence.Volume, unit: Double, depthUnit: Double) -> (w: Double, h: Double, d: Double) {
        let depth: Double = switch depthScale {
        case .linear: Double(v.c) * depthUnit
        case .log: 10 * log2(Double(v.c) + 1)
        }
        return (max(Double(v.w) * unit, 5), max(Double(v.h) * unit, 5), max(depth, 2))
    }

    public func scene() -> Scene {
        let l = text.language
        let seq = sequence
        let vols = seq.volumes
        let maxSide = Double(vols.map { max($0.h, $0.w) }.max() ?? 1)
        let unit = min(110 / maxSide, 6)
        let maxChannels = Double(vols.map(\.c).max() ?? 1)
        let depthUnit = min(3.2, 120 / maxChannels)
        let sizes = vols.map { boxSize($0, unit: unit, depthUnit: depthUnit) }
        let labelLines = vols.map(labels)
        let widths = vols.indices.map { i in
            max(sizes[i].w + sizes[i].d * 0.7, labelLines[i].map { TextMetrics.width($0, size: Theme.labelSize) }.max() ?? 0) + 8
        }
        // The gap after each box holds its connector and the connector's words.
        let connectors = vols.indices.dropLast().map { connector(vols[$0], vols[$0 + 1]) }
        let gaps = connectors.map { c in max(64, (c.words.map { TextMetrics.width($0, size: Theme.smallSize) } ?? 0) + 16) } + [0]
        // A wrapped row starts with the connector from the row before it.
        let indent = 40.0
        // Rows: as many boxes as fit in maxRowWidth.
        var rows: [[Int]] = [[]]
        var x = 0.0
        for i in vols.indices {
            if !rows[rows.count - 1].isEmpty && x + widths[i] > maxRowWidth { rows.append([]); x = indent }
            rows[rows.count - 1].append(i)
            x += widths[i] + gaps[i]
        }
        func tallest(_ row: [Int]) -> Double { row.map { sizes[$0].h + sizes[$0].d * 0.5 }.max() ?? 0 }
        let rowHeights: [Double] = rows.map { row in
            let lines = Double(row.map { labelLines[$0].count }.max() ?? 0)
            return tallest(row) + lines * 14 + 34
        }
        let contentWidth: Double = rows.enumerated().map { r, row -> Double in
            (r > 0 ? indent : 0) + row.map { widths[$0] }.reduce(0, +) + row.dropLast().map { gaps[$0] }.reduce(0, +)
        }.max() ?? 0

        var caption: [String] = []
        var arithmetic: [String] = []
        for v in vols where v.kind == .convolutionOutput || v.kind == .poolingOutput {
            guard let row = table.rows.first(where: { $0.name == v.layer }), let w = row.window else { continue }
            arithmetic.append("\(v.layer): \(VolumeSequence.arithmetic(input: row.inputShape[1], window: w, output: row.output[1]))")
        }
        caption.append(l("Output size H′ = ⌊(H + 2P − K)/S⌋ + 1: ", "输出大小 H′ = ⌊(H + 2P − K)/S⌋ + 1：") + arithmetic.joined(separator: l.listSeparator) + l(".", "。"))
        let banks = vols.filter { $0.kind == .filters }
        if !banks.isEmpty {
            caption.append(l("Parameters: ", "参数量：") + banks.map { v in
                "W\(v.ordinal)\(v.bias ? "+b\(v.ordinal)" : "") = \(v.count)·\(v.c)·\(v.h)·\(v.w)\(v.bias ? " + \(v.count)" : "") = \(v.parameters)"
            }.joined(separator: l.listSeparator) + l(".", "。"))
            caption.append(l("Each filter spans all input channels (of its group); each output channel is one filter's response plus its bias.",
                             "每个滤波器覆盖（其分组内的）全部输入通道；每个输出通道是一个滤波器的响应加上它的偏置。"))
        }
        caption.append(depthScale == .linear
            ? l("Box depth is proportional to the number of channels.", "方块的深度与通道数成正比。")
            : l("Box depth grows with log2 of the number of channels.", "方块的深度随通道数的对数（log2）增长。"))
        if batch != nil { caption.append(l("N is the batch size: every image of the batch goes through the same filters.", "N 为批大小：批中的每张图像都经过同样的滤波器。")) }
        if seq.omitted > 0 {
            caption.append(l("The first \(maxConvolutions) convolutions of the main path; \(seq.omitted) more layers are not drawn (convviz shapes lists them all).",
                             "只画出主路径上的前 \(maxConvolutions) 个卷积；其余 \(seq.omitted) 层未画出（convviz shapes 会全部列出）。"))
        }
        let frame = FigureFrame(title: l("Convolution volumes", "卷积的输入、滤波器与输出体积"), caption: caption,
                                contentWidth: contentWidth, contentHeight: rowHeights.reduce(0, +), text: text)
        var scene = frame.makeScene()
        var top = frame.contentOrigin.y
        for (r, row) in rows.enumerated() {
            let baseY = top + 22 + tallest(row)
            var x = frame.contentOrigin.x + (r > 0 ? indent : 0)
            for (position, i) in row.enumerated() {
                let v = vols[i]
                scene.add(.group(name(v), box(v, next: i + 1 < vols.count ? vols[i + 1] : nil, size: sizes[i], x: x, baseY: baseY, unit: unit, labels: labelLines[i])))
                if i + 1 < vols.count {
                    // Between boxes of a row, or at the start of the next row when it wraps.
                    let wraps = position == row.count - 1
                    let cx = wraps ? frame.contentOrigin.x + indent / 2 : x + widths[i] + gaps[i] / 2
                    let cy = wraps ? top + rowHeights[r] + 22 + tallest(rows[r + 1]) - sizes[i + 1].h / 2 : baseY - sizes[i].h / 2
                    let (symbol, words) = connectors[i]
                    var items: [Scene.Item] = [.text(symbol, at: Point(cx, cy), size: 18, color: Theme.muted, anchor: .middle)]
                    if let words {
                        // Over a wrapped row's start the words go above its boxes.
                        let at = wraps ? Point(frame.contentOrigin.x, top + rowHeights[r] + 8) : Point(cx, cy - 18)
                        items.append(.text(words, at: at, size: Theme.smallSize, color: Theme.muted, anchor: wraps ? .start : .middle))
                    }
                    scene.add(.group("connector-\(i)", items))
                }
                x += widths[i] + gaps[i]
            }
            top += rowHeights[r]
        }
        return scene
    }

    func name(_ v: VolumeSequence.Volume) -> String {
        switch v.kind {
        case .input: "input"
        case .filters: "filters-\(v.layer)"
        case .convolutionOutput, .poolingOutput: "output-\(v.layer)"
        }
    }

    /// One oblique box (front face, top, side), its labels, and for a windowed layer's
    /// input the padding frame and the window at two positions one stride apart.
    func box(_ v: VolumeSequence.Volume, next: VolumeSequence.Volume?, size s: (w: Double, h: Double, d: Double), x: Double, baseY: Double, unit: Double, labels: [String]) -> [Scene.Item] {
        let color: Color = switch v.kind {
        case .input: Color(0.85, 0.88, 0.93)
        case .filters: Theme.series[1].with(alpha: 0.85)
        case .convolutionOutput: Color(0.80, 0.90, 0.84)
        case .poolingOutput: Color(0.93, 0.86, 0.80)
        }
        let ddx = s.d * 0.7, ddy = s.d * 0.5
        // The front face sits low-left; depth recedes up and to the right.
        let front = Rect(x, baseY - s.h, s.w, s.h)
        var items: [Scene.Item] = []
        // A batch: two shadow copies behind the box.
        if batch != nil && v.kind != .filters {
            for k in [2.0, 1.0] {
                items.append(.rect(Rect(front.x + ddx + 5 * k, front.y - ddy - 5 * k, s.w, s.h), fill: color.with(alpha: 0.35), stroke: Theme.muted, lineWidth: 0.5))
            }
        }
        items += [
            .polyline([Point(front.x, front.y), Point(front.x + ddx, front.y - ddy), Point(front.maxX + ddx, front.y - ddy), Point(front.maxX, front.y)],
                      color: Theme.ink, width: 0.8, closed: true, fill: color.with(alpha: 0.75)),
            .polyline([Point(front.maxX, front.y), Point(front.maxX + ddx, front.y - ddy), Point(front.maxX + ddx, front.maxY - ddy), Point(front.maxX, front.maxY)],
                      color: Theme.ink, width: 0.8, closed: true, fill: color.with(alpha: 0.6)),
            .rect(front, fill: color, stroke: Theme.ink, lineWidth: 0.8),
        ]
        for (n, line) in labels.enumerated() {
            items.append(.text(line, at: Point(x, baseY + 14 + Double(n) * 14), size: Theme.labelSize, color: n == 0 ? Theme.ink : Theme.muted, bold: n == 0))
        }
        return items + (next.map { windowMarks(of: $0, front: front, unit: unit) } ?? [])
    }

    /// On the volume `next`'s window slides over (the box before it): padding as a
    /// dashed frame P cells out, and the window at its first position and one stride on.
    func windowMarks(of next: VolumeSequence.Volume, front: Rect, unit: Double) -> [Scene.Item] {
        guard let w = next.window, next.kind == .filters || next.kind == .poolingOutput, unit * Double(w.kernel.w) >= 3 else { return [] }
        var items: [Scene.Item] = []
        let p = Double(w.padding.w) * unit
        if w.padding.w > 0 || w.padding.h > 0 {
            let ph = Double(w.padding.h) * unit
            items.append(.polyline([Point(front.x - p, front.y - ph), Point(front.maxX + p, front.y - ph), Point(front.maxX + p, front.maxY + ph), Point(front.x - p, front.maxY + ph)],
                                   color: Theme.muted, width: 0.8, closed: true, dash: [3, 2]))
        }
        let kw = Double(w.kernel.w) * unit, kh = Double(w.kernel.h) * unit
        let first = Rect(front.x - p, front.y - Double(w.padding.h) * unit, kw, kh)
        items.append(.rect(first, fill: Theme.series[1].with(alpha: 0.35), stroke: Theme.series[1], lineWidth: 1))
        let second = Rect(first.x + Double(w.stride.w) * unit, first.y, kw, kh)
        items.append(.polyline([Point(second.x, second.y), Point(second.maxX, second.y), Point(second.maxX, second.maxY), Point(second.x, second.maxY)],
                               color: Theme.series[1], width: 1, closed: true, dash: [2, 2]))
        return items
    }
}
