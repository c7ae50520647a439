import ConvVizCore
import Foundation

/// The N / C / H,W cube drawn once per normalization (after Wu & He, Group
/// Normalization, 2018, Fig. 2), with the cells that share one mean and variance
/// shaded. Each (sample, channel) column is one group in the SVG (`batch/n0-c3`).
public struct NormalizationCubes {
    public var kinds: [NormalizationKind] = NormalizationKind.allCases
    public var samples: Int = 6
    public var channels: Int = 6
    public var groups: Int = 2
    /// A tensor `[N, C, H, W]`: the shaded set is annotated with its real statistics.
    public var tensor: Tensor?
    /// Where the tensor comes from, said in the caption.
    public var source: String?
    /// The plane whose set is shaded.
    public var anchor = SampleChannel(0, 0)
    public var text = FigureText()

    public static let shade = Color(0.27, 0.51, 0.85), base = Color(0.94, 0.95, 0.97), edge = Color(0.35, 0.37, 0.42)

    public init() {}

    static let cellWidth = 20.0, depthX = 11.0, depthY = 8.0, planeHeight = 120.0

    /// A panel's width and height for `samples` x `channels`.
    var panelSize: (width: Double, height: Double) {
        let cubeW = Double(channels) * Self.cellWidth + Double(samples) * Self.depthX
        return (max(cubeW + 50, 170), Self.planeHeight + Double(samples) * Self.depthY + 90)
    }

    /// The cube's name for `kind` ("GroupNorm (G=2)").
    func heading(_ kind: NormalizationKind) -> String {
        // English keeps the cubes' established headings ("Batch Norm"); Chinese uses the course's terms.
        let name = text.language == .en ? kind.title : text.language.name(kind)
        return kind == .group ? "\(name) (G=\(groups))" : name
    }

    public func scene() -> Scene {
        let l = text.language
        let size = panelSize
        var caption = [
            l("Shaded: the values that share one mean and variance (all of H and W, always).", "阴影：共用同一均值和方差的数值（总是包括全部 H 和 W）。"),
            l("BN: one channel, all samples. LN: one sample, all channels. IN: one sample, one channel. GN: one sample, C/G = \(channels / max(groups, 1)) channels.",
              "批归一化：一个通道、全部样本。层归一化：一个样本、全部通道。实例归一化：一个样本、一个通道。组归一化：一个样本、C/G = \(channels / max(groups, 1)) 个通道。"),
        ]
        if tensor != nil {
            caption.append(l("Statistics computed from the given tensor, for the shaded set.", "统计量由给定张量在阴影集合上计算得到。"))
        }
        if let source { caption.append(source) }
        let groupsPart = kinds.contains(.group) ? ", G=\(groups)" : ""
        let frame = FigureFrame(title: l("Normalization methods: N=\(samples), C=\(channels)\(groupsPart)", "归一化方法：N=\(samples)，C=\(channels)\(groupsPart.replacingOccurrences(of: ", ", with: "，"))"),
                                caption: caption, contentWidth: size.width * Double(kinds.count), contentHeight: size.height, text: text)
        var scene = frame.makeScene()
        for (k, kind) in kinds.enumerated() {
            let origin = Point(frame.contentOrigin.x + Double(k) * size.width + 20, frame.contentOrigin.y)
            scene.add(.group("cube-\(kind.rawValue)", cube(kind, at: origin)))
        }
        return scene
    }

    /// One cube with its heading at `origin` (top left), its axes, and the statistics of
    /// the shaded set when there is a tensor.
    func cube(_ kind: NormalizationKind, at origin: Point) -> [Scene.Item] {
        let (cw, hh, dx, dy) = (Self.cellWidth, Self.planeHeight, Self.depthX, Self.depthY)
        let l = text.language
        let ox = origin.x
        let oy = origin.y + 28 + Double(samples) * dy
        let shaded = kind.set(containing: anchor, n: samples, c: channels, groups: groups)
        var items: [Scene.Item] = [.text(heading(kind), at: Point(ox, origin.y + 8), size: Theme.labelSize + 1, color: Theme.ink, bold: true)]
        // Back to front: far samples first, so nearer faces cover them.
        for n in stride(from: samples - 1, through: 0, by: -1) {
            for c in 0..<channels {
                let fill = shaded.contains(SampleChannel(n, c)) ? Self.shade : Self.base
                let x = ox + Double(c) * cw + Double(n) * dx, y = oy - Double(n) * dy
                var faces: [Scene.Item] = [
                    .polyline([Point(x, y), Point(x + cw, y), Point(x + cw + dx, y - dy), Point(x + dx, y - dy)], color: Self.edge, width: 0.6, closed: true, fill: fill.with(alpha: 1)),
                ]
                if c == channels - 1 {
                    faces.append(.polyline([Point(x + cw, y), Point(x + cw + dx, y - dy), Point(x + cw + dx, y - dy + hh), Point(x + cw, y + hh)],
                                           color: Self.edge, width: 0.6, closed: true, fill: fill))
                }
                if n == 0 {
                    faces.append(.polyline([Point(x, y), Point(x + cw, y), Point(x + cw, y + hh), Point(x, y + hh)], color: Self.edge, width: 0.6, closed: true, fill: fill))
                }
                items.append(.group("\(kind.rawValue)/n\(n)-c\(c)", faces))
            }
        }
        // Axes: C along the front, N into the depth, H,W down the side.
        items.append(.text("C", at: Point(ox + Double(channels) * cw / 2, oy + hh + 12), size: Theme.labelSize, color: Theme.ink, anchor: .middle))
        items.append(.text("N", at: Point(ox + Double(channels) * cw + Double(samples) * dx / 2 + 10, oy - Double(samples) * dy / 2 - 6), size: Theme.labelSize, color: Theme.ink))
        items.append(.text("H, W", at: Point(ox - 6, oy + hh / 2), size: Theme.labelSize, color: Theme.ink, anchor: .end))
        if let tensor {
            let s = kind.statistics(tensor, containing: anchor, groups: groups)
            items.append(.group("statistics-\(kind.rawValue)", [
                .text(l(String(format: "mean %.4g, var %.4g", s.mean, s.variance), String(format: "均值 %.4g，方差 %.4g", s.mean, s.variance)),
                      at: Point(ox, oy + hh + 32), size: Theme.smallSize + 1, color: Theme.ink),
                .text(l("over \(s.count) values", "共 \(s.count) 个数值"), at: Point(ox, oy + hh + 46), size: Theme.smallSize + 1, color: Theme.muted),
            ]))
        }
        return items
    }
}
