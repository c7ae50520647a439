import ConvVizCore
import ConvVizRender
import Foundation

/// The course's pooling figures: max pooling on a patch of a real photograph (its 8-bit
/// pixel values), and the same patch shifted by one pixel with what max pooling keeps.
struct PoolingLecture {
    let context: LectureContext

    func figures() throws -> [Report.Figure] {
        let l = context.language
        let strip = try PoolingShift.photoStrip(seed: context.seed)
        let text = FigureText(language: l)
        var shift = PoolingShift(wide: strip.values)
        shift.source = strip.source(l)
        shift.text = text
        var pooling = PoolingDiagram(values: shift.original)
        pooling.source = strip.source(l)
        pooling.text = text
        let kept = shift.unchanged.filter { $0 }.count
        let settings = ["photo": PoolingShift.photoName, "patch": "\(strip.y),\(strip.x)", "kernel": "2", "stride": "2", "seed": String(context.seed)]
        return [
            Report.Figure(id: "pooling", title: l("Max pooling", "最大池化"),
                          caption: l("2x2 max pooling with stride 2 on an 8x8 patch of a photograph: each coloured window becomes its maximum, computed by ConvViz's max-pooling layer.",
                                     "在照片的 8x8 图块上做 2x2、步幅 2 的最大池化：每个着色窗口变为其最大值，由 ConvViz 的最大池化层计算。"),
                          settings: settings, scene: pooling.scene()),
            Report.Figure(id: "pooling-shift", title: l("Pooling and small shifts", "池化与小平移"),
                          caption: l("The same patch moved one pixel to the right: \(kept) of the \(shift.unchanged.count) max-pooled values stay the same, although \(shift.changedInputs) of the \(shift.original.count) input values changed.",
                                     "同一图块向右平移一个像素：\(shift.unchanged.count) 个最大池化输出中有 \(kept) 个保持不变，而 \(shift.original.count) 个输入值中有 \(shift.changedInputs) 个发生了变化。"),
                          settings: settings, scene: shift.scene()),
        ].filter { context.wants($0.id) }
    }
}

extension PoolingShift {
    /// The photograph the lecture's pooling examples are cut from.
    public static let photoName = "camera"

    /// An `[H, W + 1]` strip of `camera.png`'s 8-bit pixel values, at the most varied of
    /// a seeded sample of positions (flat patches would pool to the same value however
    /// shifted, which shows nothing).
    public struct PhotoStrip {
        public let values: Tensor
        public let y: Int, x: Int
        public func source(_ l: Language) -> String {
            l("Values: 8-bit pixels of \(PoolingShift.photoName).png (scikit-image sample, CC0) at row \(y), column \(x).",
              "数值：\(PoolingShift.photoName).png（scikit-image 示例图片，CC0）第 \(y) 行、第 \(x) 列处的 8 位像素值。")
        }
    }

    public static func photoStrip(height: Int = 8, width: Int = 8, seed: UInt64) throws -> PhotoStrip {
        let photo = try SamplePhotos.load(photoName)
        let (h, w) = (photo.shape[1], photo.shape[2])
        var rng = SeededGenerator(seed: seed &+ 0x9001)
        var best: (spread: Float, y: Int, x: Int) = (-1, 0, 0)
        for _ in 0..<64 {
            let y = rng.below(h - height), x = rng.below(w - width - 1)
            var values: [Float] = []
            for i in 0..<height { for j in 0...width { values.append(photo.data[(y + i) * w + x + j]) } }
            let mean = values.reduce(0, +) / Float(values.count)
            let spread = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
            if spread > best.spread { best = (spread, y, x) }
        }
        var strip = Tensor(shape: [height, width + 1])
        for i in 0..<height { for j in 0...width { strip[i, j] = (photo.data[(best.y + i) * w + best.x + j] * 255).rounded() } }
        return PhotoStrip(values: strip, y: best.y, x: best.x)
    }
}
