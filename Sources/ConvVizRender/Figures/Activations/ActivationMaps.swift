import ConvVizCore
import Foundation

/// The feature maps of one layer for one input: a grid of colormapped maps with titles
/// (`conv1 · 0`, ...), a colour bar, and optionally the input image beside the grid.
public struct ActivationMaps {
    public var maps: Tensor
    public var layer: String
    public var colormap: Colormap = .viridis
    /// One colour scale for all maps (comparable), or one per map (each stretched).
    public var sharedScale: Bool = true
    public var columns: Int?
    /// Nearest-neighbour upscale; nil picks one that makes maps about 64 px.
    public var scale: Int?
    /// The input as `[C, H, W]` in [0, 1], drawn left of the grid.
    public var input: RasterImage?
    public var title: String?
    /// A caption line saying how the input was prepared.
    public var caption: String?
    public var maxPixels: Int = 40_000_000
    /// Most pixels on a side (`FigureLimits.maxSide`): a larger figure is drawn at a smaller
    /// scale, then with fewer maps (the caption says which).
    public var maxSide: Int = FigureLimits.maxSide
    /// The channels to draw, in order (nil = all); tiles keep their channel numbers.
    public var channels: [Int]?
    /// A caption line saying how `channels` were chosen (e.g. the top 8 by mean).
    public var selectionNote: String?
    /// Lines added to the caption (which page this is).
    public var notes: [String] = []
    /// Most bytes the figure may take as SVG; nil when it is not written as SVG. Past it,
    /// fewer maps are drawn and the caption says which.
    public var maxSVGBytes: Int?
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()
    public private(set) var warnings: [String] = []

    public enum Ranking: String, CaseIterable, Sendable { case mean, max }

    /// The `k` channels with the largest mean (or max) activation, largest first; ties
    /// by channel number. Non-finite values are skipped.
    public static func topChannels(_ k: Int, of maps: Tensor, by ranking: Ranking) -> [Int] {
        let count = maps.shape[0], plane = maps.count / max(count, 1)
        let scores: [Double] = maps.data.withUnsafeBufferPointer { p in
            (0..<count).map { c in
                var sum = 0.0, n = 0, top = -Double.infinity
                for v in p[(c * plane)..<((c + 1) * plane)] where v.isFinite { sum += Double(v); n += 1; top = Swift.max(top, Double(v)) }
                return ranking == .mean ? (n > 0 ? sum / Double(n) : -.infinity) : top
            }
        }
        return Array((0..<count).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(Swift.max(0, k)))
    }

    public init(maps: Tensor, layer: String) {
        precondition(maps.rank == 3, "activation maps must be [C, H, W]")
        self.maps = maps
        self.layer = layer
    }

    public mutating func scene() -> Scene {
        warnings = []
        let (total, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2])
        let requested = channels ?? Array(0..<total)
        let titleH = Theme.smallSize + 6, gap = 6.0
        let inputWidth = input.map { Double($0.width) + 20 } ?? 0
        let limit = FigureLimits.contentLimit(maxSide)
        let barAllowance = sharedScale ? 72.0 : 0
        func grid(_ s: Int, _ n: Int) -> (cols: Int, rows: Int) {
            let room = limit.width - inputWidth - barAllowance
            let fitting = max(1, Int((room + gap) / (Double(w * s) + gap)))
            let cols = max(1, min(columns ?? Int(Double(n).squareRoot().rounded(.up)), max(n, 1), fitting))
            return (cols, (n + cols - 1) / cols)
        }
        func fitsSide(_ s: Int, _ n: Int) -> Bool {
            let (cols, rows) = grid(s, n)
            let gw = (Double(w * s) + gap) * Double(cols) - gap, gh = (Double(h * s) + gap + titleH) * Double(rows) - gap
            return inputWidth + gw + barAllowance <= limit.width && max(gh, Double(input?.height ?? 0) + titleH) <= limit.height
                && Int(Double(w * s) + gap) * cols * Int(Double(h * s) + gap + titleH) * rows <= maxPixels
        }
        // Maps are scaled by the viewer: an SVG's size depends on their count, not the scale.
        func fitsBytes(_ n: Int) -> Bool {
            guard let maxSVGBytes else { return true }
            let inputBytes = input.map { FigureLimits.svgImageBytes(width: $0.width, height: $0.height, distinct: $0.width * $0.height) } ?? 0
            let map = FigureLimits.svgImageBytes(width: w, height: h, distinct: w * h) + FigureLimits.svgTextBytes(characters: layer.count + 6) + 200
            return FigureLimits.svgFrameBytes + inputBytes + n * map <= maxSVGBytes
        }
        func fits(_ s: Int, _ n: Int) -> Bool { fitsSide(s, n) && fitsBytes(n) }
        var scale = max(1, self.scale ?? max(1, 64 / max(h, w)))
        let requestedScale = scale
        while scale > 1 && !fitsSide(scale, requested.count) { scale -= 1 }
        let drawn = Array(requested.prefix(fits(scale, requested.count) ? requested.count : FigureLimits.largest(upTo: requested.count) { fits(scale, $0) }))
        let count = drawn.count
        let l = text.language
        var notes: [String] = []
        if scale < requestedScale {
            warnings.append("maps scaled down from x\(requestedScale) to x\(scale) to stay under \(maxSide) px a side and \(maxPixels) pixels")
        }
        if drawn.count < requested.count {
            let list = IndexSelection.describe(drawn)
            let fewer = FigureLimits.fewerDrawn(("channels \(list) of \(requested.count)", "\(requested.count) 个通道中的 \(list)"),
                                                svgBudget: fitsSide(scale, requested.count) ? maxSVGBytes : nil, tiles: "maps",
                                                select: "--channels or --top", maxSide: maxSide, language: l)
            warnings.append(fewer.warning)
            notes.append(fewer.note)
        }
        if let selectionNote { notes.append(selectionNote) }
        else if channels != nil { notes.append(l("Channels \(IndexSelection.describe(drawn)) of \(total).", "通道 \(IndexSelection.describe(drawn))（共 \(total) 个）。")) }
        notes += self.notes
        let (cols, rows) = grid(scale, count)
        let cellW = Double(w * scale), cellH = Double(h * scale)
        let stepX = cellW + gap, stepY = cellH + gap + titleH
        let gridW = stepX * Double(cols) - gap, gridH = stepY * Double(rows) - gap
        let plane = h * w

        // Per-map and shared ranges over finite values.
        let ranges: [(Float, Float)] = maps.data.withUnsafeBufferPointer { p in
            drawn.map { i in
                let s = FilterStats(p[(i * plane)..<((i + 1) * plane)])
                return s.minValue <= s.maxValue ? (s.minValue, s.maxValue) : (0, 1)
            }
        }
        let shared = (ranges.map(\.0).min() ?? 0, ranges.map(\.1).max() ?? 1)
        let bar = Colorbar(colormap: colormap, low: shared.0, high: shared.1, height: min(gridH, 240))
        let barWidth = sharedScale ? bar.width + 12 : 0
        let scaleText = sharedScale
            ? l("One colour scale for all maps: \(Colorbar.format(shared.0)) to \(Colorbar.format(shared.1)).",
                "所有激活图共用一个色标：\(Colorbar.format(shared.0)) 到 \(Colorbar.format(shared.1))。")
            : l("Each map stretched to its own range (min to max shown under the map).", "每张激活图拉伸到自身的范围（最小值到最大值标在图旁）。")
        let frame = FigureFrame(title: title ?? l("Activations of \(layer)", "\(layer) 的激活图"),
                                caption: [l("\(count) maps of \(h)x\(w), \(colormap.rawValue) colormap, x\(scale) nearest-neighbour.",
                                            "\(count) 张 \(h)x\(w) 的激活图，\(colormap.rawValue) 色图，最近邻放大 \(scale) 倍。"), scaleText] + notes + (caption.map { [$0] } ?? []),
                                contentWidth: inputWidth + gridW + barWidth, contentHeight: max(gridH, Double(input?.height ?? 0) + titleH), text: text)
        var scene = frame.makeScene()
        let origin = frame.contentOrigin
        if let input {
            scene.add(.group("input", [.text(l(.input), at: Point(origin.x, origin.y + titleH / 2 - 2), size: Theme.smallSize, color: Theme.muted),
                                        .image(input, at: Point(origin.x, origin.y + titleH))]))
        }
        let gx = origin.x + inputWidth
        for (slot, i) in drawn.enumerated() {
            let x = gx + Double(slot % cols) * stepX, y = origin.y + Double(slot / cols) * stepY
            let (low, high) = sharedScale ? shared : ranges[slot]
            let raster = maps.data.withUnsafeBufferPointer { p in
                colormap.raster(UnsafeBufferPointer(rebasing: p[(i * plane)..<((i + 1) * plane)]), width: w, height: h, low: low, high: high)
            }
            // A long layer name (an ONNX path) would run into the next tile: the title names
            // the layer, so the tile keeps its channel number.
            let full = "\(layer) · \(i)"
            var label = Double(full.count) * Theme.smallSize * 0.6 <= Double(w * scale) ? full : "#\(i)"
            if !sharedScale { label += "  [\(Colorbar.format(low)), \(Colorbar.format(high))]" }
            scene.add(.group("map-\(i)", [
                .text(label, at: Point(x, y + titleH / 2 - 2), size: Theme.smallSize, color: Theme.ink),
                .image(raster, at: Point(x, y + titleH), scale: scale),
            ]))
        }
        if sharedScale {
            scene.add(.group("colorbar", bar.items(at: Point(gx + gridW + 12, origin.y + titleH))))
        }
        return scene
    }
}

extension RasterImage {
    /// An image tensor `[C, H, W]` in [0, 1] (C = 1 or 3) as a raster, upscaled.
    public init(image: Tensor, scale: Int = 1) {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var r = RasterImage(width: w, height: h)
        for y in 0..<h { for x in 0..<w {
            for k in 0..<3 { r.pixels[4 * (y * w + x) + k] = RasterImage.byte(Double(image.data[((c == 3 ? k : 0) * h + y) * w + x])) }
            r.pixels[4 * (y * w + x) + 3] = 255
        }}
        self = r.upscaled(scale)
    }
}
