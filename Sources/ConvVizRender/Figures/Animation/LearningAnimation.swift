import ConvVizCore
import Foundation

/// conv1's mosaic through training, one frame per recorded step: every filter on one
/// colour scale (the largest |w| over every step, as the filmstrip), in the order of the
/// last step's taxonomy so that each place follows one filter, with the step and the
/// taxonomy's counts at that step in each frame.
///
/// Groups: `mosaic` (an image per filter), `progress`, `frame-label`.
public struct LearningAnimation: Animation {
    public let steps: [(step: Int, weights: Tensor)]
    /// The taxonomy of each step's filters.
    public let taxonomies: [FilterTaxonomy]
    public var columns = 12
    /// Pixels per filter pixel.
    public var scale = 4
    public var text = FigureText()

    /// `steps` in training order, each `[C_out, C_in, K, K]` of one shape.
    public init(steps: [(step: Int, weights: Tensor)]) {
        precondition(!steps.isEmpty && steps.allSatisfy { $0.weights.rank == 4 && $0.weights.shape == steps[0].weights.shape })
        self.steps = steps
        taxonomies = steps.map { FilterTaxonomy(weights: $0.weights) }
    }

    public var frameCount: Int { steps.count }

    /// Filters in the order of the last step's classes (edges by orientation first).
    var order: [Int] {
        let last = taxonomies[taxonomies.count - 1]
        return FilterTaxonomy.Kind.allCases.flatMap { kind in last.entries.filter { $0.kind == kind }.sorted { $0.orientation < $1.orientation }.map(\.index) }
    }

    func counts(_ t: FilterTaxonomy, _ l: Language) -> String {
        let n = { (k: FilterTaxonomy.Kind) in t.entries.filter { $0.kind == k }.count }
        return l("\(n(.edge)) oriented edges, \(n(.colorOpponent)) colour-opponent, \(n(.blob)) centre-surround/blob, \(n(.unstructured)) unstructured",
                 "\(n(.edge)) 个方向边缘，\(n(.colorOpponent)) 个颜色对立，\(n(.blob)) 个中心-周边/斑点，\(n(.unstructured)) 个无结构")
    }

    public func frame(_ k: Int) -> Scene {
        let l = text.language
        let shape = steps[0].weights.shape
        let (count, cin, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let bound = steps.map { $0.weights.maxAbs }.max() ?? 1
        let cols = min(columns, count), rows = (count + cols - 1) / cols
        let cw = Double(kw * scale), ch = Double(kh * scale), gap = 3.0
        let lineH = Theme.labelSize + 7
        let mosaicW = Double(cols) * (cw + gap) - gap
        let labelW = TextMetrics.width(counts(taxonomies[0], l) + "888", size: Theme.labelSize)
        let contentW = max(mosaicW, labelW, 300)
        let contentH = Double(rows) * (ch + gap) + 14 + 10 + 10 + 2 * lineH
        let last = steps[steps.count - 1].step
        let frame = FigureFrame(title: l("conv1 through training", "训练过程中的 conv1"),
                                caption: [l("\(count) filters of \(cin)×\(kh)×\(kw), one frame per recorded step (\(steps.count) steps, 0 to \(last)); one colour scale for every frame: ±\(Colorbar.format(bound)) (mid-gray = 0); filters in the order of the last step's classes.",
                                            "\(count) 个 \(cin)×\(kh)×\(kw) 滤波器，每个记录的步一帧（共 \(steps.count) 步，0 到 \(last)）；所有帧共用一个色标：±\(Colorbar.format(bound))（中灰 = 0）；滤波器按最后一步的分类排列。")],
                                contentWidth: contentW, contentHeight: contentH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        let snap = steps[k]
        var mosaic: [Scene.Item] = []
        snap.weights.data.withUnsafeBufferPointer { p in
            let per = cin * kh * kw
            for (n, index) in order.enumerated() {
                let raster = FilterFilmstrip.raster(UnsafeBufferPointer(rebasing: p[(index * per)..<((index + 1) * per)]), cin: cin, kh: kh, kw: kw, bound: bound)
                mosaic.append(.image(raster, at: Point(o.x + Double(n % cols) * (cw + gap), o.y + Double(n / cols) * (ch + gap)), scale: scale))
            }
        }
        scene.add(.group("mosaic", mosaic))
        // Progress through training: the share of the last step reached.
        let barY = o.y + Double(rows) * (ch + gap) + 10
        let done = last > 0 ? Double(snap.step) / Double(last) : 1
        scene.add(.group("progress", [
            .rect(Rect(o.x, barY, contentW, 8), fill: Color(0.92, 0.92, 0.94)),
            .rect(Rect(o.x, barY, contentW * done, 8), fill: Theme.series[0]),
        ]))
        let top = barY + 8 + 12
        scene.add(.group("frame-label", [
            .text(l("step \(snap.step) of \(last) — frame \(k + 1) of \(frameCount)", "第 \(snap.step) 步，共 \(last) 步 — 第 \(k + 1) 帧，共 \(frameCount) 帧"), at: Point(o.x, top + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.ink, bold: true),
            .text(counts(taxonomies[k], l), at: Point(o.x, top + lineH + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.ink),
        ]))
        return scene
    }
}
