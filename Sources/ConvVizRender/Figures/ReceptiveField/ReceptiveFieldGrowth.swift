import ConvVizCore
import Foundation

/// The lecture's grid picture of receptive-field growth, along one axis: a row of cells
/// per layer, a chosen top unit, and the cells it depends on at every level below it,
/// down to the input pixels it sees.
public struct ReceptiveFieldGrowth {
    public struct Panel: Sendable {
        public var title: String
        public var table: ShapeTable
        public init(title: String, table: ShapeTable) { self.title = title; self.table = table }
    }

    public var panels: [Panel]
    public var cell: Double = 16
    public var text = FigureText()

    public init(panels: [Panel]) { self.panels = panels }

    /// The lecture's two examples: three stride-1 3x3 convolutions, and the same with a
    /// 2x2 stride-2 pooling in the middle.
    public static func lectureExamples() throws -> ReceptiveFieldGrowth {
        // One row of pixels: 1x3 kernels, so the picture is the 1-D slice of a 3x3 stack.
        let conv = LayerSpec(.conv, out: 1, kernel: Pair(1, 3))
        let plain = Architecture(name: "three 3x3 convolutions", input: [1, 1, 13], layers: [conv, conv, conv])
        let pooled = Architecture(name: "conv, 2x2 pool, conv, conv", input: [1, 1, 21], layers: [conv, LayerSpec(.maxpool, kernel: Pair(1, 2), stride: Pair(1, 2)), conv, conv])
        return ReceptiveFieldGrowth(panels: [Panel(title: plain.name, table: try ShapeTable(plain)), Panel(title: pooled.name, table: try ShapeTable(pooled))])
    }

    struct Level { let name: String; let count: Int; let center: Double; let jump: Double; let window: Window2D? }

    /// Whether a network is small enough for a cell per input pixel.
    public static func fitsGrid(_ t: ShapeTable) -> Bool { t.input[2] <= 64 && levels(t).count <= 12 }

    /// The input and the windowed layers on the main path (through branches, the longest).
    static func levels(_ t: ShapeTable) -> [Level] {
        var levels = [Level(name: "input", count: t.input[2], center: 0, jump: 1, window: nil)]
        guard let last = t.lastSpatialRow else { return levels }
        for r in t.mainPath(to: last).map({ t.rows[$0] }) where r.window != nil && r.output.count == 3 {
            levels.append(Level(name: r.name, count: r.output[2], center: r.center[1], jump: r.jump[1], window: r.window))
        }
        return levels
    }

    /// Indices (possibly outside the row: padding) each level contributes, top unit first.
    static func dependencies(_ levels: [Level]) -> [Set<Int>] {
        var sets = Array(repeating: Set<Int>(), count: levels.count)
        sets[levels.count - 1] = [levels.last!.count / 2]
        for l in stride(from: levels.count - 1, to: 0, by: -1) {
            let w = levels[l].window!
            for i in sets[l] {
                for k in 0..<w.kernel.w { sets[l - 1].insert(i * w.stride.w - w.padding.w + k * w.dilation.w) }
            }
        }
        return sets
    }

    public func scene() -> Scene {
        let rowH = cell + 22
        let widths = panels.map { Double($0.table.input[2] + 4) * cell }
        let heights = panels.map { Double(Self.levels($0.table).count) * rowH + 30 }
        let l = text.language
        var caption: [String] = [l("L stride-1 KxK layers see 1 + L(K-1) pixels per side: three 3x3 layers see 1 + 3·2 = 7.", "L 个步幅为 1 的 K×K 层每边看到 1 + L(K−1) 个像素：三个 3×3 层看到 1 + 3·2 = 7 个。")]
        for p in panels {
            let r = p.table.rows.last!
            caption.append(l("\(p.title): the top unit sees \(Int(r.receptiveField[1])) input pixels (jump \(Int(r.jump[1])) after the last layer).",
                             "\(p.title)：顶层单元看到 \(Int(r.receptiveField[1])) 个输入像素（最后一层之后的跳距为 \(Int(r.jump[1]))）。"))
        }
        caption.append(l("Stride and pooling multiply every later layer's K-1 by the jump, so the field grows faster.", "步幅和池化使之后每一层的 K−1 乘以跳距，因此感受野增长得更快。"))
        let frame = FigureFrame(title: l("How the receptive field grows", "感受野如何增长"), caption: caption,
                                contentWidth: widths.reduce(0, +) + Double(panels.count - 1) * 30, contentHeight: heights.max() ?? 0, text: text)
        var scene = frame.makeScene()
        var x0 = frame.contentOrigin.x
        for (p, panel) in panels.enumerated() {
            let levels = Self.levels(panel.table)
            let deps = Self.dependencies(levels)
            var items: [Scene.Item] = [.text(panel.title, at: Point(x0, frame.contentOrigin.y + 8), size: Theme.labelSize, color: Theme.ink, bold: true)]
            let bottom = frame.contentOrigin.y + 30 + Double(levels.count - 1) * rowH
            let left = x0 + 2 * cell
            for (l, level) in levels.enumerated() {
                let y = bottom - Double(l) * rowH
                let color = l == levels.count - 1 ? Theme.warning : Theme.series[l % Theme.series.count]
                // Cells sit at their centres in input coordinates, so the levels line up.
                for i in (deps[l].min() ?? 0)...(deps[l].max() ?? -1) where !(0..<level.count).contains(i) && deps[l].contains(i) {
                    let cx = left + (level.center + Double(i) * level.jump) * cell
                    items.append(.polyline([Point(cx - cell / 2 + 1, y), Point(cx + cell / 2 - 1, y), Point(cx + cell / 2 - 1, y + cell), Point(cx - cell / 2 + 1, y + cell)],
                                           color: Theme.muted, width: 0.8, closed: true, dash: [2, 2]))
                }
                for i in 0..<level.count {
                    let cx = left + (level.center + Double(i) * level.jump) * cell
                    let on = deps[l].contains(i)
                    items.append(.rect(Rect(cx - cell / 2 + 1, y, cell - 2, cell), fill: on ? color : Color(0.94, 0.94, 0.96), stroke: on ? nil : Theme.grid, lineWidth: 0.6))
                }
                let inside = deps[l].filter { (0..<level.count).contains($0) }.count
                items.append(.text("\(level.name)  (\(l == 0 ? text.language("\(deps[0].count) pixels", "\(deps[0].count) 个像素") : (l == levels.count - 1 ? text.language("unit", "单元") : text.language("\(inside) units", "\(inside) 个单元"))))",
                                   at: Point(left + Double(levels[0].count) * cell + 6, y + cell / 2), size: Theme.smallSize, color: Theme.muted))
                if l > 0 {
                    // Lines from the top-most highlighted unit of this level to the span it reads below.
                    let below = deps[l - 1], lower = levels[l - 1]
                    if let lo = below.min(), let hi = below.max() {
                        let mid = deps[l].map { left + (level.center + Double($0) * level.jump) * cell }
                        let a = mid.min()!, b = mid.max()!
                        items.append(.polyline([Point(a - cell / 2 + 1, y + cell), Point(left + (lower.center + Double(lo) * lower.jump) * cell - cell / 2 + 1, y + rowH)], color: color.with(alpha: 0.6), width: 1))
                        items.append(.polyline([Point(b + cell / 2 - 1, y + cell), Point(left + (lower.center + Double(hi) * lower.jump) * cell + cell / 2 - 1, y + rowH)], color: color.with(alpha: 0.6), width: 1))
                    }
                }
            }
            scene.add(.group("panel-\(p)", items))
            x0 += widths[p] + 30 + 90
        }
        scene.width += Double(panels.count) * 90
        return scene
    }
}
