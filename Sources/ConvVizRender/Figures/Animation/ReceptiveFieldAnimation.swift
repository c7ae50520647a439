import ConvVizCore
import Foundation

/// The `rf-growth` grid figure (`ReceptiveFieldGrid`) one layer per frame: every level
/// of the network drawn as a square of cells; in frame l the centre unit of layer l and
/// every cell it depends on below are shaded, down to the input pixels it sees, with the
/// recurrence r_l = r_{l-1} + (K_l - 1) D_l j_{l-1} written out with the shape table's
/// numbers.
///
/// Groups: `level-n` (a rectangle per cell of level n, the input n = 0), `frame-label`.
public struct ReceptiveFieldAnimation: Animation {
    public let title: String
    public let table: ShapeTable
    let levels: [ReceptiveFieldGrowth.Level]
    /// Windowed rows of the table, one per level above the input.
    let rows: [ShapeTable.Row]
    public var cell: Double = 14
    public var text = FigureText()

    public struct Unsuitable: Error, CustomStringConvertible { public let description: String }

    /// `through`: the last layer animated (by name); nil: the last windowed layer.
    public init(title: String, table: ShapeTable, through layer: String? = nil) throws {
        guard ReceptiveFieldGrid.fits(table) else {
            throw Unsuitable(description: "'\(title)' is too large for a grid of cells (more than 40x40 pixels or 7 windowed layers); `convviz rf-growth` draws it stage by stage")
        }
        var levels = ReceptiveFieldGrowth.levels(table)
        var rows = table.mainPath(to: table.lastSpatialRow ?? 0).map { table.rows[$0] }.filter { $0.window != nil && $0.output.count == 3 }
        guard levels.count > 1, rows.count == levels.count - 1 else { throw Unsuitable(description: "'\(title)' has no convolution or pooling layer to animate") }
        if let layer {
            guard let n = rows.firstIndex(where: { $0.name == layer }) else {
                throw Unsuitable(description: "no windowed layer '\(layer)' on the main path of '\(title)'; its layers: \(rows.map(\.name).joined(separator: ", "))")
            }
            rows = Array(rows.prefix(n + 1)); levels = Array(levels.prefix(n + 2))
        }
        self.title = title; self.table = table; self.levels = levels; self.rows = rows
    }

    public var frameCount: Int { levels.count - 1 }

    /// The cells each level contributes to the centre unit of level `top` (level 0: the input).
    public func dependencies(top: Int) -> [Set<Int>] { ReceptiveFieldGrowth.dependencies(Array(levels[0...top])) }

    /// r_l = r_{l-1} + (K_l - 1) D_l j_{l-1} with the numbers, for layer `l` (1-based level).
    func recurrence(_ l: Int) -> String {
        let row = rows[l - 1], w = row.window!
        let below = l > 1 ? rows[l - 2] : nil
        let r0 = Int(below?.receptiveField[1] ?? 1), j0 = Int(below?.jump[1] ?? 1)
        return "r\(l) = r\(l - 1) + (K − 1)·D·j\(l - 1) = \(r0) + (\(w.kernel.w) − 1)·\(w.dilation.w)·\(j0) = \(Int(row.receptiveField[1]))"
    }

    public func frame(_ k: Int) -> Scene {
        let l = text.language
        let top = k + 1
        let deps = dependencies(top: top)
        let largest = levels.map(\.count).max() ?? 1
        let tallest = Double(largest + 2) * cell
        let labels = levels.enumerated().map { n, level in n == 0 ? l("input \(level.count)×\(level.count)", "输入 \(level.count)×\(level.count)") : "\(level.name) \(level.count)×\(level.count)" }
        let widths = zip(levels, labels).map { max(Double($0.count + 2) * cell, TextMetrics.width($1, size: Theme.labelSize) + cell) + 20 }
        let lineH = Theme.labelSize + 7
        let longest = (1...frameCount).map { TextMetrics.width(recurrence($0), size: Theme.labelSize) }.max() ?? 0
        let frame = FigureFrame(title: l("Receptive field of \(title), layer by layer", "\(title) 的感受野（逐层）"),
                                caption: [l("Frame l shades the centre unit of layer l and every cell it depends on below it; the input cells shaded are its receptive field.",
                                            "第 l 帧为第 l 层的中心单元及其在下面各层所依赖的单元着色；输入中着色的单元就是它的感受野。"),
                                          l("Each KxK layer adds (K−1) × (the product of the strides below it): with stride 1 everywhere, L layers see 1 + L(K−1).",
                                            "每个 K×K 层使感受野增加 (K−1) ×（其下各层步幅之积）：步幅都为 1 时，L 层的感受野为 1 + L(K−1)。")],
                                contentWidth: max(widths.reduce(0, +), longest + 20), contentHeight: 24 + tallest + 18 + 3 * lineH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        var x = o.x
        for (n, level) in levels.enumerated() {
            let side = Double(level.count) * cell
            let y = o.y + 10 + (tallest - side) / 2
            let gx = x + cell
            let set = n <= top ? deps[n] : []
            let color = n == top ? Theme.warning : Theme.series[n % Theme.series.count]
            var grid: [Scene.Item] = []
            for i in set { for j in set where !(0..<level.count).contains(i) || !(0..<level.count).contains(j) {
                grid.append(.polyline([Point(gx + Double(j) * cell, y + Double(i) * cell), Point(gx + Double(j + 1) * cell, y + Double(i) * cell),
                                       Point(gx + Double(j + 1) * cell, y + Double(i + 1) * cell), Point(gx + Double(j) * cell, y + Double(i + 1) * cell)],
                                      color: Theme.muted, width: 0.6, closed: true, dash: [2, 2]))
            } }
            let idle = n > top ? Color(0.98, 0.98, 0.99) : Color(0.95, 0.95, 0.97)
            for i in 0..<level.count {
                for j in 0..<level.count {
                    let on = set.contains(i) && set.contains(j)
                    grid.append(.rect(Rect(gx + Double(j) * cell, y + Double(i) * cell, cell, cell), fill: on ? color : idle, stroke: Theme.grid, lineWidth: 0.5))
                }
            }
            grid.append(.text(labels[n], at: Point(gx, o.y + 10 + tallest + 6), size: Theme.labelSize, color: n > top ? Theme.grid : Theme.muted))
            scene.add(.group("level-\(n)", grid))
            x += widths[n]
        }
        let field = Int(rows[top - 1].receptiveField[1])
        let labelTop = o.y + 24 + tallest + 18
        let w = rows[top - 1].window!
        scene.add(.group("frame-label", [
            .text(l("After \(levels[top].name) (\(w.kernel.w)×\(w.kernel.w), stride \(w.stride.w)): one unit sees \(field)×\(field) input pixels — frame \(k + 1) of \(frameCount)",
                    "经过 \(levels[top].name)（\(w.kernel.w)×\(w.kernel.w)，步幅 \(w.stride.w)）：一个单元看到 \(field)×\(field) 个输入像素 — 第 \(k + 1) 帧，共 \(frameCount) 帧"),
                  at: Point(o.x, labelTop + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.ink, bold: true),
            .text(recurrence(top), at: Point(o.x, labelTop + lineH + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.ink),
            .text(l("jump j\(top) = \(Int(rows[top - 1].jump[1])) input pixels between neighbouring units", "跳距 j\(top) = \(Int(rows[top - 1].jump[1]))：相邻单元在输入上相隔的像素数"),
                  at: Point(o.x, labelTop + 2 * lineH + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.muted),
        ]))
        return scene
    }
}
