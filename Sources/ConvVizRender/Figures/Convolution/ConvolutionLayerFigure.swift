import ConvVizCore
import Foundation

/// The lecture's first picture of a convolution layer, computed: a C×H×W image, one
/// C×K×K filter sliding over it (the window at one position and the output value it
/// makes), the one activation map it gives; then a bank of filters and their maps
/// stacked into the layer's output volume. The maps are the real convolution of the
/// image with the filters; every size is the shape arithmetic's.
public struct ConvolutionLayerFigure {
    /// `[C, H, W]`, values in [0, 1].
    public var image: Tensor
    /// `[F, C, K, K]`.
    public var filters: Tensor
    /// Where the highlighted window sits (top-left, in output coordinates).
    public var position: (y: Int, x: Int) = (6, 9)
    public var text = FigureText()

    public init(image: Tensor, filters: Tensor) {
        self.image = image
        self.filters = filters
    }

    /// Oriented colour-edge filters made from a formula (derivative of a Gaussian at
    /// `count` orientations, alternating luminance and red-green opponent colour): the
    /// kind a first layer learns, without typing in a weight.
    public static func orientedFilters(count: Int, size: Int) -> Tensor {
        var t = Tensor(shape: [count, 3, size, size])
        let c = Double(size - 1) / 2, sigma = Double(size) / 4
        for f in 0..<count {
            let angle = Double.pi * Double(f) / Double(count)
            let colour: [Double] = f % 2 == 0 ? [1, 1, 1] : [1, -1, 0]
            for y in 0..<size {
                for x in 0..<size {
                    let u = (Double(x) - c) * cos(angle) + (Double(y) - c) * sin(angle)
                    let r2 = (Double(x) - c) * (Double(x) - c) + (Double(y) - c) * (Double(y) - c)
                    let g = -u / (sigma * sigma) * exp(-r2 / (2 * sigma * sigma))
                    for ch in 0..<3 { t.data[((f * 3 + ch) * size + y) * size + x] = Float(g * colour[ch]) }
                }
            }
        }
        return t
    }

    /// The layer's output: the image convolved with every filter (no bias, stride 1,
    /// no padding), `[F, H−K+1, W−K+1]`.
    public var maps: Tensor {
        let (f, c, k) = (filters.shape[0], filters.shape[1], filters.shape[2])
        var rng = SeededGenerator(seed: 0)
        let conv = Conv2D(name: "conv", inputChannels: c, outputChannels: f, window: Window2D(kernel: Pair(k)), bias: false, rng: &rng)
        conv.weight.value = filters
        let out = conv.forward(image.reshaped([1] + image.shape), mode: .evaluation)
        return out.reshaped(Array(out.shape.dropFirst()))
    }

    static func photoRaster(_ image: Tensor) -> RasterImage {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var r = RasterImage(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let v = (0..<3).map { Double(image.data[(min($0, c - 1) * h + y) * w + x]) }
                r.set(x, y, Color(v[0], v[1], v[2]))
            }
        }
        return r
    }

    /// A filter as colour: zero is mid-gray, the largest weight magnitude saturates.
    static func filterRaster(_ filters: Tensor, _ f: Int) -> RasterImage {
        let (c, k) = (filters.shape[1], filters.shape[2])
        let n = c * k * k
        let slice = filters.data[(f * n)..<((f + 1) * n)]
        let m = Double(slice.map { abs($0) }.max() ?? 1)
        var r = RasterImage(width: k, height: k)
        for y in 0..<k {
            for x in 0..<k {
                let v = (0..<3).map { 0.5 + 0.5 * Double(slice[slice.startIndex + (min($0, c - 1) * k + y) * k + x]) / max(m, 1e-12) }
                r.set(x, y, Color(v[0], v[1], v[2]))
            }
        }
        return r
    }

    static func mapRaster(_ maps: Tensor, _ f: Int) -> RasterImage {
        let (h, w) = (maps.shape[1], maps.shape[2])
        let slice = Array(maps.data[(f * h * w)..<((f + 1) * h * w)])
        let lo = slice.min() ?? 0, hi = slice.max() ?? 1
        return slice.withUnsafeBufferPointer { Colormap.gray.raster($0, width: w, height: h, low: lo, high: hi) }
    }

    public func scene() -> Scene {
        let l = text.language
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let (count, k) = (filters.shape[0], filters.shape[2])
        let out = maps
        let (oh, ow) = (out.shape[1], out.shape[2])
        let px = 4, fpx = 8
        let photo = Self.photoRaster(image)
        let rowA = Double(h * px) + 70, rowB = Double(oh * px) + Double(count) * 6 + 80
        let window = Window2D(kernel: Pair(k))
        let caption = [
            l("One filter: the \(c)×\(k)×\(k) filter slides over all \(oh)×\(ow) positions of the \(c)×\(h)×\(w) image; each output value is a \(c)·\(k)·\(k) = \(c * k * k)-term dot product (plus a bias), so one filter gives one 1×\(oh)×\(ow) activation map: \(VolumeSequence.arithmetic(input: h, window: window, output: oh)).",
              "一个滤波器：\(c)×\(k)×\(k) 的滤波器在 \(c)×\(h)×\(w) 的图像上滑过全部 \(oh)×\(ow) 个位置；每个输出值是 \(c)·\(k)·\(k) = \(c * k * k) 项的点积（再加偏置），所以一个滤波器得到一张 1×\(oh)×\(ow) 的激活图：\(VolumeSequence.arithmetic(input: h, window: window, output: oh))。"),
            l("\(count) filters (\(count)×\(c)×\(k)×\(k)) give \(count) activation maps, stacked into a \(count)×\(oh)×\(ow) output: the layer's new image. The maps are the real convolution of this photograph with these filters (oriented colour edges made from a derivative of a Gaussian).",
              "\(count) 个滤波器（\(count)×\(c)×\(k)×\(k)）得到 \(count) 张激活图，堆叠成 \(count)×\(oh)×\(ow) 的输出，即下一层的“新图像”。图中的激活图是这张照片与这些滤波器的真实卷积结果（滤波器为由高斯导数构造的带方向的彩色边缘）。"),
        ]
        let frame = FigureFrame(title: l("A convolution layer", "卷积层"), caption: caption,
                                contentWidth: Double(w * px + oh * px) + 420, contentHeight: rowA + rowB, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        // Row A: image, one filter, one map.
        let imgOrigin = Point(o.x, o.y + 24)
        var a: [Scene.Item] = [
            .text(l("image \(c)×\(h)×\(w)", "输入图像 \(c)×\(h)×\(w)"), at: Point(o.x, o.y + 8), size: Theme.labelSize, color: Theme.ink, bold: true),
            .image(photo, at: imgOrigin, scale: px),
        ]
        let win = Rect(imgOrigin.x + Double(position.x * px), imgOrigin.y + Double(position.y * px), Double(k * px), Double(k * px))
        a.append(.rect(win, fill: nil, stroke: Theme.warning, lineWidth: 1.5))
        let filterOrigin = Point(imgOrigin.x + Double(w * px) + 60, imgOrigin.y + Double(h * px) / 2 - Double(k * fpx) / 2)
        // Under the filter: the dashed lines from the window to the map pass above it.
        a.append(.text(l("filter \(c)×\(k)×\(k)", "滤波器 \(c)×\(k)×\(k)"), at: Point(filterOrigin.x, filterOrigin.y + Double(k * fpx) + 12), size: Theme.labelSize, color: Theme.ink, bold: true))
        a.append(.image(Self.filterRaster(filters, 0), at: filterOrigin, scale: fpx))
        a.append(.text("∗", at: Point(filterOrigin.x - 30, filterOrigin.y + Double(k * fpx) / 2), size: 18, color: Theme.muted, anchor: .middle))
        let mapOrigin = Point(filterOrigin.x + Double(k * fpx) + 60, imgOrigin.y + Double((h - oh) * px) / 2)
        a.append(.text("=", at: Point(mapOrigin.x - 30, filterOrigin.y + Double(k * fpx) / 2), size: 18, color: Theme.muted, anchor: .middle))
        a.append(.text(l("activation map 1×\(oh)×\(ow)", "激活图 1×\(oh)×\(ow)"), at: Point(mapOrigin.x, o.y + 8), size: Theme.labelSize, color: Theme.ink, bold: true))
        a.append(.image(Self.mapRaster(out, 0), at: mapOrigin, scale: px))
        let cell = Rect(mapOrigin.x + Double(position.x * px), mapOrigin.y + Double(position.y * px), Double(px), Double(px))
        a.append(.rect(cell, fill: Theme.warning, stroke: nil))
        a.append(.polyline([Point(win.maxX, win.y), Point(cell.x, cell.y)], color: Theme.warning.with(alpha: 0.7), width: 0.8, dash: [3, 2]))
        a.append(.polyline([Point(win.maxX, win.maxY), Point(cell.x, cell.maxY)], color: Theme.warning.with(alpha: 0.7), width: 0.8, dash: [3, 2]))
        scene.add(.group("one-filter", a))
        // Row B: the bank of filters and the stacked maps.
        let y0 = o.y + rowA + 24
        var b: [Scene.Item] = [.text(l("\(count) filters \(count)×\(c)×\(k)×\(k)", "\(count) 个滤波器 \(count)×\(c)×\(k)×\(k)"), at: Point(o.x, y0 - 14), size: Theme.labelSize, color: Theme.ink, bold: true)]
        for f in 0..<count {
            b.append(.image(Self.filterRaster(filters, f), at: Point(o.x + Double(f % 3) * Double(k * fpx + 8), y0 + Double(f / 3) * Double(k * fpx + 8)), scale: fpx))
        }
        let stackX = o.x + 3 * Double(k * fpx + 8) + 70
        b.append(.text("→", at: Point(stackX - 35, y0 + Double(k * fpx)), size: 18, color: Theme.muted, anchor: .middle))
        b.append(.text(l("\(count) activation maps: output \(count)×\(oh)×\(ow)", "\(count) 张激活图：输出 \(count)×\(oh)×\(ow)"), at: Point(stackX, y0 - 14), size: Theme.labelSize, color: Theme.ink, bold: true))
        for f in (0..<count).reversed() {
            let at = Point(stackX + Double(f) * 14, y0 + Double(count - 1 - f) * 6)
            b.append(.group("map-\(f)", [.image(Self.mapRaster(out, f), at: at, scale: px),
                                         .rect(Rect(at.x, at.y, Double(ow * px), Double(oh * px)), fill: nil, stroke: Theme.ink, lineWidth: 0.6)]))
        }
        scene.add(.group("filter-bank", b))
        return scene
    }
}
