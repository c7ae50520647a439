import ConvVizCore
import Foundation

/// Every kernel of a deep layer: one filter per row, one input channel per column, each
/// cell the K x K kernel `w[f, c]` on one diverging colour scale symmetric around 0 (blue
/// negative, white 0, red positive) with a colour bar. For 1x1 kernels the cells touch and
/// the figure is the C_out x C_in heat map of the layer's channel-mixing matrix.
///
/// The whole grid is one raster, so a 512 x 512 x 3 x 3 layer is one embedded image in
/// SVG and PDF, not 262,144.
public struct KernelGrid {
    public var weights: Tensor
    public var title: String?
    /// Filters (rows) and input channels (columns) to draw, in order; nil = all.
    public var filters: [Int]?
    public var channels: [Int]?
    /// Pixels per kernel value; nil picks 8 for 1x1 kernels and 5 otherwise.
    public var scale: Int?
    /// Pixels between cells; nil: 0 for 1x1 kernels, else 1.
    public var gap: Int?
    public var colormap: Colormap = .redBlue
    public var maxSide: Int = FigureLimits.maxSide
    public var maxPixels: Int = 40_000_000
    /// Most bytes the figure may take as SVG; nil when it is not written as SVG. Past it,
    /// fewer filters are drawn and the caption says which.
    public var maxSVGBytes: Int?
    /// Lines added to the caption (how the rows were ordered, which page this is).
    public var notes: [String] = []
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()
    public private(set) var warnings: [String] = []
    /// After `scene()`: where cell (row 0, column 0) starts and the distance between cells.
    public private(set) var gridOrigin = Point(0, 0)
    public private(set) var cellStep = (x: 0.0, y: 0.0)
    public private(set) var drawnScale = 1

    public init(weights: Tensor) {
        precondition(weights.rank == 4, "kernels must be [C_out, C_in, K_h, K_w]")
        self.weights = weights
    }

    public var isHeatMap: Bool { weights.shape[2] == 1 && weights.shape[3] == 1 }

    public mutating func scene() -> Scene {
        warnings = []
        let (co, ci, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        var rowsWanted = filters ?? Array(0..<co), colsWanted = channels ?? Array(0..<ci)
        let gap = max(0, self.gap ?? (isHeatMap ? 0 : 1))
        let rowLabelW = 34.0, colLabelH = Theme.smallSize + 8
        let limit = FigureLimits.contentLimit(maxSide)
        let barW = 72.0
        func size(_ s: Int, _ r: Int, _ c: Int) -> (Double, Double) {
            (Double(c * (kw * s + gap) - gap), Double(r * (kh * s + gap) - gap))
        }
        func fitsSide(_ s: Int, _ r: Int, _ c: Int) -> Bool {
            let (w, h) = size(s, r, c)
            return rowLabelW + w + barW <= limit.width && colLabelH + h <= limit.height && Int(w * h) <= maxPixels
        }
        // One raster of r x c kernels, labels on rows and columns.
        func fitsBytes(_ s: Int, _ r: Int, _ c: Int) -> Bool {
            guard let maxSVGBytes else { return true }
            let (w, h) = size(s, r, c)
            let bytes = FigureLimits.svgFrameBytes + FigureLimits.svgImageBytes(width: Int(w), height: Int(h), distinct: r * c * kh * kw)
                + (r + c) * FigureLimits.svgTextBytes(characters: 3)
            return bytes <= maxSVGBytes
        }
        func fits(_ s: Int, _ r: Int, _ c: Int) -> Bool { fitsSide(s, r, c) && fitsBytes(s, r, c) }
        var scale = max(1, self.scale ?? (isHeatMap ? 8 : 5))
        let requestedScale = scale
        while scale > 1 && !fitsSide(scale, rowsWanted.count, colsWanted.count) { scale -= 1 }
        let l = text.language
        var notes: [String] = []
        if scale < requestedScale {
            warnings.append("kernel grid scaled down from x\(requestedScale) to x\(scale) to stay under \(maxSide) px a side and \(maxPixels) pixels")
            notes.append(l("Scaled to x\(scale) (from x\(requestedScale)) to stay under \(maxSide) px a side.", "放大倍数由 \(requestedScale) 降为 \(scale)，使每边不超过 \(maxSide) 像素。"))
        }
        if !fits(scale, rowsWanted.count, colsWanted.count) {
            let svgLimited = fitsSide(scale, rowsWanted.count, colsWanted.count)
            let allRows = rowsWanted.count, allCols = colsWanted.count
            let c = FigureLimits.largest(upTo: allCols) { fits(scale, 1, $0) }
            let r = FigureLimits.largest(upTo: allRows) { fits(scale, $0, c) }
            rowsWanted = Array(rowsWanted.prefix(r)); colsWanted = Array(colsWanted.prefix(c))
            let rows = IndexSelection.describe(rowsWanted), cols = IndexSelection.describe(colsWanted)
            let fewer = FigureLimits.fewerDrawn(("filters \(rows) of \(allRows) x input channels \(cols) of \(allCols)",
                                                 "\(allRows) 个滤波器中的 \(rows) × \(allCols) 个输入通道中的 \(cols)"),
                                                svgBudget: svgLimited ? maxSVGBytes : nil, tiles: "kernels",
                                                select: "--filters and --channels", maxSide: maxSide, language: l)
            warnings.append(fewer.warning)
            notes.append(fewer.note)
        }
        // A subset is named; every filter in another order (sorted by norm) is not a selection.
        let subset = (filters.map { Set($0) != Set(0..<co) } ?? false) || (channels.map { Set($0) != Set(0..<ci) } ?? false)
        if subset && notes.isEmpty {
            let rows = IndexSelection.describe(rowsWanted), cols = IndexSelection.describe(colsWanted)
            notes.append(l("Filters \(rows) of \(co), input channels \(cols) of \(ci).", "滤波器 \(rows)（共 \(co) 个），输入通道 \(cols)（共 \(ci) 个）。"))
        }
        notes += self.notes
        drawnScale = scale
        let selected = weights.kernels(filters: rowsWanted, channels: colsWanted)
        let stats = FilterStats(selected.data)
        let m = stats.maxAbs > 0 ? stats.maxAbs : 1
        let nr = rowsWanted.count, nc = colsWanted.count
        let (gw, gh) = size(scale, nr, nc)

        // One raster: cells painted on the colormap, gaps mid-gray (no colour of the diverging map).
        var raster = RasterImage(width: Int(gw), height: Int(gh), fill: Color(0.55, 0.55, 0.58))
        let plane = kh * kw, lut = colormap.bytes
        selected.data.withUnsafeBufferPointer { p in
            raster.pixels.withUnsafeMutableBufferPointer { px in
                for r in 0..<nr { for c in 0..<nc { for ky in 0..<kh { for kx in 0..<kw {
                    let v = p[(r * nc + c) * plane + ky * kw + kx]
                    var rgb: (UInt8, UInt8, UInt8) = (255, 0, 255)
                    if v.isFinite {
                        // In Double: 2m and v + m overflow Float for weights near ±3e38.
                        let k = 3 * Int(RasterImage.byte((Double(v) + Double(m)) / (2 * Double(m))))
                        rgb = (lut[k], lut[k + 1], lut[k + 2])
                    }
                    let x0 = c * (kw * scale + gap) + kx * scale, y0 = r * (kh * scale + gap) + ky * scale
                    for y in y0..<(y0 + scale) { for x in x0..<(x0 + scale) {
                        let o = 4 * (y * raster.width + x)
                        px[o] = rgb.0; px[o + 1] = rgb.1; px[o + 2] = rgb.2; px[o + 3] = 255
                    }}
                }}}}
            }
        }
        if stats.nonFinite > 0 { warnings.append("\(stats.nonFinite) NaN/Inf weights (drawn magenta)") }

        let kind = isHeatMap ? l("1x1 kernels as a \(nr) x \(nc) heat map (row = output filter, column = input channel)",
                                 "1x1 卷积核画成 \(nr) x \(nc) 的热图（行 = 输出滤波器，列 = 输入通道）")
                             : l("\(kh)x\(kw) kernels: one filter per row, one input channel per column",
                                 "\(kh)x\(kw) 卷积核：每行一个滤波器，每列一个输入通道")
        let caption = [l("\(kind), x\(scale).", "\(kind)，放大 \(scale) 倍。"),
                       l("One diverging scale symmetric around 0 for all: \(Colorbar.format(-m)) (blue) to \(Colorbar.format(m)) (red), white = 0.",
                         "所有卷积核共用一个关于 0 对称的发散色标：\(Colorbar.format(-m))（蓝）到 \(Colorbar.format(m))（红），白 = 0。")] + notes
        let bar = Colorbar(colormap: colormap, low: -m, high: m, height: min(max(gh, 60), 240))
        let frame = FigureFrame(title: title ?? l("Kernels \(co)×\(ci)×\(kh)×\(kw)", "卷积核 \(co)×\(ci)×\(kh)×\(kw)"), caption: caption,
                                contentWidth: rowLabelW + gw + 12 + bar.width, contentHeight: colLabelH + max(gh, 60), text: text)
        var scene = frame.makeScene()
        let origin = Point(frame.contentOrigin.x + rowLabelW, frame.contentOrigin.y + colLabelH)
        gridOrigin = origin
        let stepX = Double(kw * scale + gap), stepY = Double(kh * scale + gap)
        cellStep = (stepX, stepY)
        scene.add(.group("kernel-grid", [.image(raster, at: origin)]))
        // Labels on every k-th row and column, so they never overlap.
        let rowEvery = Int((Theme.smallSize + 2) / stepY.nextDown) + 1
        let colEvery = Int((Theme.smallSize * 0.62 * Double(String(colsWanted.max() ?? 0).count) + 4) / stepX.nextDown) + 1
        var rowItems: [Scene.Item] = [.text(l(.filter), at: Point(origin.x - 4, origin.y - colLabelH / 2), size: Theme.smallSize, color: Theme.muted, anchor: .end)]
        for (r, f) in rowsWanted.enumerated() where r % rowEvery == 0 {
            rowItems.append(.text("\(f)", at: Point(origin.x - 4, origin.y + Double(r) * stepY + Double(kh * scale) / 2), size: Theme.smallSize, color: Theme.ink, anchor: .end))
        }
        var colItems: [Scene.Item] = []
        for (c, ch) in colsWanted.enumerated() where c % colEvery == 0 {
            colItems.append(.text("\(ch)", at: Point(origin.x + Double(c) * stepX + Double(kw * scale) / 2, origin.y - colLabelH / 2), size: Theme.smallSize, color: Theme.ink, anchor: .middle))
        }
        scene.add(.group("row-labels", rowItems))
        scene.add(.group("column-labels", colItems))
        scene.add(.group("colorbar", bar.items(at: Point(origin.x + gw + 12, origin.y))))
        return scene
    }
}
