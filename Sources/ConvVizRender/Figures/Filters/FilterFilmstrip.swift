import ConvVizCore
import Foundation

/// conv1 at chosen steps of training, one row per step, all on one colour scale (the
/// largest |w| over every snapshot), so growth in contrast is visible as well as shape.
public struct FilterFilmstrip {
    public var snapshots: [(step: Int, weights: Tensor)]
    /// Filters shown per row, in this order (e.g. sorted by taxonomy class).
    public var order: [Int]
    public var scale: Int = 4
    /// What the snapshot numbers count ("iteration"); nil: training steps, in the figure's language.
    public var stepLabel: String?
    public var title: String?
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()

    public init(snapshots: [(step: Int, weights: Tensor)], order: [Int]) {
        self.snapshots = snapshots
        self.order = order
    }

    public func scene() -> Scene {
        guard let first = snapshots.first else { return Scene(width: 100, height: 100) }
        let (cin, kh, kw) = (first.weights.shape[1], first.weights.shape[2], first.weights.shape[3])
        let bound = snapshots.map { $0.weights.maxAbs }.max() ?? 1
        let cell = Double(kw * scale), gap = 2.0, labelW = 70.0
        let rowH = Double(kh * scale) + 10
        let l = text.language
        let frame = FigureFrame(title: title ?? l("conv1 during training", "训练过程中的 conv1"),
                                caption: [l("\(order.count) filters per row, one row per step; one colour scale for every row: ±\(Colorbar.format(bound)) (mid-gray = 0).",
                                            "每行 \(order.count) 个滤波器，每步一行；所有行共用一个色标：±\(Colorbar.format(bound))（中灰 = 0）。"),
                                          l("Filters in the order of the final taxonomy, so each column follows one filter.",
                                            "滤波器按最终分类的顺序排列，每一列跟踪同一个滤波器。")],
                                contentWidth: labelW + Double(order.count) * (cell + gap), contentHeight: Double(snapshots.count) * rowH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        for (r, snap) in snapshots.enumerated() {
            let y = o.y + Double(r) * rowH
            var items: [Scene.Item] = [.text(stepLabel.map { "\($0) \(snap.step)" } ?? l("step \(snap.step)", "第 \(snap.step) 步"), at: Point(o.x, y + Double(kh * scale) / 2), size: Theme.labelSize, color: Theme.ink)]
            for (c, index) in order.enumerated() {
                let raster = snap.weights.data.withUnsafeBufferPointer { p -> RasterImage in
                    let per = cin * kh * kw
                    return FilterFilmstrip.raster(UnsafeBufferPointer(rebasing: p[(index * per)..<((index + 1) * per)]), cin: cin, kh: kh, kw: kw, bound: bound)
                }
                items.append(.image(raster, at: Point(o.x + labelW + Double(c) * (cell + gap), y), scale: scale))
            }
            scene.add(.group("step-\(snap.step)", items))
        }
        return scene
    }

    static func raster(_ w: UnsafeBufferPointer<Float>, cin: Int, kh: Int, kw: Int, bound: Float) -> RasterImage {
        var image = RasterImage(width: kw, height: kh)
        let plane = kh * kw
        for i in 0..<plane {
            for c in 0..<3 {
                let v = w[(cin == 3 ? c : 0) * plane + i]
                image.pixels[4 * i + c] = RasterImage.byte(0.5 + 0.5 * Double(v) / max(Double(bound), 1e-12))  // NaN: 0, not a trap
            }
            image.pixels[4 * i + 3] = 255
        }
        return image
    }
}
