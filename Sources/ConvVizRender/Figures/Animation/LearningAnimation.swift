import ConvVizCore
import Foundation

/// conv1's mosaic through training, one frame per recorded step: every filter on one
/// colour scale (the largest |w| over every step, as the filmstrip), in the order of the
/// last step's taxonomy so that each place follows one filter, with the step and the
/// taxonomy's counts at that step in each frame.
///
/// Its GIF (and the PNG of one frame, `rasterFrame`) draws the filter pixels on
/// `filterPalette`: `rasterColours` colours chosen by median cut over every step's filter
/// pixels, one palette for the whole animation (a filter that does not change keeps its
/// colours), leaving the rest of GIF's 256 to the text and its antialiasing. SVG and PDF
/// draw the exact colours.
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
    /// The filter pixels' colours in a raster frame: every step's, by median cut.
    public let filterPalette: MedianCutPalette

    /// Colours the filter pixels get in a raster frame. Median cut rather than a fixed
    /// colour cube: at step 0 the filters are small noise around mid-gray, which a cube's
    /// five or six levels a channel would flatten to one gray; median cut spends its
    /// colours where the filters' colours are. 160 leaves 96 to the text, the progress bar
    /// and their antialiasing, which take 84 at an edge tolerance of 3/255 (measured on
    /// `make animations`' run: 244 colours over its 22 frames).
    public static let rasterColours = 160

    /// `steps` in training order, each `[C_out, C_in, K, K]` of one shape.
    public init(steps: [(step: Int, weights: Tensor)]) {
        precondition(!steps.isEmpty && steps.allSatisfy { $0.weights.rank == 4 && $0.weights.shape == steps[0].weights.shape })
        self.steps = steps
        taxonomies = steps.map { FilterTaxonomy(weights: $0.weights) }
        var counts: [UInt32: Int] = [:]
        for k in steps.indices {
            for image in Self.filterRasters(steps, k) {
                for i in 0..<(image.width * image.height) { counts[image.word(i), default: 0] += 1 }
            }
        }
        filterPalette = MedianCutPalette(counts: counts, count: Self.rasterColours)
    }

    /// The colour scale: the largest |w| over every step.
    static func bound(_ steps: [(step: Int, weights: Tensor)]) -> Float { steps.map { $0.weights.maxAbs }.max() ?? 1 }

    /// Step `k`'s filters as rasters, in filter order.
    static func filterRasters(_ steps: [(step: Int, weights: Tensor)], _ k: Int) -> [RasterImage] {
        let shape = steps[k].weights.shape, bound = bound(steps)
        let (count, cin, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let per = cin * kh * kw
        return steps[k].weights.data.withUnsafeBufferPointer { p in
            (0..<count).map { FilterFilmstrip.raster(UnsafeBufferPointer(rebasing: p[($0 * per)..<(($0 + 1) * per)]), cin: cin, kh: kh, kw: kw, bound: bound) }
        }
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

    public func frame(_ k: Int) -> Scene { frame(k, palette: nil) }

    /// The frame with its filter pixels on `filterPalette`.
    public func rasterFrame(_ k: Int) -> Scene { frame(k, palette: filterPalette) }

    func frame(_ k: Int, palette: MedianCutPalette?) -> Scene {
        let l = text.language
        let shape = steps[0].weights.shape
        let (count, cin, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let bound = Self.bound(steps)
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
        let rasters = Self.filterRasters(steps, k)
        var mosaic: [Scene.Item] = []
        for (n, index) in order.enumerated() {
            var raster = rasters[index]
            if let palette {
                for i in 0..<(raster.width * raster.height) { raster.setWord(i, palette.mapping[raster.word(i)]!) }
            }
            mosaic.append(.image(raster, at: Point(o.x + Double(n % cols) * (cw + gap), o.y + Double(n / cols) * (ch + gap)), scale: scale))
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
