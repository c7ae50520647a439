import ConvVizCore
import Foundation

/// The input image with the theoretical receptive field of a unit drawn for every layer
/// up to the chosen one (nested boxes, the zero padding marked), and beside it the
/// effective receptive field as a heat overlay with a contour.
public struct ReceptiveFieldOverlay {
    /// One nested box: the field of the unit of `layer` at the chosen unit's centre.
    public struct Box: Sendable {
        public var layer: String
        /// Inclusive input-pixel bounds; may lie outside the image (padding).
        public var y0: Double, x0: Double, y1: Double, x1: Double
        public var size: String { "\(Int(y1 - y0 + 1))x\(Int(x1 - x0 + 1))" }
    }

    public var image: Tensor
    public var boxes: [Box]
    public var unitLabel: String
    public var effective: EffectiveReceptiveField?
    /// Contour and measured size at this fraction of the effective field's peak.
    public var contourFraction: Float = 0.1
    /// Display pixels per input pixel (nil: about 320 px across).
    public var scale: Int?
    /// Extra caption lines (branches that meet misaligned).
    public var notes: [String] = []
    public var title: String?
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()

    public init(image: Tensor, boxes: [Box], unitLabel: String) {
        self.image = image
        self.boxes = boxes
        self.unitLabel = unitLabel
    }

    /// The boxes of the conv/pool layers on the main path to `layer` (the longest, so a
    /// ResNet's stages and not its shortcuts), for the unit of that layer. Beyond
    /// `limit` boxes, only the last layer of each resolution and the final one are kept.
    public static func boxes(table: ShapeTable, layer: Int, unit: (y: Int, x: Int), limit: Int = 8) -> [Box] {
        let last = table.rows[layer]
        let cy = last.center[0] + Double(unit.y) * last.jump[0], cx = last.center[1] + Double(unit.x) * last.jump[1]
        var path = table.mainPath(to: layer).filter { table.rows[$0].window != nil || ($0 == layer && table.rows[$0].inputs.count > 1) }
        if path.count > limit { path = table.stages(along: path).map(\.end) }
        var boxes: [Box] = []
        for i in path {
            let row = table.rows[i]
            // This layer's unit nearest to the chosen unit's centre.
            let uy = ((cy - row.center[0]) / row.jump[0]).rounded(), ux = ((cx - row.center[1]) / row.jump[1]).rounded()
            let f = table.field(row: i, unit: (Int(uy), Int(ux)))
            boxes.append(Box(layer: row.name, y0: f.y0, x0: f.x0, y1: f.y1, x1: f.x1))
        }
        return boxes
    }

    public func scene() -> Scene {
        let (h, w) = (image.shape[1], image.shape[2])
        let s = Double(scale ?? max(1, 320 / max(h, w)))
        // Room around the image for boxes that reach into the padding.
        let overflow = boxes.reduce(0.0) { max($0, -$1.y0, -$1.x0, $1.y1 - Double(h - 1), $1.x1 - Double(w - 1)) }
        let pad = ceil(overflow) * s
        let panelW = Double(w) * s + 2 * pad, panelH = Double(h) * s + 2 * pad
        let legendH = Double(boxes.count) * (Theme.labelSize + 6)
        let panelTitleH = Theme.labelSize + 8
        let hasERF = effective != nil
        let l = text.language
        let fields = boxes.map { "\($0.layer) \($0.size)" }.joined(separator: l.listSeparator)
        var caption = [l("Theoretical receptive field of \(unitLabel), layer by layer: \(fields).", "\(unitLabel) 的理论感受野，逐层：\(fields)。")]
        if pad > 0 { caption.append(l("Hatched: zero padding (outside the image).", "斜线区域：零填充（图像之外）。")) }
        caption += notes
        if let e = effective, let box = e.extent(fraction: contourFraction) {
            let measured = "\(box.y1 - box.y0 + 1)x\(box.x1 - box.x0 + 1)", percent = Int(contourFraction * 100), theory = boxes.last?.size ?? "-"
            caption.append(l("Effective field (Luo et al. 2016, |d unit/d input|): \(measured) at \(percent)% of its peak, against a theoretical \(theory).",
                             "有效感受野（Luo 等，2016，|d 单元/d 输入|）：在峰值的 \(percent)% 处为 \(measured)，理论感受野为 \(theory)。"))
        }
        let frame = FigureFrame(title: title ?? l("Receptive field of \(unitLabel)", "\(unitLabel) 的感受野"), caption: caption,
                                contentWidth: panelW * (hasERF ? 2 : 1) + (hasERF ? 24 : 0), contentHeight: panelTitleH + panelH + 8 + legendH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        let imageOrigin = Point(o.x + pad, o.y + panelTitleH + pad)
        scene.add(.text(l("theoretical field", "理论感受野"), at: Point(o.x, o.y + panelTitleH / 2), size: Theme.labelSize, color: Theme.ink, bold: true))
        if pad > 0 { scene.add(.group("padding", Self.hatch(Rect(o.x, o.y + panelTitleH, panelW, panelH), hole: Rect(imageOrigin.x, imageOrigin.y, Double(w) * s, Double(h) * s)))) }
        scene.add(.group("image", [.image(RasterImage(image: image), at: imageOrigin, scale: Int(s))]))
        for (i, b) in boxes.enumerated() {
            let color = Theme.series[i % Theme.series.count]
            let r = Rect(imageOrigin.x + b.x0 * s, imageOrigin.y + b.y0 * s, (b.x1 - b.x0 + 1) * s, (b.y1 - b.y0 + 1) * s)
            let ly = o.y + panelTitleH + panelH + 8 + Double(i) * (Theme.labelSize + 6) + Theme.labelSize / 2
            scene.add(.group("box-\(b.layer)", [
                .rect(r, fill: nil, stroke: .white, lineWidth: 3.5),
                .rect(r, fill: nil, stroke: color, lineWidth: 2),
                .rect(Rect(o.x, ly - 5, 10, 10), fill: color),
                .text(l("\(b.layer): \(b.size), rows \(Self.num(b.y0))...\(Self.num(b.y1)), columns \(Self.num(b.x0))...\(Self.num(b.x1))",
                        "\(b.layer)：\(b.size)，行 \(Self.num(b.y0))...\(Self.num(b.y1))，列 \(Self.num(b.x0))...\(Self.num(b.x1))"), at: Point(o.x + 16, ly), size: Theme.labelSize, color: Theme.ink),
            ]))
        }
        if let e = effective {
            let ox = o.x + panelW + 24
            let eo = Point(ox + pad, imageOrigin.y)
            scene.add(.text(l("effective field", "有效感受野"), at: Point(ox, o.y + panelTitleH / 2), size: Theme.labelSize, color: Theme.ink, bold: true))
            scene.add(.group("effective", Self.heat(e, image: image, at: eo, scale: s, fraction: contourFraction, finalBox: boxes.last)))
        }
        return scene
    }

    static func num(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }

    /// Diagonal hatching over `area` outside `hole`.
    static func hatch(_ area: Rect, hole: Rect) -> [Scene.Item] {
        var items: [Scene.Item] = [.rect(area, fill: Color(0.93, 0.93, 0.95))]
        var t = -area.height
        while t < area.width {
            items.append(.polyline([Point(area.x + max(t, 0), area.y + max(-t, 0)),
                                    Point(area.x + min(t + area.height, area.width), area.y + min(area.height, area.width - t))],
                                   color: Color(0.78, 0.78, 0.82), width: 0.8))
            t += 6
        }
        items.append(.rect(hole, fill: .white))
        return items
    }

    /// The image in gray with |gradient| (normalized to the peak) in magma on top,
    /// the contour at `fraction` of the peak and the theoretical box dashed.
    static func heat(_ e: EffectiveReceptiveField, image: Tensor, at origin: Point, scale s: Double, fraction: Float, finalBox: Box?) -> [Scene.Item] {
        let (h, w) = (e.map.shape[0], e.map.shape[1])
        let gray = ImageResize.channels(image, 1)
        var raster = RasterImage(width: w, height: h)
        let lut = Colormap.magma
        for i in 0..<(h * w) {
            let t = e.peak > 0 ? e.map.data[i] / e.peak : 0
            let c = lut.color(t)!
            let g = Double(gray.data[i]) * 0.6 + 0.2
            // Blend: the image shows through where the gradient is weak.
            let a = Double(min(1, t * 1.5))
            raster.set(i % w, i / w, Color(g * (1 - a) + Double(c.r) / 255 * a, g * (1 - a) + Double(c.g) / 255 * a, g * (1 - a) + Double(c.b) / 255 * a))
        }
        var items: [Scene.Item] = [.image(raster, at: origin, scale: Int(s))]
        for segment in Contour.segments(e.map, level: fraction * e.peak) {
            items.append(.polyline(segment.map { Point(origin.x + ($0.x + 0.5) * s, origin.y + ($0.y + 0.5) * s) }, color: Color(0.2, 0.9, 1.0), width: 1.5))
        }
        if let b = finalBox {
            let r = Rect(origin.x + b.x0 * s, origin.y + b.y0 * s, (b.x1 - b.x0 + 1) * s, (b.y1 - b.y0 + 1) * s)
            items.append(.polyline([Point(r.x, r.y), Point(r.maxX, r.y), Point(r.maxX, r.maxY), Point(r.x, r.maxY)], color: .white, width: 1, closed: true, dash: [4, 3]))
        }
        return items
    }
}

/// Marching squares: the line segments where a 2-D field `[H, W]` crosses `level`, in
/// pixel-centre coordinates.
public enum Contour {
    public static func segments(_ field: Tensor, level: Float) -> [[Point]] {
        let (h, w) = (field.shape[0], field.shape[1])
        var out: [[Point]] = []
        func v(_ y: Int, _ x: Int) -> Float { field.data[y * w + x] }
        func lerp(_ a: Float, _ b: Float) -> Double { a == b ? 0.5 : Double((level - a) / (b - a)) }
        for y in 0..<(h - 1) {
            for x in 0..<(w - 1) {
                let a = v(y, x), b = v(y, x + 1), c = v(y + 1, x + 1), d = v(y + 1, x)
                var pts: [Point] = []
                if (a >= level) != (b >= level) { pts.append(Point(Double(x) + lerp(a, b), Double(y))) }
                if (b >= level) != (c >= level) { pts.append(Point(Double(x + 1), Double(y) + lerp(b, c))) }
                if (d >= level) != (c >= level) { pts.append(Point(Double(x) + lerp(d, c), Double(y + 1))) }
                if (a >= level) != (d >= level) { pts.append(Point(Double(x), Double(y) + lerp(a, d))) }
                if pts.count == 2 { out.append(pts) } else if pts.count == 4 { out.append([pts[0], pts[1]]); out.append([pts[2], pts[3]]) }
            }
        }
        return out
    }
}
