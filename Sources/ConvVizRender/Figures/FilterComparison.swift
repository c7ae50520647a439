import ConvVizCore

/// Two sets of first-layer filters side by side, each a mosaic sorted by taxonomy class
/// with badges and its own caption lines (e.g. its class fractions): what SGD learned
/// next to what k-means on whitened patches finds from the same photographs.
public struct FilterComparison {
    public struct Panel {
        public var label: String
        public var weights: Tensor
        public var taxonomy: FilterTaxonomy
        /// Lines under the panel (what made these filters, their class fractions).
        public var notes: [String]
        public init(label: String, weights: Tensor, taxonomy: FilterTaxonomy, notes: [String]) {
            self.label = label; self.weights = weights; self.taxonomy = taxonomy; self.notes = notes
        }
    }

    public var panels: [Panel]
    public var title = "conv1 learned by back-propagation beside k-means on whitened patches"
    public var columns = 8
    public var scale = 4

    public init(panels: [Panel]) { self.panels = panels }

    public func scene() -> Scene {
        let mosaics = panels.map { panel -> Scene in
            var mosaic = FilterMosaic(weights: panel.weights)
            mosaic.title = panel.label
            mosaic.customCaption = panel.notes
            mosaic.groupByTaxonomy(panel.taxonomy)
            mosaic.columns = columns
            mosaic.scale = scale
            return mosaic.scene()
        }
        let frame = FigureFrame(title: title,
                                caption: ["Each filter scaled symmetrically around zero (mid-gray = 0) and sorted by class: oriented edges (blue badge, tick along the edge),",
                                          "colour-opponent (orange), centre-surround/blob (green), unstructured (gray). Same taxonomy (FilterTaxonomy) for both panels."],
                                contentWidth: mosaics.map(\.width).reduce(0, +) - 2 * Theme.margin,
                                contentHeight: (mosaics.map(\.height).max() ?? 0) - Theme.margin)
        var scene = frame.makeScene()
        // Each mosaic keeps its own margins: the first starts at the scene's left edge.
        var x = frame.contentOrigin.x - Theme.margin
        for (index, mosaic) in mosaics.enumerated() {
            let offset = Point(x, frame.contentOrigin.y - Theme.margin)
            scene.add(.group("panel-\(index)", mosaic.items.map { $0.offset(by: offset) }))
            x += mosaic.width
        }
        return scene
    }
}

extension Scene.Item {
    /// The same item moved by `d`.
    func offset(by d: Point) -> Scene.Item {
        let move = { (p: Point) in Point(p.x + d.x, p.y + d.y) }
        switch self {
        case let .rect(r, fill, stroke, lineWidth): return .rect(Rect(r.x + d.x, r.y + d.y, r.width, r.height), fill: fill, stroke: stroke, lineWidth: lineWidth)
        case let .image(image, at, scale): return .image(image, at: move(at), scale: scale)
        case let .text(s, at, size, color, anchor, bold): return .text(s, at: move(at), size: size, color: color, anchor: anchor, bold: bold)
        case let .polyline(points, color, width, closed, fill, dash): return .polyline(points.map(move), color: color, width: width, closed: closed, fill: fill, dash: dash)
        case let .group(name, items): return .group(name, items.map { $0.offset(by: d) })
        }
    }
}
