import ConvVizCore
import Foundation

/// Optimized images of a layer's units: one per unit, labelled with the unit and the
/// objective value its image reached. With several snapshots it is a filmstrip: one
/// row per unit, one column per step (Lucid's thresholds), each cell with its value.
public struct FeatureVisualizationGrid {
    /// One column of the filmstrip (or the only one): the step and every unit's image.
    public struct Snapshot {
        public var step: Int
        /// `[N, C, H, W]` in [0, 1] (C = 1 or 3).
        public var images: Tensor
        public var values: [Float]
        public init(step: Int, images: Tensor, values: [Float]) {
            self.step = step
            self.images = images
            self.values = values
        }
    }

    /// Per image, its unit ("channel 3", "logit 7 (Sneaker)").
    public var labels: [String]
    public var snapshots: [Snapshot]
    /// The layer's name, for the title.
    public var layer: String
    /// Images per row when there is one snapshot (nil: about a square grid).
    public var columns: Int?
    /// Nearest-neighbour upscale of each image (nil: at least about 96 px).
    public var scale: Int?
    /// How the images were made (size, steps, parameterization, transforms, normalization).
    public var settingsNote: String = ""
    public var title: String?
    public var text = FigureText()

    public init(labels: [String], snapshots: [Snapshot], layer: String) {
        precondition(!snapshots.isEmpty && snapshots.allSatisfy { $0.images.shape[0] == labels.count })
        self.labels = labels
        self.snapshots = snapshots
        self.layer = layer
    }

    var isFilmstrip: Bool { snapshots.count > 1 }

    public func scene() -> Scene {
        let first = snapshots[0].images
        let (h, w) = (first.shape[2], first.shape[3])
        let zoom = scale ?? max(1, Int((96.0 / Double(max(h, w))).rounded(.up)))
        let cellW = Double(w * zoom), cellH = Double(h * zoom)
        let gap = 10.0, labelH = 2 * (Theme.labelSize + 3)
        let l = text.language
        let n = labels.count
        let rowHeader = isFilmstrip ? (labels.map { TextMetrics.width($0, size: Theme.labelSize) }.max() ?? 0) + 10 : 0
        let cols = isFilmstrip ? snapshots.count : (columns ?? max(1, Int(Double(n).squareRoot().rounded(.up))))
        let rows = isFilmstrip ? n : (n + cols - 1) / cols
        let headerH = isFilmstrip ? Theme.labelSize + 8 : 0
        let contentW = rowHeader + Double(cols) * (cellW + gap) - gap
        let contentH = headerH + Double(rows) * (cellH + labelH + gap) - gap
        let caption = [l(isFilmstrip
                ? "One row per unit, one column per optimization step; under each image the objective it reached then (the image untransformed)."
                : "Each image maximizes its unit's objective; the number is the objective reached (the final image untransformed).",
                isFilmstrip ? "每行一个单元，每列一个优化步；图下数字为该步图像（未变换）达到的目标值。"
                            : "每幅图像最大化其单元的目标；数字为最终图像（未变换）达到的目标值。"),
            settingsNote].filter { !$0.isEmpty }
        let frame = FigureFrame(title: title ?? l("What \(layer) wants to see", "\(layer) 想看到什么"), caption: caption,
                                contentWidth: contentW, contentHeight: contentH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        if isFilmstrip {
            let headers: [Scene.Item] = snapshots.enumerated().map { c, s in
                .text(l("step \(s.step)", "第 \(s.step) 步"), at: Point(o.x + rowHeader + Double(c) * (cellW + gap) + cellW / 2, o.y + Theme.labelSize / 2),
                      size: Theme.labelSize, color: Theme.ink, anchor: .middle, bold: true)
            }
            scene.add(.group("steps", headers))
        }
        for i in 0..<n {
            var items: [Scene.Item] = []
            for (c, snap) in (isFilmstrip ? Array(snapshots.enumerated()) : [(0, snapshots[0])]) {
                let (col, row) = isFilmstrip ? (c, i) : (i % cols, i / cols)
                let x = o.x + rowHeader + Double(col) * (cellW + gap)
                let y = o.y + headerH + Double(row) * (cellH + labelH + gap)
                items.append(.image(Self.raster(snap.images, index: i), at: Point(x, y), scale: zoom))
                let value = Colorbar.format(snap.values[i])
                if isFilmstrip {
                    items.append(.text(value, at: Point(x + cellW / 2, y + cellH + Theme.labelSize / 2 + 3), size: Theme.labelSize, color: Theme.muted, anchor: .middle))
                    if c == 0 {
                        items.append(.text(labels[i], at: Point(o.x, y + cellH / 2), size: Theme.labelSize, color: Theme.ink))
                    }
                } else {
                    items.append(.text(labels[i], at: Point(x + cellW / 2, y + cellH + Theme.labelSize / 2 + 3), size: Theme.labelSize, color: Theme.ink, anchor: .middle))
                    items.append(.text(value, at: Point(x + cellW / 2, y + cellH + 1.5 * Theme.labelSize + 6), size: Theme.labelSize, color: Theme.muted, anchor: .middle))
                }
            }
            scene.add(.group("unit-\(i)", items))
        }
        return scene
    }

    /// Image `index` of `[N, C, H, W]` as a raster (gray for one channel, RGB for three).
    static func raster(_ images: Tensor, index: Int) -> RasterImage {
        let per = images.count / images.shape[0]
        let one = Tensor(shape: Array(images.shape.dropFirst()), data: Array(images.data[(index * per)..<((index + 1) * per)]))
        return RasterImage(image: one)
    }
}
