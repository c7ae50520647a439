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
    public private(set) var warnings: [String] = []

    public init(maps: Tensor, layer: String) {
        precondition(maps.rank == 3, "activation maps must be [C, H, W]")
        self.maps = maps
        self.layer = layer
    }

    public mutating func scene() -> Scene {
        warnings = []
        let (count, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2])
        let cols = max(1, min(columns ?? Int(Double(count).squareRoot().rounded(.up)), max(count, 1)))
        let rows = (count + cols - 1) / cols
        var scale = max(1, self.scale ?? max(1, 64 / max(h, w)))
        let titleH = Theme.smallSize + 6, gap = 6.0
        let requested = scale
        while scale > 1 && Int(Double(w * scale) + gap) * cols * Int(Double(h * scale) + gap + titleH) * rows > maxPixels { scale -= 1 }
        if scale < requested { warnings.append("maps scaled down from x\(requested) to x\(scale) to stay under \(maxPixels) pixels") }
        let cellW = Double(w * scale), cellH = Double(h * scale)
        let stepX = cellW + gap, stepY = cellH + gap + titleH
        let gridW = stepX * Double(cols) - gap, gridH = stepY * Double(rows) - gap
        let plane = h * w

        // Per-map and shared ranges over finite values.
        let ranges: [(Float, Float)] = maps.data.withUnsafeBufferPointer { p in
            (0..<count).map { i in
                let s = FilterStats(p[(i * plane)..<((i + 1) * plane)])
                return s.minValue <= s.maxValue ? (s.minValue, s.maxValue) : (0, 1)
            }
        }
        let shared = (ranges.map(\.0).min() ?? 0, ranges.map(\.1).max() ?? 1)
        let inputWidth = input.map { Double($0.width) + 20 } ?? 0
        let bar = Colorbar(colormap: colormap, low: shared.0, high: shared.1, height: min(gridH, 240))
        let barWidth = sharedScale ? bar.width + 12 : 0
        let scaleText = sharedScale
            ? "One colour scale for all maps: \(Colorbar.format(shared.0)) to \(Colorbar.format(shared.1))."
            : "Each map stretched to its own range (min to max shown under the map)."
        let frame = FigureFrame(title: title ?? "Activations of \(layer)",
                                caption: ["\(count) maps of \(h)x\(w), \(colormap.rawValue) colormap, x\(scale) nearest-neighbour.", scaleText] + (caption.map { [$0] } ?? []),
                                contentWidth: inputWidth + gridW + barWidth, contentHeight: max(gridH, Double(input?.height ?? 0) + titleH))
        var scene = frame.makeScene()
        let origin = frame.contentOrigin
        if let input {
            scene.add(.group("input", [.text("input", at: Point(origin.x, origin.y + titleH / 2 - 2), size: Theme.smallSize, color: Theme.muted),
                                        .image(input, at: Point(origin.x, origin.y + titleH))]))
        }
        let gx = origin.x + inputWidth
        for i in 0..<count {
            let x = gx + Double(i % cols) * stepX, y = origin.y + Double(i / cols) * stepY
            let (low, high) = sharedScale ? shared : ranges[i]
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
