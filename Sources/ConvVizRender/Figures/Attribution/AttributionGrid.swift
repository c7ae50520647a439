import ConvVizCore
import Foundation

/// Attribution maps drawn over their photos: a row per image (and class), a column per
/// method, each column with a colour bar of its real value range (signed methods on a
/// diverging scale symmetric around 0).
public struct AttributionGrid {
    public struct Row: Sendable {
        /// The photo `[C, H, W]` in [0, 1] at the network's input size (nil: maps alone).
        public var photo: Tensor?
        /// The label left of the row (file and class).
        public var label: String
        /// One map `[H, W]` per method, in column order.
        public var maps: [Tensor]
        public init(photo: Tensor?, label: String, maps: [Tensor]) {
            self.photo = photo
            self.label = label
            self.maps = maps
        }
    }

    public struct Column: Sendable {
        public var name: String
        public var signed: Bool
        public init(name: String, signed: Bool) { self.name = name; self.signed = signed }
    }

    public var columns: [Column]
    public var rows: [Row]
    /// Colormap of unsigned maps; signed maps use `.redBlue`.
    public var colormap: Colormap = .magma
    /// Opacity of the map over the photo.
    public var alpha: Double = 0.6
    public var notes: [String] = []
    public var title: String?
    public var text = FigureText()

    public init(columns: [Column], rows: [Row]) {
        self.columns = columns
        self.rows = rows
    }

    /// Each column's colour range over its rows: [min, max], or [-m, m] when signed.
    public var ranges: [(low: Float, high: Float)] {
        columns.indices.map { c in
            let values = rows.flatMap { $0.maps[c].data }
            if columns[c].signed {
                let m = values.map(abs).max() ?? 0
                return (-m, m)
            }
            return (values.min() ?? 0, values.max() ?? 0)
        }
    }

    public func scene() -> Scene {
        let l = text.language
        let (h, w) = rows.first.map { ($0.maps[0].shape[0], $0.maps[0].shape[1]) } ?? (1, 1)
        let s = max(1, 192 / max(h, w))
        let cellW = Double(w * s), cellH = Double(h * s)
        let labelW = 150.0, gap = 10.0, headerH = Theme.labelSize + 10
        let bar = Colorbar(colormap: colormap, low: 0, high: 1, height: min(cellH, 120))
        let columnW = cellW + bar.width + gap
        let ranges = self.ranges
        let frame = FigureFrame(title: title ?? l("Attribution maps", "归因图"), caption: notes,
                                contentWidth: labelW + Double(columns.count) * columnW,
                                contentHeight: headerH + Double(rows.count) * (cellH + gap), text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        for (c, column) in columns.enumerated() {
            let x = o.x + labelW + Double(c) * columnW
            scene.add(.text(column.name, at: Point(x + cellW / 2, o.y + headerH / 2), size: Theme.labelSize, color: Theme.ink, anchor: .middle, bold: true))
        }
        for (r, row) in rows.enumerated() {
            let y = o.y + headerH + Double(r) * (cellH + gap)
            var items: [Scene.Item] = []
            for (k, line) in row.label.split(separator: "\n").enumerated() {
                items.append(.text(String(line), at: Point(o.x, y + Theme.labelSize / 2 + Double(k) * (Theme.labelSize + 4)), size: Theme.labelSize, color: Theme.ink))
            }
            for (c, column) in columns.enumerated() {
                let x = o.x + labelW + Double(c) * columnW
                let map = column.signed ? Colormap.redBlue : colormap
                let raster = Self.overlay(row.maps[c], photo: row.photo, colormap: map, low: ranges[c].low, high: ranges[c].high, alpha: alpha)
                items.append(.group("map-\(column.name)", [.image(raster, at: Point(x, y), scale: s),
                                                          .rect(Rect(x, y, cellW, cellH), fill: nil, stroke: Theme.muted, lineWidth: 0.5)]))
                if r == 0 {
                    var key = bar
                    key.colormap = map
                    (key.low, key.high) = ranges[c].low < ranges[c].high ? ranges[c] : (ranges[c].low, ranges[c].low + 1)
                    items.append(.group("colorbar-\(column.name)", key.items(at: Point(x + cellW + 4, y))))
                }
            }
            scene.add(.group("row-\(r)", items))
        }
        return scene
    }

    /// The map in colour over the photo (in gray where the photo has one channel).
    static func overlay(_ map: Tensor, photo: Tensor?, colormap: Colormap, low: Float, high: Float, alpha: Double) -> RasterImage {
        let (h, w) = (map.shape[0], map.shape[1])
        var raster = RasterImage(width: w, height: h)
        let span = high > low ? high - low : 1
        let a = photo == nil ? 1 : alpha
        for y in 0..<h { for x in 0..<w {
            let t = (map.data[y * w + x] - low) / span
            let c = colormap.swatch(min(1, max(0, t)))
            var base = Color(1, 1, 1)
            if let p = photo {
                let plane = p.shape[1] * p.shape[2], i = y * p.shape[2] + x
                let r = Double(p.data[i]), g = Double(p.data[(p.shape[0] > 1 ? plane : 0) + i]), b = Double(p.data[(p.shape[0] > 2 ? 2 * plane : 0) + i])
                base = Color(r, g, b)
            }
            raster.set(x, y, Color(base.r * (1 - a) + c.r * a, base.g * (1 - a) + c.g * a, base.b * (1 - a) + c.b * a))
        }}
        return raster
    }
}
