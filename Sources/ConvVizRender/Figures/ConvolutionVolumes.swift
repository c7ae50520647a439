import ConvVizCore
import Foundation

/// The lecture's volume picture: 3-D boxes for the input, each convolution's filters and
/// each output, labelled with shapes taken from the shape arithmetic
/// (N x 3 x 32 x 32 -> W1 6 x 3 x 5 x 5, b1 6 -> N x 6 x 28 x 28 -> ...).
public struct ConvolutionVolumes {
    public var table: ShapeTable
    /// Most convolutions drawn; a larger network shows its first ones and says so.
    public var maxConvolutions = 8
    public init(table: ShapeTable) { self.table = table }

    /// The convolutions drawn: along the main path (a ResNet's stages, not its
    /// shortcuts), at most `maxConvolutions`.
    var convolutionRows: [ShapeTable.Row] {
        let all = (table.lastSpatialRow.map { table.mainPath(to: $0) } ?? []).map { table.rows[$0] }.filter { $0.type == "conv" && $0.output.count == 3 }
        return Array(all.prefix(maxConvolutions))
    }

    var omitted: Int {
        let all = (table.lastSpatialRow.map { table.mainPath(to: $0) } ?? []).filter { table.rows[$0].type == "conv" }
        return max(0, all.count - maxConvolutions)
    }

    /// One box: depth = channels, height and width = spatial size.
    struct Volume { let label: [String]; let c: Int; let h: Int; let w: Int; let color: Color; let name: String }

    var volumes: [Volume] {
        var out = [Volume(label: ["input", "N×" + table.input.map(String.init).joined(separator: "×")], c: table.input[0], h: table.input[1], w: table.input[2],
                          color: Color(0.85, 0.88, 0.93), name: "input")]
        var convIndex = 0
        for row in convolutionRows {
            convIndex += 1
            let k = row.window!.kernel
            let cin = row.inputShape[0] / row.groups
            out.append(Volume(label: ["W\(convIndex) \(row.output[0])×\(cin)×\(k.h)×\(k.w)", "b\(convIndex) \(row.output[0])"],
                              c: cin, h: k.h, w: k.w, color: Theme.series[1].with(alpha: 0.85), name: "filters-\(row.name)"))
            out.append(Volume(label: [row.name, "N×" + row.output.map(String.init).joined(separator: "×")], c: row.output[0], h: row.output[1], w: row.output[2],
                              color: Color(0.80, 0.90, 0.84), name: "output-\(row.name)"))
        }
        return out
    }

    public func scene() -> Scene {
        let vols = volumes
        let maxSide = Double(vols.map { max($0.h, $0.w) }.max() ?? 1)
        let unit = 110 / maxSide          // pixels per spatial cell
        let depthUnit = 3.2               // pixels per channel, along the oblique axis
        func size(_ v: Volume) -> (w: Double, h: Double, d: Double) {
            (max(Double(v.w) * unit, 6), max(Double(v.h) * unit, 6), min(Double(v.c) * depthUnit, 60) + 4)
        }
        let gap = 56.0
        let widths = vols.map { let s = size($0); return max(s.w + s.d * 0.7, 96) }
        let tallest = vols.map { let s = size($0); return s.h + s.d * 0.5 }.max() ?? 100
        let shapes = convolutionRows.map { "\($0.name) \($0.output.map(String.init).joined(separator: "×"))" }
        var caption = ["Shapes from the shape arithmetic H' = floor((H + 2P - D(K-1) - 1)/S) + 1: " + shapes.joined(separator: ", ") + ".",
                       "Each filter spans all input channels of its group; each output channel is one filter's response plus its bias."]
        if omitted > 0 { caption.append("The first \(maxConvolutions) convolutions of the main path; \(omitted) more are not drawn (convviz shapes lists them all).") }
        let frame = FigureFrame(title: "Convolution volumes", caption: caption,
                                contentWidth: widths.reduce(0, +) + gap * Double(vols.count - 1), contentHeight: tallest + 50)
        var scene = frame.makeScene()
        var x = frame.contentOrigin.x
        let baseY = frame.contentOrigin.y + tallest
        for (i, v) in vols.enumerated() {
            let s = size(v)
            let ddx = s.d * 0.7, ddy = s.d * 0.5
            let front = Rect(x, baseY - s.h, s.w, s.h)
            var items: [Scene.Item] = [
                .polyline([Point(front.x, front.y), Point(front.x + ddx, front.y - ddy), Point(front.maxX + ddx, front.y - ddy), Point(front.maxX, front.y)],
                          color: Theme.ink, width: 0.8, closed: true, fill: v.color.with(alpha: 0.75)),
                .polyline([Point(front.maxX, front.y), Point(front.maxX + ddx, front.y - ddy), Point(front.maxX + ddx, front.maxY - ddy), Point(front.maxX, front.maxY)],
                          color: Theme.ink, width: 0.8, closed: true, fill: v.color.with(alpha: 0.6)),
                .rect(front, fill: v.color, stroke: Theme.ink, lineWidth: 0.8),
            ]
            for (l, line) in v.label.enumerated() {
                items.append(.text(line, at: Point(x, baseY + 14 + Double(l) * 14), size: Theme.labelSize, color: l == 0 ? Theme.ink : Theme.muted, bold: l == 0))
            }
            scene.add(.group(v.name, items))
            if i < vols.count - 1 {
                let ax = x + widths[i] + 6, ay = baseY - s.h / 2
                let symbol = v.name.hasPrefix("filters") ? "=" : (vols[i + 1].name.hasPrefix("filters") ? "∗" : "→")
                scene.add(.text(symbol, at: Point(ax + (gap - 12) / 2, ay), size: 18, color: Theme.muted, anchor: .middle))
            }
            x += widths[i] + gap
        }
        return scene
    }
}
