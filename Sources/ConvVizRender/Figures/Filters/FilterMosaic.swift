import Foundation
import ConvVizCore

/// A mosaic of convolution filters `[C_out, C_in, K_h, K_w]`, the classic picture of
/// what a first layer learned.
///
/// With three input channels each filter is drawn in colour; otherwise in gray (the
/// mean over input channels), or as one gray strip per input channel on request. By default each filter is scaled symmetrically around zero,
/// so 0 is mid-gray and opposite signs read as opposite colours.
public struct FilterMosaic {
    public enum Normalization: String, CaseIterable, Sendable {
        case filterSymmetric = "filter-symmetric", filterMinMax = "filter-minmax"
        case globalSymmetric = "global-symmetric", globalMinMax = "global-minmax"

        func description(_ l: Language) -> String {
            switch self {
            case .filterSymmetric: l("each filter scaled by its own max |w|; mid-gray = 0", "每个滤波器按自身最大 |w| 缩放，中灰 = 0")
            case .filterMinMax: l("each filter stretched from its own min to max", "每个滤波器从自身最小值拉伸到最大值")
            case .globalSymmetric: l("all filters scaled by the global max |w|; mid-gray = 0", "所有滤波器按全局最大 |w| 缩放，中灰 = 0")
            case .globalMinMax: l("all filters stretched from the global min to max", "所有滤波器从全局最小值拉伸到最大值")
            }
        }
    }

    public enum ChannelMode: String, CaseIterable, Sendable {
        /// RGB when C_in = 3, otherwise gray: the mean over input channels.
        case auto
        /// One gray strip per input channel.
        case strips
    }

    /// What a badge under a filter says (from the filter taxonomy, when given).
    public struct Badge: Sendable {
        public var text: String
        public var color: Color
        /// Orientation of an edge in degrees (0 = vertical edge...), drawn as a tick.
        public var orientation: Double?
        public init(text: String, color: Color, orientation: Double? = nil) { self.text = text; self.color = color; self.orientation = orientation }
    }

    public var weights: Tensor
    /// nil: "Filters" in the figure's language.
    public var title: String?
    /// Caption lines replacing the default ones (size, colour mode, normalization).
    public var customCaption: [String]?
    /// Lines added to the caption (how the filters were ordered, which page this is).
    public var notes: [String] = []
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()
    /// Most bytes the figure may take as SVG (`FigureLimits.maxSVGBytes`); nil when it is
    /// not written as SVG. Past it, fewer filters are drawn and the caption says which.
    public var maxSVGBytes: Int?
    public var normalization: Normalization = .filterSymmetric
    public var channelMode: ChannelMode = .auto
    public var scale: Int = 8
    public var gap: Int = 2
    public var background: Color = .white
    public var columns: Int?
    public var labels: Bool = false
    /// Filter indices in drawing order (e.g. sorted by class); nil = 0..<C_out.
    public var order: [Int]?
    public var badges: [Int: Badge] = [:]
    /// Most pixels the mosaic may have; a larger request is scaled down, with a warning.
    public var maxPixels: Int = 40_000_000
    /// Most pixels on a side (`FigureLimits.maxSide`): a larger figure is drawn at a smaller
    /// scale, then with fewer filters (the caption says which).
    public var maxSide: Int = FigureLimits.maxSide
    /// Input channels to draw, in order (nil = all); the caption names them.
    public var channels: [Int]?

    public init(weights: Tensor) {
        precondition(weights.rank == 4, "filters must be [C_out, C_in, K_h, K_w]")
        self.weights = weights
    }

    var colour: Bool { channelMode == .auto && (channels?.count ?? weights.shape[1]) == 3 }
    var strips: Int { channelMode == .strips ? (channels?.count ?? weights.shape[1]) : 1 }

    /// Problems worth telling the user about (constant or non-finite filters, downscaling).
    public private(set) var warnings: [String] = []

    /// Builds the scene; `warnings` then lists anything drawn marked.
    public mutating func scene() -> Scene {
        warnings = []
        let weights = channels.map { self.weights.kernels(channels: $0) } ?? self.weights
        let (count, cin, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        let requestedOrder = self.order ?? Array(0..<count)
        let labelHeight = labels || !badges.isEmpty ? Theme.smallSize + 6 : 0
        let limit = FigureLimits.contentLimit(maxSide)
        // Strips wider than the page even at x1 are cut to the channels that fit.
        let strips = min(self.strips, max(1, (Int(limit.width) + 1) / (kw + 1)))
        let cellW = { (s: Int) in kw * s * strips + (strips - 1) * max(1, s / 2) }
        func grid(_ s: Int, _ n: Int) -> (cols: Int, rows: Int) {
            let fitting = max(1, Int((limit.width + Double(gap)) / Double(cellW(s) + gap)))
            let cols = max(1, min(columns ?? Int(Double(n).squareRoot().rounded(.up)), max(n, 1), fitting))
            return (cols, (n + cols - 1) / cols)
        }
        func fitsSide(_ s: Int, _ n: Int) -> Bool {
            let (cols, rows) = grid(s, n)
            let w = (cellW(s) + gap) * cols - gap, h = Double((kh * s + gap) * rows) + labelHeight * Double(rows) - Double(gap)
            return Double(w) <= limit.width && h <= limit.height && (cellW(s) + gap) * cols * (kh * s + gap) * rows <= maxPixels
        }
        // Strips are upscaled into their raster, so a smaller scale makes a smaller SVG;
        // colour and gray tiles are scaled by the viewer and cost the same at any scale.
        func fitsBytes(_ s: Int, _ n: Int) -> Bool {
            guard let maxSVGBytes else { return true }
            let tile = strips > 1 ? FigureLimits.svgImageBytes(width: cellW(s), height: kh * s, distinct: strips * kh * kw)
                                  : FigureLimits.svgImageBytes(width: kw, height: kh, distinct: kh * kw)
            let label = labels || !badges.isEmpty ? FigureLimits.svgTextBytes(characters: 4) : 0
            return FigureLimits.svgFrameBytes + n * (tile + label + 200) <= maxSVGBytes
        }
        func fits(_ s: Int, _ n: Int) -> Bool { fitsSide(s, n) && fitsBytes(s, n) }
        var scale = max(1, self.scale)
        while scale > 1 && (!fitsSide(scale, requestedOrder.count) || (strips > 1 && !fitsBytes(scale, requestedOrder.count))) { scale -= 1 }
        let drawnCount = fits(scale, requestedOrder.count) ? requestedOrder.count : FigureLimits.largest(upTo: requestedOrder.count) { fits(scale, $0) }
        // Whole at this scale but for the SVG budget: the note names the budget, not the size.
        let svgLimited = fitsSide(scale, requestedOrder.count) && !fitsBytes(scale, requestedOrder.count)
        let order = Array(requestedOrder.prefix(drawnCount))
        let l = text.language
        var notes: [String] = []
        if scale < self.scale {
            warnings.append("mosaic scaled down from x\(self.scale) to x\(scale) to stay under \(maxSide) px a side and \(maxPixels) pixels")
            notes.append(l("Scaled to x\(scale) (from x\(self.scale)) to stay under \(maxSide) px a side.", "放大倍数由 \(self.scale) 降为 \(scale)，使每边不超过 \(maxSide) 像素。"))
        }
        if drawnCount < requestedOrder.count {
            let list = IndexSelection.describe(order)
            let fewer = FigureLimits.fewerDrawn(("filters \(list) of \(requestedOrder.count)", "\(requestedOrder.count) 个滤波器中的 \(list)"),
                                                svgBudget: svgLimited ? maxSVGBytes : nil, tiles: "filters", select: "--filters", maxSide: maxSide, language: l)
            warnings.append(fewer.warning)
            notes.append(fewer.note)
        }
        if strips < self.strips {
            warnings.append("too many input channels for \(maxSide) px a side: drew channels 0–\(strips - 1) of \(self.strips)")
            notes.append(l("Strips of input channels 0–\(strips - 1) of \(self.strips) drawn.", "绘制了 \(self.strips) 个输入通道中第 0–\(strips - 1) 个的灰度条。"))
        }
        if let channels { notes.append(l("Input channels \(IndexSelection.describe(channels)).", "输入通道 \(IndexSelection.describe(channels))。")) }
        notes += self.notes
        let (cols, rows) = grid(scale, order.count)
        let cellWidth = Double(cellW(scale)), cellHeight = Double(kh * scale)
        let stepX = cellWidth + Double(gap), stepY = cellHeight + Double(gap) + labelHeight
        let plane = kh * kw
        let perFilter = cin * plane

        let stats = weights.data.withUnsafeBufferPointer { w in (0..<count).map { FilterStats(w[($0 * perFilter)..<(($0 + 1) * perFilter)]) } }
        let global = FilterStats(merging: stats)
        for (i, s) in stats.enumerated() {
            if s.nonFinite > 0 { warnings.append("filter \(i) has \(s.nonFinite) NaN/Inf weights (drawn marked)") }
            else if s.isConstant { warnings.append("filter \(i) is constant (\(s.maxValue)); drawn mid-gray, marked") }
        }

        let frame = FigureFrame(title: title ?? l("Filters", "滤波器"), caption: (customCaption ?? caption(count: order.count, cin: cin, kh: kh, kw: kw, scale: scale)) + notes,
                                contentWidth: stepX * Double(cols) - Double(gap), contentHeight: stepY * Double(rows) - Double(gap), text: text)
        var scene = frame.makeScene()
        scene.background = background
        let origin = frame.contentOrigin
        for (slot, index) in order.enumerated() {
            let x = origin.x + Double(slot % cols) * stepX, y = origin.y + Double(slot / cols) * stepY
            let s = stats[index]
            let (low, high) = range(s, global)
            var items: [Scene.Item] = []
            weights.data.withUnsafeBufferPointer { w in
                let filter = UnsafeBufferPointer(rebasing: w[(index * perFilter)..<((index + 1) * perFilter)])
                if colour {
                    items.append(.image(rgbRaster(filter, kh: kh, kw: kw, low: low, high: high), at: Point(x, y), scale: scale))
                } else if strips == 1 {
                    // The mean over input channels, on the filter's own value range.
                    var mean = [Float](repeating: 0, count: plane)
                    for c in 0..<cin { for i in 0..<plane { mean[i] += filter[c * plane + i] / Float(cin) } }
                    let m = FilterStats(mean)
                    let r = normalization == .filterSymmetric || normalization == .globalSymmetric
                        ? (cin == 1 ? (low, high) : (-max(m.maxAbs, 1e-12), max(m.maxAbs, 1e-12)))
                        : (cin == 1 ? (low, high) : (m.minValue, max(m.maxValue, m.minValue + 1e-12)))
                    items.append(.image(mean.withUnsafeBufferPointer { Colormap.gray.raster($0, width: kw, height: kh, low: r.0, high: r.1) }, at: Point(x, y), scale: scale))
                } else {
                    // One raster per filter (not one per strip): a 512-channel layer stays
                    // 512 images in SVG and PDF.
                    items.append(.image(stripRaster(filter, strips: strips, kh: kh, kw: kw, scale: scale, low: low, high: high), at: Point(x, y)))
                }
            }
            if s.nonFinite > 0 || s.isConstant {
                // A dashed magenta frame (and a cross for NaN/Inf) that no weight colour can be mistaken for.
                let r = Rect(x + 0.5, y + 0.5, cellWidth - 1, cellHeight - 1)
                items.append(.polyline([Point(r.x, r.y), Point(r.maxX, r.y), Point(r.maxX, r.maxY), Point(r.x, r.maxY)], color: Theme.warning,
                                       width: 1.5, closed: true, dash: [3, 2]))
                if s.nonFinite > 0 {
                    items.append(.polyline([Point(r.x, r.y), Point(r.maxX, r.maxY)], color: Theme.warning, width: 1.5))
                    items.append(.polyline([Point(r.maxX, r.y), Point(r.x, r.maxY)], color: Theme.warning, width: 1.5))
                }
            }
            let labelY = y + cellHeight + 3 + Theme.smallSize / 2
            if labels {
                items.append(.text("\(index)", at: Point(x, labelY), size: Theme.smallSize, color: Theme.muted))
            }
            if let badge = badges[index] {
                items.append(contentsOf: badgeItems(badge, right: x + cellWidth, centerY: labelY))
            }
            scene.add(.group("filter-\(index)", items))
        }
        return scene
    }

    /// The first `strips` channels of a filter side by side, upscaled, separated by
    /// transparent gaps of max(1, scale/2) pixels.
    private func stripRaster(_ filter: UnsafeBufferPointer<Float>, strips: Int, kh: Int, kw: Int, scale: Int, low: Float, high: Float) -> RasterImage {
        let plane = kh * kw, sep = max(1, scale / 2), stripW = kw * scale
        var image = RasterImage(width: stripW * strips + (strips - 1) * sep, height: kh * scale)
        for c in 0..<strips {
            let tile = Colormap.gray.raster(UnsafeBufferPointer(rebasing: filter[(c * plane)..<((c + 1) * plane)]), width: kw, height: kh, low: low, high: high)
            let x0 = c * (stripW + sep)
            for y in 0..<(kh * scale) { for x in 0..<stripW {
                let src = 4 * ((y / scale) * kw + x / scale), dst = 4 * (y * image.width + x0 + x)
                for k in 0..<4 { image.pixels[dst + k] = tile.pixels[src + k] }
            }}
        }
        return image
    }

    private func badgeItems(_ badge: Badge, right: Double, centerY: Double) -> [Scene.Item] {
        var items: [Scene.Item] = [.rect(Rect(right - 8, centerY - 4, 8, 8), fill: badge.color)]
        if let angle = badge.orientation {
            // The tick runs along the edge: perpendicular to the gradient direction.
            let a = (angle + 90) * Double.pi / 180, c = Point(right - 16, centerY)
            items.append(.polyline([Point(c.x - 4 * cos(a), c.y + 4 * sin(a)), Point(c.x + 4 * cos(a), c.y - 4 * sin(a))], color: Theme.ink, width: 1.2))
        }
        return items
    }

    private func caption(count: Int, cin: Int, kh: Int, kw: Int, scale: Int) -> [String] {
        let l = text.language
        let mode = colour ? l("RGB", "RGB 彩色")
            : (strips > 1 ? l("one gray strip per input channel", "每个输入通道一条灰度条")
               : (cin == 1 ? l("gray", "灰度") : l("gray, mean over the \(cin) input channels", "灰度，\(cin) 个输入通道的均值")))
        return [l("\(count) filters of \(cin)x\(kh)x\(kw), \(mode), x\(scale) nearest-neighbour.", "\(count) 个 \(cin)x\(kh)x\(kw) 的滤波器，\(mode)，最近邻放大 \(scale) 倍。"),
                l("Normalization: \(normalization.rawValue) (\(normalization.description(l))).", "归一化：\(normalization.rawValue)（\(normalization.description(l))）。")]
    }

    /// The value range mapped onto [0, 1] for one filter.
    private func range(_ s: FilterStats, _ global: FilterStats) -> (Float, Float) {
        switch normalization {
        case .filterSymmetric: let m = s.maxAbs; return m > 0 ? (-m, m) : (-1, 1)
        case .globalSymmetric: let m = global.maxAbs; return m > 0 ? (-m, m) : (-1, 1)
        case .filterMinMax: return s.maxValue > s.minValue ? (s.minValue, s.maxValue) : (s.minValue - 1, s.minValue + 1)
        case .globalMinMax: return global.maxValue > global.minValue ? (global.minValue, global.maxValue) : (global.minValue - 1, global.minValue + 1)
        }
    }

    private func rgbRaster(_ filter: UnsafeBufferPointer<Float>, kh: Int, kw: Int, low: Float, high: Float) -> RasterImage {
        var image = RasterImage(width: kw, height: kh)
        let plane = kh * kw
        for i in 0..<plane {
            let rgb = (0..<3).map { c -> Float in filter[c * plane + i] }
            if rgb.allSatisfy(\.isFinite) {
                // In Double: a span of ±3e38 overflows Float to infinity, and inf/inf is NaN.
                for c in 0..<3 { image.pixels[4 * i + c] = RasterImage.byte((Double(rgb[c]) - Double(low)) / (Double(high) - Double(low))) }
            } else {
                image.pixels[4 * i] = 255; image.pixels[4 * i + 1] = 0; image.pixels[4 * i + 2] = 255
            }
            image.pixels[4 * i + 3] = 255
        }
        return image
    }
}

/// Min, max and max |w| over the finite weights of a filter, and how many are not finite.
struct FilterStats {
    var minValue: Float = .infinity, maxValue: Float = -.infinity, nonFinite = 0
    var maxAbs: Float { max(abs(minValue.isFinite ? minValue : 0), abs(maxValue.isFinite ? maxValue : 0)) }
    var isConstant: Bool { nonFinite == 0 && minValue == maxValue }

    init<C: Collection>(_ values: C) where C.Element == Float {
        for v in values {
            if v.isFinite { minValue = min(minValue, v); maxValue = max(maxValue, v) } else { nonFinite += 1 }
        }
    }

    init(merging all: [FilterStats]) {
        for s in all { minValue = min(minValue, s.minValue); maxValue = max(maxValue, s.maxValue); nonFinite += s.nonFinite }
    }
}

extension FilterMosaic {
    /// The badge colour of each taxonomy class.
    public static let classColors: [FilterTaxonomy.Kind: Color] = [
        .edge: Theme.series[0], .colorOpponent: Theme.series[1], .blob: Theme.series[2], .unstructured: Theme.grid,
    ]

    /// Orders the filters by class (edges, colour-opponent, blobs, unstructured; each by
    /// orientation) and puts a badge under each: its class colour, and for edges a tick
    /// along the edge.
    public mutating func groupByTaxonomy(_ taxonomy: FilterTaxonomy) {
        order = FilterTaxonomy.Kind.allCases.flatMap { kind in
            taxonomy.entries.filter { $0.kind == kind }.sorted { $0.orientation < $1.orientation }.map(\.index)
        }
        for e in taxonomy.entries {
            badges[e.index] = Badge(text: e.kind.rawValue, color: Self.classColors[e.kind]!, orientation: e.kind == .edge ? e.orientation : nil)
        }
    }
}
