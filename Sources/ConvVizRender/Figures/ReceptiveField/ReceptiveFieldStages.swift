import ConvVizCore
import Foundation

/// Receptive-field growth of a large network, stage by stage: one bar per resolution
/// along the main path (the last layer before each stride), as wide as the field of a
/// unit there, drawn against the input's width (the gray band). The lecture's cell grid
/// (`ReceptiveFieldGrowth`) takes a pixel per cell and suits small examples; a ResNet's
/// 224-pixel input and twenty layers need this summary instead.
public struct ReceptiveFieldStages {
    public var title: String
    public var table: ShapeTable
    /// The layer whose growth is followed (default: the last with spatial output).
    public var layer: Int?
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()

    public init(title: String, table: ShapeTable, layer: Int? = nil) {
        self.title = title
        self.table = table
        self.layer = layer
    }

    public struct Stage: Sendable, Equatable {
        public let name: String
        public let receptiveField: Double
        public let jump: Double
        public let output: [Int]
        public let layers: Int
        /// Whether a global gate (squeeze-excitation) also feeds the whole image in.
        public let globalContext: Bool
    }

    /// The main path's windowed layers, grouped by jump: each stage ends where the next
    /// layer downsamples.
    public var stages: [Stage] {
        guard let last = layer ?? table.lastSpatialRow else { return [] }
        let path = table.mainPath(to: last).filter { table.rows[$0].window != nil || $0 == last }
        return table.stages(along: path).map { stage in
            let row = table.rows[stage.end]
            return Stage(name: row.name, receptiveField: row.localReceptiveField[1], jump: row.jump[1], output: row.output,
                         layers: stage.rows, globalContext: row.hasGlobalContext)
        }
    }

    public func scene() -> Scene {
        let stages = self.stages
        let inputWidth = Double(table.input[2])
        let largest = max(inputWidth, stages.map(\.receptiveField).max() ?? 1)
        let barArea = 520.0, rowH = 26.0, labelW = 200.0
        let px = barArea / largest
        let misaligned = table.rows.filter { !$0.isAligned }.count
        let l = text.language
        var caption = [l("Each bar: the receptive field (along the width) of a unit at the end of a stage of the main path; gray: the \(Int(inputWidth))-pixel input.",
                         "每个条形：主路径上一个阶段末端的单元的感受野（沿宽度方向）；灰色：\(Int(inputWidth)) 像素宽的输入。"),
                       l("The field grows by (K-1)·jump per layer, and the jump multiplies at every stride, so later stages grow it fastest.",
                         "感受野每层增长 (K-1)·跳距，而跳距在每次步幅处成倍增加，所以越靠后的阶段增长越快。")]
        if stages.contains(where: \.globalContext) {
            caption.append(l("+ global: squeeze-excitation gates also feed every unit a summary of the whole image; the bar is the local field.",
                             "+ 全局：挤压-激励门控还为每个单元提供整幅图像的概要；条形是局部感受野。"))
        }
        if misaligned > 0 {
            caption.append(l("\(misaligned) junction(s) join branches whose fields disagree in centre or jump (see convviz shapes).",
                             "\(misaligned) 个汇合点连接的分支在中心或跳距上不一致（见 convviz shapes）。"))
        }
        let frame = FigureFrame(title: title, caption: caption, contentWidth: labelW + barArea + 120, contentHeight: Double(stages.count + 1) * rowH + 10, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        let barX = o.x + labelW
        scene.add(.group("input", [
            .rect(Rect(barX, o.y, inputWidth * px, rowH * 0.6), fill: Color(0.86, 0.86, 0.89)),
            .text("\(l(.input)) \(table.input.map(String.init).joined(separator: "×"))", at: Point(o.x, o.y + rowH * 0.3), size: Theme.labelSize, color: Theme.ink),
        ]))
        for (k, s) in stages.enumerated() {
            let y = o.y + Double(k + 1) * rowH
            let color = Theme.series[k % Theme.series.count]
            scene.add(.group("stage-\(s.name)", [
                .rect(Rect(barX, y, inputWidth * px, rowH * 0.6), fill: Color(0.94, 0.94, 0.96)),
                .rect(Rect(barX, y, s.receptiveField * px, rowH * 0.6), fill: color.with(alpha: 0.85)),
                .text(l("\(s.name) (\(s.layers) layer\(s.layers == 1 ? "" : "s"))", "\(s.name)（\(s.layers) 层）"), at: Point(o.x, y + rowH * 0.3), size: Theme.labelSize, color: Theme.ink),
                .text(l("RF \(Int(s.receptiveField))\(s.globalContext ? " + global" : ""), jump \(Int(s.jump)), ",
                        "感受野 \(Int(s.receptiveField))\(s.globalContext ? " + 全局" : "")，跳距 \(Int(s.jump))，") + s.output.map(String.init).joined(separator: "×"),
                      at: Point(barX + max(s.receptiveField, inputWidth) * px + 8, y + rowH * 0.3), size: Theme.smallSize, color: Theme.muted),
            ]))
        }
        return scene
    }
}
