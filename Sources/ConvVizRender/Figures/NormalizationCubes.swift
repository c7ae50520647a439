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
    /// The plane whose set is shaded.
    public var anchor = SampleChannel(0, 0)

    public static let shade = Color(0.27, 0.51, 0.85), base = Color(0.94, 0.95, 0.97), edge = Color(0.35, 0.37, 0.42)

    public init() {}

    public func scene() -> Scene {
        let cw = 20.0, hh = 120.0, dx = 11.0, dy = 8.0
        let cubeW = Double(channels) * cw + Double(samples) * dx, cubeH = hh + Double(samples) * dy
        let panelW = max(cubeW + 50, 170), panelH = cubeH + 90
        var caption = ["Shaded: the values that share one mean and variance (all of H and W, always)."]
        caption.append("BN: one channel, all samples. LN: one sample, all channels. IN: one sample, one channel. GN: one sample, C/G = \(channels / max(groups, 1)) channels.")
        if tensor != nil { caption.append("Statistics computed from the given tensor, for the shaded set.") }
        let frame = FigureFrame(title: "Normalization methods: N=\(samples), C=\(channels)\(kinds.contains(.group) ? ", G=\(groups)" : "")",
                                caption: caption, contentWidth: panelW * Double(kinds.count), contentHeight: panelH)
        var scene = frame.makeScene()
        for (k, kind) in kinds.enumerated() {
            let ox = frame.contentOrigin.x + Double(k) * panelW + 20
            let oy = frame.contentOrigin.y + 28 + Double(samples) * dy
            let shaded = kind.set(containing: anchor, n: samples, c: channels, groups: groups)
            var items: [Scene.Item] = [.text(kind == .group ? "Group Norm (G=\(groups))" : kind.title, at: Point(ox, frame.contentOrigin.y + 8), size: Theme.labelSize + 1, color: Theme.ink, bold: true)]
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
                items.append(.text(String(format: "mean %.4g, var %.4g", s.mean, s.variance), at: Point(ox, oy + hh + 32), size: Theme.smallSize + 1, color: Theme.ink))
                items.append(.text("over \(s.count) values", at: Point(ox, oy + hh + 46), size: Theme.smallSize + 1, color: Theme.muted))
            }
            scene.add(.group("cube-\(kind.rawValue)", items))
        }
        return scene
    }
}
