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
    public var title: String?
    public var columns = 8
    public var scale = 4
    /// The user's title and caption, and the language of every other word (the panels'
    /// labels and notes come translated from the caller).
    public var text = FigureText()

    public init(panels: [Panel]) { self.panels = panels }

    public func scene() -> Scene {
        let mosaics = panels.map { panel -> Scene in
            var mosaic = FilterMosaic(weights: panel.weights)
            mosaic.title = panel.label
            mosaic.customCaption = panel.notes
            // The panels speak the figure's language; the user's title is the figure's, not theirs.
            mosaic.text = FigureText(language: text.language)
            mosaic.groupByTaxonomy(panel.taxonomy)
            mosaic.columns = columns
            mosaic.scale = scale
            return mosaic.scene()
        }
        let l = text.language
        let frame = FigureFrame(title: title ?? l("conv1 learned by back-propagation beside k-means on whitened patches", "反向传播学到的 conv1 与白化图块上的 k-means 对比"),
                                caption: [l("Each filter scaled symmetrically around zero (mid-gray = 0) and sorted by class: oriented edges (blue badge, tick along the edge),",
                                            "每个滤波器关于零对称缩放（中灰 = 0），并按类别排序：有方向的边缘（蓝色标记，短线沿边缘方向），"),
                                          l("colour-opponent (orange), centre-surround/blob (green), unstructured (gray). Same taxonomy (FilterTaxonomy) for both panels.",
                                            "颜色对立（橙色）、中心-周围/斑点（绿色）、无结构（灰色）。两个面板使用同一分类（FilterTaxonomy）。")],
                                contentWidth: mosaics.map(\.width).reduce(0, +) - 2 * Theme.margin,
                                contentHeight: (mosaics.map(\.height).max() ?? 0) - Theme.margin, text: text)
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
