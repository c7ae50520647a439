import ConvVizCore
import Foundation

/// The cascading randomisation check drawn: a row per method, a column per step (the
/// original network, then weights re-initialised from the logits down to the named
/// layer), each map on its own range, Spearman's rank correlation with the original
/// under it.
public struct AttributionSanityFigure {
    public var result: CascadingRandomisation
    public var colormap: Colormap = .magma
    public var notes: [String] = []
    public var title: String?
    public var text = FigureText()

    public init(_ result: CascadingRandomisation) { self.result = result }

    public func scene() -> Scene {
        let l = text.language
        let first = result.steps[0].maps[0]
        let (h, w) = (first.shape[0], first.shape[1])
        let s = max(1, 112 / max(h, w))
        let cellW = Double(w * s), cellH = Double(h * s)
        let labelW = 150.0, gap = 10.0, headerH = 2 * Theme.labelSize + 12, scoreH = Theme.smallSize + 8
        let steps = result.steps
        let caption = [l("Cascading parameter randomisation (Adebayo et al. 2018): weights re-initialised from the logits down, one more group of layers per column; ρ is Spearman's rank correlation with the original map. A map that explains the model decorrelates.",
                         "级联参数随机化（Adebayo 等，2018）：从输出层往下逐组重新初始化权重，每列多一组；ρ 是与原始图的 Spearman 秩相关。能解释模型的图会失去相关。")] + notes
        let frame = FigureFrame(title: title ?? l("Sanity check: parameter randomisation", "可信度检验：参数随机化"), caption: caption,
                                contentWidth: labelW + Double(steps.count) * (cellW + gap),
                                contentHeight: headerH + Double(result.methods.count) * (cellH + scoreH + gap), text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        for (c, step) in steps.enumerated() {
            let x = o.x + labelW + Double(c) * (cellW + gap)
            let label = step.through.map { l("to \($0)", "至 \($0)") } ?? l("original", "原始")
            scene.add(.text(label, at: Point(x, o.y + Theme.labelSize / 2), size: Theme.smallSize, color: Theme.ink))
        }
        for (r, method) in result.methods.enumerated() {
            let y = o.y + headerH + Double(r) * (cellH + scoreH + gap)
            var items: [Scene.Item] = [.text(method.rawValue, at: Point(o.x, y + cellH / 2), size: Theme.labelSize, color: Theme.ink, bold: true)]
            for (c, step) in steps.enumerated() {
                let x = o.x + labelW + Double(c) * (cellW + gap)
                let map = step.maps[r]
                let values = map.data.map { method.isSigned ? abs($0) : $0 }
                let raster = values.withUnsafeBufferPointer { colormap.raster($0, width: w, height: h, low: values.min() ?? 0, high: max((values.max() ?? 0), (values.min() ?? 0) + 1e-12)) }
                items.append(.image(raster, at: Point(x, y), scale: s))
                let rho = step.correlations[r]
                items.append(.text(rho.isNaN ? "ρ n/a" : String(format: "ρ = %.2f", rho), at: Point(x, y + cellH + scoreH / 2 + 2), size: Theme.smallSize, color: Theme.muted))
            }
            scene.add(.group("sanity-\(method.rawValue)", items))
        }
        return scene
    }
}
