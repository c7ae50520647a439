import ConvVizCore
import Foundation

/// The dataset patches that excite each channel most (Zeiler and Fergus 2014): one row
/// per channel, its patches best first at one common scale, each cropped to the unit's
/// receptive field, the activation (and the image's class, when known) under each.
/// Where the field passes the image's border the crop keeps its place and the part
/// outside is drawn in `padding`, so a border unit is not shown shifted. With a kernel
/// per row, the channel's filter starts the row.
public struct TopPatchesGrid {
    public struct Cell: Sendable {
        public var crop: TopPatchesCrop
        public var value: Float
        /// The image's index in the split.
        public var image: Int
        /// Its class, when the data has labels.
        public var label: String?
        public init(crop: TopPatchesCrop, value: Float, image: Int, label: String? = nil) {
            self.crop = crop
            self.value = value
            self.image = image
            self.label = label
        }
    }

    public struct Row: Sendable {
        public var channel: Int
        public var cells: [Cell]
        /// The channel's filter `[C_in, kh, kw]` (conv layers, `--with-filters`).
        public var kernel: Tensor?
        public init(channel: Int, cells: [Cell], kernel: Tensor? = nil) {
            self.channel = channel
            self.cells = cells
            self.kernel = kernel
        }
    }

    public var layer: String
    public var rows: [Row]
    /// "fashion-mnist (test)": what was scanned, for the caption.
    public var data: String
    /// Images scanned.
    public var scanned: Int
    /// "theoretical" or "effective".
    public var crop = "theoretical"
    /// The layer's field differs between branches: crops are their union.
    public var misaligned = false
    /// Pixels per crop pixel; nil picks about 72 px per crop.
    public var scale: Int?
    public var padding = Color(0.80, 0.86, 0.93)
    public var title: String?
    public var text = FigureText()

    public init(layer: String, rows: [Row], data: String, scanned: Int) {
        self.layer = layer
        self.rows = rows
        self.data = data
        self.scanned = scanned
    }

    /// Crop size `(height, width)` in input pixels (the largest, when they differ).
    public var cropSize: (h: Int, w: Int) {
        let crops = rows.flatMap(\.cells).map(\.crop.pixels.shape)
        return (crops.map { $0[1] }.max() ?? 1, crops.map { $0[2] }.max() ?? 1)
    }

    /// The crop as pixels, the image's values in [0, 1] (gray or RGB), padding outside.
    public func raster(_ crop: TopPatchesCrop) -> RasterImage {
        let (c, h, w) = (crop.pixels.shape[0], crop.pixels.shape[1], crop.pixels.shape[2])
        var r = RasterImage(width: w, height: h, fill: padding)
        for y in 0..<h { for x in 0..<w where crop.inside[y * w + x] {
            var rgb = [Double](repeating: 0, count: 3)
            for k in 0..<3 { rgb[k] = Double(crop.pixels.data[((c == 3 ? k : 0) * h + y) * w + x]) }
            r.set(x, y, Color(rgb[0], rgb[1], rgb[2]))
        }}
        return r
    }

    /// A filter `[C_in, kh, kw]`: RGB for three input channels, else its slices in a
    /// square block, red-blue, one symmetric scale for the filter.
    public static func kernelRaster(_ kernel: Tensor) -> RasterImage {
        let (c, kh, kw) = (kernel.shape[0], kernel.shape[1], kernel.shape[2])
        let m = max(kernel.maxAbs, 1e-12)
        if c == 3 {
            var r = RasterImage(width: kw, height: kh)
            for y in 0..<kh { for x in 0..<kw {
                let v = (0..<3).map { Double(0.5 + 0.5 * kernel.data[($0 * kh + y) * kw + x] / m) }
                r.set(x, y, Color(v[0], v[1], v[2]))
            }}
            return r
        }
        let cols = Int(Double(c).squareRoot().rounded(.up)), rowsN = (c + cols - 1) / cols
        var r = RasterImage(width: cols * (kw + 1) - 1, height: rowsN * (kh + 1) - 1, fill: .white)
        for k in 0..<c {
            let ox = (k % cols) * (kw + 1), oy = (k / cols) * (kh + 1)
            for y in 0..<kh { for x in 0..<kw {
                r.set(ox + x, oy + y, Colormap.redBlue.swatch(0.5 + 0.5 * kernel.data[(k * kh + y) * kw + x] / m))
            }}
        }
        return r
    }

    public func scene() -> Scene {
        let l = text.language
        let (ch, cw) = cropSize
        let s = max(1, scale ?? max(1, 72 / max(ch, cw)))
        let cellW = Double(cw * s), cellH = Double(ch * s)
        let labelH = Theme.smallSize + 4, hasLabels = rows.contains { $0.cells.contains { $0.label != nil } }
        let under = labelH * (hasLabels ? 2 : 1)
        let gap = 6.0, rowLabelW = 34.0
        let kernels = rows.map { $0.kernel.map(Self.kernelRaster) }
        let kernelScale = kernels.compactMap { $0 }.map { max(1, Int(cellH) / max($0.height, $0.width, 1)) }.min() ?? 1
        let kernelW = kernels.compactMap { $0 }.map { Double($0.width * kernelScale) + 2 * gap }.max() ?? 0
        let columns = rows.map(\.cells.count).max() ?? 0
        let stepX = cellW + gap, stepY = cellH + under + gap
        let contentW = rowLabelW + kernelW + max(0, stepX * Double(columns) - gap)
        let contentH = max(0, stepY * Double(rows.count) - gap)
        var caption = [l("Per channel, the \(columns) of \(scanned) images of \(data) whose largest \(layer) activation is largest (one patch per image, best first), the activation under each.",
                         "每个通道在 \(data) 的 \(scanned) 张图像中 \(layer) 最大激活最大的 \(columns) 张（每张图一个图块，从大到小），图块下为激活值。")]
        if crop == "effective" {
            caption.append(l("Crops: the effective receptive field, \(ch)x\(cw) px (pixels at or above 10% of the peak |gradient| of a central unit).",
                             "裁剪：有效感受野，\(ch)x\(cw) 像素（中心单元 |梯度| 达峰值 10% 以上的像素）。"))
        } else {
            caption.append(l("Crops: the receptive field, \(ch)x\(cw) px, x\(s); the pale blue is padding where the field leaves the image.",
                             "裁剪：感受野 \(ch)x\(cw) 像素，放大 \(s) 倍；浅蓝色是感受野超出图像处的填充。"))
        }
        if misaligned {
            caption.append(l("The layer's branches disagree in centre or stride: each crop is the union of their fields.",
                             "该层各分支的中心或步长不一致：每个裁剪取各分支感受野的并集。"))
        }
        if kernels.contains(where: { $0 != nil }) {
            caption.append(l("Each row starts with the channel's filter (red positive, blue negative, one scale per filter).",
                             "每行开头是该通道的卷积核（红正蓝负，每个卷积核一个色标）。"))
        }
        let frame = FigureFrame(title: title ?? l("Top patches of \(layer)", "\(layer) 的最强激活图块"), caption: caption,
                                contentWidth: contentW, contentHeight: contentH, text: text)
        var scene = frame.makeScene()
        let origin = frame.contentOrigin
        for (r, row) in rows.enumerated() {
            let y = origin.y + Double(r) * stepY
            var items: [Scene.Item] = [.text("\(row.channel)", at: Point(origin.x, y + cellH / 2), size: Theme.labelSize, color: Theme.ink, bold: true)]
            if let kernel = kernels[r] {
                let kx = origin.x + rowLabelW + gap, ky = y + (cellH - Double(kernel.height * kernelScale)) / 2
                items.append(.group("filter", [.image(kernel, at: Point(kx, ky), scale: kernelScale)]))
            }
            for (k, cell) in row.cells.enumerated() {
                let x = origin.x + rowLabelW + kernelW + Double(k) * stepX
                var cellItems: [Scene.Item] = [
                    .image(raster(cell.crop), at: Point(x, y), scale: s),
                    .rect(Rect(x, y, cellW, cellH), fill: nil, stroke: Theme.grid, lineWidth: 0.5),
                    .text(Colorbar.format(cell.value), at: Point(x + cellW / 2, y + cellH + labelH / 2 + 1), size: Theme.smallSize, color: Theme.ink, anchor: .middle),
                ]
                if let label = cell.label {
                    let short = label.count > Int(cellW / (Theme.smallSize * 0.55)) ? String(label.prefix(max(1, Int(cellW / (Theme.smallSize * 0.55)) - 1))) + "…" : label
                    cellItems.append(.text(short, at: Point(x + cellW / 2, y + cellH + 1.5 * labelH + 1), size: Theme.smallSize, color: Theme.muted, anchor: .middle))
                }
                items.append(.group("patch-\(row.channel)-\(k)-image-\(cell.image)", cellItems))
            }
            scene.add(.group("channel-\(row.channel)", items))
        }
        return scene
    }
}
