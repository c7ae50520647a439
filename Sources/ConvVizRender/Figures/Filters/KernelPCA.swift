import ConvVizCore
import Foundation

/// The principal kernel shapes of a layer, as in Gavrikov and Keuper's filter-database
/// studies: every 2-D kernel `w[f, c]` (C_out x C_in of them, K_h x K_w values each) is a
/// point; PCA over them (centred) gives the shapes that explain most of their variance.
/// Each component is drawn on a diverging scale around 0 with its explained variance.
public struct KernelPCA {
    public struct Component: Sendable {
        /// Unit-length, sign fixed so its largest |value| (the first, in row-major order,
        /// among values within 1% of it) is positive.
        public var vector: [Float]
        public var variance: Double
        public var explained: Double
    }

    public var weights: Tensor
    public var title: String?
    public var scale: Int = 16
    /// How many components to draw (at most K_h x K_w).
    public var count: Int?
    /// The user's title and caption, and the language of every other word.
    public var text = FigureText()

    public init(weights: Tensor) {
        precondition(weights.rank == 4, "kernels must be [C_out, C_in, K_h, K_w]")
        self.weights = weights
    }

    /// The components, largest variance first. Non-finite kernels are left out.
    public func components() -> [Component] {
        let d = weights.shape[2] * weights.shape[3], n = weights.count / max(d, 1)
        var mean = [Double](repeating: 0, count: d), used = 0
        var rows: [[Double]] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            let row = (0..<d).map { Double(weights.data[i * d + $0]) }
            guard row.allSatisfy(\.isFinite) else { continue }
            rows.append(row); used += 1
            for k in 0..<d { mean[k] += row[k] }
        }
        guard used > 1 else { return [] }
        for k in 0..<d { mean[k] /= Double(used) }
        var cov = [Double](repeating: 0, count: d * d)
        for row in rows {
            for a in 0..<d { let xa = row[a] - mean[a]; for b in a..<d { cov[a * d + b] += xa * (row[b] - mean[b]) } }
        }
        for a in 0..<d { for b in a..<d { cov[a * d + b] /= Double(used - 1); cov[b * d + a] = cov[a * d + b] } }
        let (values, vectors) = SymmetricEigen.jacobi(cov, d)
        let total = values.reduce(0) { $0 + max($1, 0) }
        return (0..<d).sorted { values[$0] > values[$1] }.map { j in
            var v = (0..<d).map { vectors[$0 * d + j] }
            let top = v.map(abs).max() ?? 0
            if let lead = v.first(where: { abs($0) >= top * 0.99 }), lead < 0 { v = v.map { -$0 } }
            return Component(vector: v.map(Float.init), variance: max(values[j], 0), explained: total > 0 ? max(values[j], 0) / total : 0)
        }
    }

    public func scene() -> Scene {
        let (co, ci, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
        let all = components()
        let shown = Array(all.prefix(max(1, count ?? all.count)))
        let s = max(1, min(scale, 64)), gap = 14.0, labelH = Theme.smallSize + 8
        let cellW = Double(kw * s), cellH = Double(kh * s)
        let stepX = max(cellW, 56) + gap
        let m = shown.flatMap(\.vector).map(abs).max() ?? 1
        let bar = Colorbar(colormap: .redBlue, low: -m, high: m, height: max(cellH, 60))
        let cumulative = shown.reduce(0) { $0 + $1.explained }
        let l = text.language, percent = String(format: "%.1f", cumulative * 100)
        let caption = [l("PCA over the \(co * ci) kernels of \(kh)x\(kw) (centred); each component a unit vector, blue < 0 < red.",
                         "对 \(co * ci) 个 \(kh)x\(kw) 卷积核做主成分分析（已中心化）；每个主成分是单位向量，蓝 < 0 < 红。"),
                       l("The \(shown.count) drawn explain \(percent)% of the variance.", "所绘 \(shown.count) 个主成分解释了 \(percent)% 的方差。")]
        let frame = FigureFrame(title: title ?? l("Principal kernel shapes \(co)×\(ci)×\(kh)×\(kw)", "卷积核的主成分形状 \(co)×\(ci)×\(kh)×\(kw)"), caption: caption,
                                contentWidth: stepX * Double(max(shown.count, 1)) + bar.width, contentHeight: max(cellH, 60) + labelH, text: text)
        var scene = frame.makeScene()
        let o = frame.contentOrigin
        for (i, c) in shown.enumerated() {
            let x = o.x + Double(i) * stepX
            let raster = c.vector.withUnsafeBufferPointer { Colormap.redBlue.raster($0, width: kw, height: kh, low: -m, high: m) }
            scene.add(.group("component-\(i + 1)", [
                .image(raster, at: Point(x, o.y), scale: s),
                .text("PC\(i + 1) \(String(format: "%.1f", c.explained * 100))%", at: Point(x, o.y + cellH + labelH / 2 + 2), size: Theme.smallSize, color: Theme.ink),
            ]))
        }
        if shown.isEmpty { scene.add(.text(l("fewer than two finite kernels: no components", "有限的卷积核少于两个：没有主成分"), at: Point(o.x, o.y + 20), size: Theme.labelSize, color: Theme.warning)) }
        scene.add(.group("colorbar", bar.items(at: Point(o.x + stepX * Double(max(shown.count, 1)), o.y))))
        return scene
    }
}
