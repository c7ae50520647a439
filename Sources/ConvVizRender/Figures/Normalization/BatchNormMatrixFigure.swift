import ConvVizCore
import Foundation

/// BatchNorm on an `N x D` matrix, step by step: the matrix with each column's mean and
/// variance under it, the normalized matrix, then gamma and beta applied. Every number
/// comes from `MatrixBatchNorm` (the BatchNorm layer run on the matrix). Cells are
/// groups named `input-i-j`, `mean-j`, `variance-j`, `normalized-i-j`, `gamma-j`,
/// `beta-j`, `output-i-j`.
public struct BatchNormMatrixFigure {
    public var result: MatrixBatchNorm
    /// Where the matrix comes from, said in the caption.
    public var source: String?
    public var text = FigureText()

    public init(_ result: MatrixBatchNorm) { self.result = result }

    static let cellW = 56.0, cellH = 24.0, arrowW = 150.0

    public func scene() -> Scene {
        let l = text.language
        let (n, d) = (result.input.shape[0], result.input.shape[1])
        let matrixW = Double(d) * Self.cellW
        let statsTop = Double(n) * Self.cellH + 14
        let contentH = 40 + statsTop + 2 * Self.cellH + 30
        // What normalization achieved, measured on the normalized matrix.
        var worstMean: Float = 0, lowVar: Float = .infinity, highVar: Float = 0
        for j in 0..<d {
            let column = (0..<n).map { result.normalized[$0, j] }
            let m = column.reduce(0, +) / Float(n)
            let v = column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(n)
            worstMean = max(worstMean, abs(m)); lowVar = min(lowVar, v); highVar = max(highVar, v)
        }
        var caption = [
            l("BatchNorm on an N x D = \(n) x \(d) matrix (N samples, D features): each column j is normalized with its own mean μ_j and variance σ²_j over the N samples, x̂ = (x - μ_j) / √(σ²_j + ε) with ε = \(result.eps); then scaled by γ_j and shifted by β_j, which training learns.",
              "对 N x D = \(n) x \(d) 的矩阵（N 个样本，D 个特征）做批归一化：每一列 j 用它在 N 个样本上的均值 μ_j 和方差 σ²_j 归一化，x̂ = (x - μ_j) / √(σ²_j + ε)，ε = \(result.eps)；再乘以 γ_j、加上 β_j，这两个参数由训练学习。"),
            l(String(format: "Computed by ConvViz's BatchNorm layer (training mode, biased variance). After normalization every column has mean 0 (largest |mean| %.1e) and variance %.4f to %.4f.", worstMean, lowVar, highVar),
              String(format: "数值由 ConvViz 的批归一化层计算（训练模式，有偏方差）。归一化后每列均值为 0（最大 |均值| 为 %.1e），方差在 %.4f 到 %.4f 之间。", worstMean, lowVar, highVar)),
        ]
        if let source { caption.append(source) }
        let frame = FigureFrame(title: l("BatchNorm on an N x D matrix: per-column mean and variance, then γ and β", "N x D 矩阵上的批归一化：按列求均值和方差，再乘 γ 加 β"),
                                caption: caption, contentWidth: 3 * matrixW + 2 * Self.arrowW + 40, contentHeight: contentH, text: text)
        var scene = frame.makeScene()
        let top = frame.contentOrigin.y + 34
        let x0 = frame.contentOrigin.x + 30
        let x1 = x0 + matrixW + Self.arrowW, x2 = x1 + matrixW + Self.arrowW
        scene.add(.text("x (\(n) x \(d))", at: Point(x0, top - 16), size: Theme.labelSize, color: Theme.ink, bold: true))
        scene.add(.text("x̂ (\(n) x \(d))", at: Point(x1, top - 16), size: Theme.labelSize, color: Theme.ink, bold: true))
        scene.add(.text("y = γ x̂ + β (\(n) x \(d))", at: Point(x2, top - 16), size: Theme.labelSize, color: Theme.ink, bold: true))
        scene.add(.group("input", matrix(result.input, at: Point(x0, top), name: "input", fill: .white)))
        scene.add(.group("normalized", matrix(result.normalized, at: Point(x1, top), name: "normalized", fill: Color(0.93, 0.96, 1.0))))
        scene.add(.group("output", matrix(result.output, at: Point(x2, top), name: "output", fill: Color(0.93, 0.98, 0.93))))
        let statsY = top + statsTop
        scene.add(.group("statistics", row(result.mean, label: "μ", name: "mean", x: x0, y: statsY, fill: Color(1.0, 0.95, 0.85), digits: 3)
                                        + row(result.variance, label: "σ²", name: "variance", x: x0, y: statsY + Self.cellH, fill: Color(1.0, 0.95, 0.85), digits: 3)))
        scene.add(.group("affine", row(result.gamma, label: "γ", name: "gamma", x: x2, y: statsY, fill: Color(0.95, 0.92, 1.0))
                                    + row(result.beta, label: "β", name: "beta", x: x2, y: statsY + Self.cellH, fill: Color(0.95, 0.92, 1.0))))
        scene.add(.text(l("per column: \(l(.mean)) μ, \(l(.variance)) σ²", "按列：\(l(.mean)) μ，\(l(.variance)) σ²"), at: Point(x0, statsY + 2 * Self.cellH + 14), size: Theme.smallSize + 1, color: Theme.muted))
        scene.add(.text(l("learned per column: γ, β", "每列学习的参数：γ，β"), at: Point(x2, statsY + 2 * Self.cellH + 14), size: Theme.smallSize + 1, color: Theme.muted))
        let midY = top + Double(n) * Self.cellH / 2
        for (x, words) in [(x0 + matrixW, "(x - μ) / √(σ² + ε)"), (x1 + matrixW, "γ x̂ + β")] {
            scene.add(.group("arrow", [
                .text(words, at: Point(x + Self.arrowW / 2, midY - 14), size: Theme.labelSize, color: Theme.ink, anchor: .middle),
                .text("→", at: Point(x + Self.arrowW / 2, midY + 6), size: 22, color: Theme.muted, anchor: .middle),
            ]))
        }
        return scene
    }

    func matrix(_ m: Tensor, at o: Point, name: String, fill: Color) -> [Scene.Item] {
        var items: [Scene.Item] = []
        for i in 0..<m.shape[0] { for j in 0..<m.shape[1] {
            let r = Rect(o.x + Double(j) * Self.cellW, o.y + Double(i) * Self.cellH, Self.cellW, Self.cellH)
            items.append(.group("\(name)-\(i)-\(j)", [.rect(r, fill: fill, stroke: Theme.grid),
                                                     .text(FigureNumber.fixed(m[i, j], digits: 2), at: r.center, size: Theme.labelSize + 1, color: Theme.ink, anchor: .middle)]))
        }}
        return items
    }

    /// One value per column; statistics get three decimals so that a reader can redo x̂.
    func row(_ values: [Float], label: String, name: String, x: Double, y: Double, fill: Color, digits: Int = 2) -> [Scene.Item] {
        var items: [Scene.Item] = [.text(label, at: Point(x - 8, y + Self.cellH / 2), size: Theme.labelSize + 1, color: Theme.ink, anchor: .end, bold: true)]
        for (j, v) in values.enumerated() {
            let r = Rect(x + Double(j) * Self.cellW, y, Self.cellW, Self.cellH)
            items.append(.group("\(name)-\(j)", [.rect(r, fill: fill, stroke: Theme.grid),
                                                .text(FigureNumber.fixed(v, digits: digits), at: r.center, size: Theme.labelSize + 1, color: Theme.ink, anchor: .middle)]))
        }
        return items
    }
}
