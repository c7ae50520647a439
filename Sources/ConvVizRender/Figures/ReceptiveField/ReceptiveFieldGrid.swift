import ConvVizCore
import Foundation

/// The lecture's 2-D picture of receptive-field growth: for each network, the input and
/// every windowed layer as a square grid of cells, left to right, with the centre unit
/// of the last layer and every cell it depends on shaded at each level (cells outside
/// a grid are padding, drawn dashed). The sets come from walking the windows back
/// (`ReceptiveFieldGrowth.dependencies`); the sizes in the labels are the shape
/// table's receptive fields, so the picture and the arithmetic are checked against
/// each other in the tests.
public struct ReceptiveFieldGrid {
    /// A titled network, as in the 1-D picture.
    public typealias Panel = ReceptiveFieldGrowth.Panel

    public var panels: [Panel]
    public var cell: Double = 11
    public var maxRowWidth: Double = 1100
    public var text = FigureText()
    /// Overrides the default title (which names what is compared).
    public var defaultTitle: (Language) -> String = { $0("How the receptive field grows", "感受野如何增长") }
    /// Extra caption sentences placed before the computed ones.
    public var lead: [String] = []

    public init(panels: [Panel]) { self.panels = panels }

    /// KxK convolutions (no padding), one per stride given, on the input that leaves a
    /// 3x3 top layer: one unit beside the centre on each side, so the shaded squares
    /// read as parts of their grids.
    public static func stack(kernel: Int, strides: [Int], name: String) throws -> Architecture {
        var top = 3
        for s in strides.reversed() { top = (top - 1) * s + kernel }
        let layers = strides.enumerated().map { LayerSpec(.conv, name: "conv\($0.offset + 1)", out: 1, kernel: Pair(kernel), stride: Pair($0.element)) }
        return Architecture(name: name, input: [1, top, top], layers: layers)
    }

    /// The course's two examples on 2-D grids: three stride-1 3x3 convolutions, and
    /// conv, 2x2 stride-2 max pooling, conv, conv.
    public static func lectureExamples(language l: Language = .en) throws -> ReceptiveFieldGrid {
        let conv = LayerSpec(.conv, out: 1, kernel: Pair(3))
        let plain = try stack(kernel: 3, strides: [1, 1, 1], name: "three 3x3")
        let pooled = Architecture(name: "pooled", input: [1, 20, 20], layers: [conv, LayerSpec(.maxpool, kernel: Pair(2), stride: Pair(2)), conv, conv])
        var grid = ReceptiveFieldGrid(panels: [
            Panel(title: l("three 3×3 convolutions", "三个 3×3 卷积"), table: try ShapeTable(plain)),
            Panel(title: l("conv 3×3, 2×2 max pool (stride 2), conv 3×3, conv 3×3", "3×3 卷积、2×2 最大池化（步幅 2）、3×3 卷积、3×3 卷积"), table: try ShapeTable(pooled)),
        ])
        grid.text.language = l
        return grid
    }

    /// Whether a network is small enough for a square of cells per layer.
    public static func fits(_ t: ShapeTable) -> Bool {
        t.input.count == 3 && t.input[1] <= 40 && t.input[2] <= 40 && ReceptiveFieldGrowth.levels(t).count <= 8
    }

    /// The receptive field of the last layer along one side, from the shape table.
    public static func field(_ table: ShapeTable) -> Int { Int(table.rows.last?.receptiveField[1] ?? 1) }

    public func scene() -> Scene {
        let l = text.language
        // Lay out every panel's grids in a row; panels wrap onto rows.
        struct Placed { let panel: Int; let levels: [ReceptiveFieldGrowth.Level]; let deps: [Set<Int>]; let width: Double; let height: Double }
        let placed: [Placed] = panels.enumerated().map { p, panel in
            let levels = ReceptiveFieldGrowth.levels(panel.table)
            let deps = ReceptiveFieldGrowth.dependencies(levels)
            let labels = levelLabels(levels, deps, table: panel.table)
            let width = zip(levels, labels).map { levelWidth($0, $1) }.reduce(0, +)
            let height = Double((levels.map(\.count).max() ?? 1) + 2) * cell + 56
            return Placed(panel: p, levels: levels, deps: deps, width: width, height: height)
        }
        var rows: [[Int]] = [[]]
        var x = 0.0
        for (i, p) in placed.enumerated() {
            if !rows[rows.count - 1].isEmpty && x + p.width > maxRowWidth { rows.append([]); x = 0 }
            rows[rows.count - 1].append(i)
            x += p.width + 30
        }
        let contentWidth: Double = rows.map { (row: [Int]) -> Double in row.map { placed[$0].width }.reduce(0, +) + 30 * Double(row.count - 1) }.max() ?? 0
        let rowHeights: [Double] = rows.map { (row: [Int]) -> Double in row.map { placed[$0].height }.max() ?? 0 }

        var caption = lead
        for panel in panels {
            let strides = panel.table.rows.compactMap { $0.window }.map { $0.stride.w }
            let fields = panel.table.rows.map { r in "\(Int(r.receptiveField[1]))×\(Int(r.receptiveField[1]))" }.joined(separator: l.listSeparator)
            // The grids show, top down, what the last unit reads at each level; the caption
            // gives the growth bottom up, one unit per layer, so both are named as such.
            caption.append(l("\(panel.title): one unit after each layer sees \(fields) input pixels (strides \(strides.map(String.init).joined(separator: ", "))); the grids show, level by level, what the top unit reads.",
                             "\(panel.title)：每一层之后的一个单元分别看到 \(fields) 个输入像素（步幅 \(strides.map(String.init).joined(separator: "、"))）；各网格显示顶层单元在每一层读取的范围。"))
        }
        caption.append(l("Each KxK layer adds (K−1) × (the product of the strides below it): with stride 1 everywhere, L layers see 1 + L(K−1).",
                         "每个 K×K 层使感受野增加 (K−1) ×（其下各层步幅之积）：步幅都为 1 时，L 层的感受野为 1 + L(K−1)。"))
        let frame = FigureFrame(title: defaultTitle(l), caption: caption, contentWidth: contentWidth, contentHeight: rowHeights.reduce(0, +) + Double(rows.count - 1) * 16, text: text)
        var scene = frame.makeScene()
        var top = frame.contentOrigin.y
        for (r, row) in rows.enumerated() {
            var left = frame.contentOrigin.x
            for i in row {
                let p = placed[i]
                scene.add(.group("panel-\(p.panel)", panelItems(p.levels, p.deps, title: panels[p.panel].title, table: panels[p.panel].table, origin: Point(left, top))))
                left += p.width + 30
            }
            top += rowHeights[r] + 16
        }
        return scene
    }

    /// A level's grid plus its label, and the gap to the next.
    func levelWidth(_ level: ReceptiveFieldGrowth.Level, _ label: String) -> Double {
        max(Double(level.count + 2) * cell, TextMetrics.width(label, size: Theme.labelSize) + cell) + 24
    }

    /// "conv1 7×7 (3×3, stride 1): 5×5" under each level.
    func levelLabels(_ levels: [ReceptiveFieldGrowth.Level], _ deps: [Set<Int>], table: ShapeTable) -> [String] {
        let l = text.language
        let windowed = table.rows.filter { $0.window != nil }
        return levels.enumerated().map { n, level in
            let set = deps[n]
            let inside = set.filter { (0..<level.count).contains($0) }.count
            if n == 0 {
                return l("input \(level.count)×\(level.count): the top unit sees \(set.count)×\(set.count)", "输入 \(level.count)×\(level.count)：顶层单元的感受野 \(set.count)×\(set.count)")
            }
            let w = windowed[n - 1].window!
            let reach = n == levels.count - 1 ? l("the top unit", "顶层单元") : l("it reads \(inside)×\(inside)", "读取 \(inside)×\(inside)")
            return l("\(level.name) \(level.count)×\(level.count) (\(w.kernel)×\(w.kernel), stride \(w.stride)): \(reach)",
                     "\(level.name) \(level.count)×\(level.count)（\(w.kernel)×\(w.kernel)，步幅 \(w.stride)）：\(reach)")
        }
    }

    func panelItems(_ levels: [ReceptiveFieldGrowth.Level], _ deps: [Set<Int>], title: String, table: ShapeTable, origin: Point) -> [Scene.Item] {
        var items: [Scene.Item] = [.text(title, at: Point(origin.x, origin.y + 8), size: Theme.labelSize, color: Theme.ink, bold: true)]
        let tallest = Double((levels.map(\.count).max() ?? 1) + 2) * cell
        var x = origin.x
        let labels = levelLabels(levels, deps, table: table)
        for (n, level) in levels.enumerated() {
            let side = Double(level.count) * cell
            let y = origin.y + 24 + (tallest - side) / 2
            let gx = x + cell
            let set = deps[n]
            let color = n == levels.count - 1 ? Theme.warning : Theme.series[n % Theme.series.count]
            var grid: [Scene.Item] = []
            // Padding cells the field reaches: dashed outlines outside the grid.
            for i in set { for j in set where !(0..<level.count).contains(i) || !(0..<level.count).contains(j) {
                grid.append(.polyline([Point(gx + Double(j) * cell, y + Double(i) * cell), Point(gx + Double(j + 1) * cell, y + Double(i) * cell),
                                       Point(gx + Double(j + 1) * cell, y + Double(i + 1) * cell), Point(gx + Double(j) * cell, y + Double(i + 1) * cell)],
                                      color: Theme.muted, width: 0.6, closed: true, dash: [2, 2]))
            } }
            for i in 0..<level.count {
                for j in 0..<level.count {
                    let on = set.contains(i) && set.contains(j)
                    grid.append(.rect(Rect(gx + Double(j) * cell, y + Double(i) * cell, cell, cell), fill: on ? color : Color(0.95, 0.95, 0.97), stroke: Theme.grid, lineWidth: 0.5))
                }
            }
            grid.append(.text(labels[n], at: Point(gx, origin.y + 24 + tallest + 10), size: Theme.labelSize, color: Theme.muted))
            items.append(.group("level-\(n)", grid))
            x += levelWidth(level, labels[n])
        }
        return items
    }
}
