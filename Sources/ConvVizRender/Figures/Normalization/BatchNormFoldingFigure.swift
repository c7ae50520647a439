import ConvVizCore
import Foundation

/// BatchNorm folded into the convolution before it, for one output channel: the
/// convolution's kernel W and bias b, BatchNorm's γ, β, running mean and variance, the
/// scale s = γ/√(σ² + ε), the folded W' = W·s and b' = (b - μ)·s + β, and the check that
/// the folded convolution computes what the two layers computed. Values are groups
/// named `weight-i-j`, `folded-i-j`, `bias`, `folded-bias`, `gamma`, `beta`,
/// `running-mean`, `running-variance`, `scale`, `check`.
public struct BatchNormFoldingFigure {
    public var conv: Conv2D
    public var bn: BatchNorm2D
    public var check: BatchNormFolding.Check
    /// The output channel shown.
    public var channel = 0
    /// How many images the check ran on, and where they came from.
    public var checkedOn: String
    public var source: String?
    public var text = FigureText()

    public init(conv: Conv2D, bn: BatchNorm2D, check: BatchNormFolding.Check, checkedOn: String) {
        self.conv = conv
        self.bn = bn
        self.check = check
        self.checkedOn = checkedOn
    }

    static let cell = 58.0

    static func number(_ v: Float) -> String {
        let s = String(format: "%.4f", v)
        return s.hasPrefix("-") && Float(s) == 0 ? String(s.dropFirst()) : s
    }

    /// A negative number in brackets where it follows an operator: "- (-0.14)".
    static func signed(_ v: Float) -> String { let s = number(v); return s.hasPrefix("-") ? "(\(s))" : s }

    public func scene() -> Scene {
        let l = text.language
        let c = channel
        let (k1, k2) = (conv.window.kernel.h, conv.window.kernel.w)
        let perFilter = conv.weight.value.count / conv.outputChannels
        // Input channel 0 of filter c: the whole kernel when the layer sees one channel.
        func kernel(_ w: Tensor) -> [[Float]] { (0..<k1).map { i in (0..<k2).map { j in w.data[c * perFilter + i * k2 + j] } } }
        let gamma = bn.weight.value.data[c], beta = bn.bias.value.data[c]
        let mean = bn.runningMean.value.data[c], variance = bn.runningVar.value.data[c]
        let b = conv.bias?.value.data[c] ?? 0
        let scale = Float(Double(gamma) / (Double(variance) + Double(bn.eps)).squareRoot())
        let gridW = Double(k2) * Self.cell, gridH = Double(k1) * Self.cell
        let middleW = 430.0
        var caption = [
            l("At test time BatchNorm is a fixed affine map per channel, so it folds into the convolution before it: with s = γ / √(σ² + ε) (σ², μ: running variance and mean), W' = W · s and b' = (b - μ) · s + β; one layer then does the work of two.",
              "测试时批归一化对每个通道是固定的仿射变换，因此可以折叠进它前面的卷积：令 s = γ / √(σ² + ε)（σ²、μ 为滑动平均方差和均值），则 W' = W · s，b' = (b - μ) · s + β；一个层完成两个层的工作。"),
            l(String(format: "Check on %@: max |BN(conv(x)) - conv'(x)| = %.2e, for outputs up to %.3g in magnitude (float rounding).", checkedOn, check.maxAbsDifference, check.maxAbsOutput),
              String(format: "在%@上检验：max |BN(conv(x)) - conv'(x)| = %.2e，输出的绝对值最大为 %.3g（浮点舍入误差）。", checkedOn, check.maxAbsDifference, check.maxAbsOutput)),
        ]
        if conv.inputChannels > 1 {
            caption.append(l("Kernels shown for input channel 0 of \(conv.inputChannels); every input channel is scaled by the same s.",
                             "图中只显示 \(conv.inputChannels) 个输入通道中的第 0 个；所有输入通道都乘以同一个 s。"))
        }
        if let source { caption.append(source) }
        let frame = FigureFrame(title: l("Folding BatchNorm into the convolution (\(conv.name) + \(bn.name), channel \(c))",
                                         "把批归一化折叠进卷积（\(conv.name) + \(bn.name)，通道 \(c)）"),
                                caption: caption, contentWidth: 2 * gridW + middleW + 60, contentHeight: max(gridH, 170) + 90, text: text)
        var scene = frame.makeScene()
        let top = frame.contentOrigin.y + 26
        let x0 = frame.contentOrigin.x + 10, xm = x0 + gridW + 30, x1 = xm + middleW
        scene.add(.text(l("W (\(conv.name), filter \(c))", "W（\(conv.name)，滤波器 \(c)）"), at: Point(x0, top - 14), size: Theme.labelSize, color: Theme.ink, bold: true))
        scene.add(.text(l("W' = W · s (folded)", "W' = W · s（折叠后）"), at: Point(x1, top - 14), size: Theme.labelSize, color: Theme.ink, bold: true))
        scene.add(.group("weight", grid(kernel(conv.weight.value), at: Point(x0, top), name: "weight", fill: .white)))
        scene.add(.group("folded", grid(kernel(check.weight), at: Point(x1, top), name: "folded", fill: Color(0.93, 0.98, 0.93))))
        let biasY = top + gridH + 18
        scene.add(.group("bias", [.text("b = \(Self.number(b))", at: Point(x0, biasY), size: Theme.labelSize + 1, color: Theme.ink)]))
        scene.add(.group("folded-bias", [.text("b' = \(Self.number(check.bias.data[c]))", at: Point(x1, biasY), size: Theme.labelSize + 1, color: Theme.ink, bold: true)]))
        let lines: [(String, String)] = [
            ("gamma", "γ = \(Self.number(gamma))"), ("beta", "β = \(Self.number(beta))"),
            ("running-mean", l("μ (\(Term.runningMean.english)) = \(Self.number(mean))", "μ（\(Term.runningMean.chinese)）= \(Self.number(mean))")),
            ("running-variance", l("σ² (\(Term.runningVariance.english)) = \(Self.number(variance))", "σ²（\(Term.runningVariance.chinese)）= \(Self.number(variance))")),
            ("scale", "s = γ / √(σ² + ε) (ε = \(bn.eps)) = \(Self.number(scale))"),
            ("bias-formula", "b' = (b - μ) · s + β = (\(Self.number(b)) - \(Self.signed(mean))) · \(Self.number(scale)) + \(Self.signed(beta))"),
        ]
        for (i, (name, line)) in lines.enumerated() {
            scene.add(.group(name, [.text(line, at: Point(xm, top + 10 + Double(i) * 22), size: Theme.labelSize + 1, color: Theme.ink)]))
        }
        scene.add(.group("check", [.text(String(format: "max |BN(conv(x)) - conv'(x)| = %.2e", check.maxAbsDifference),
                                         at: Point(xm, biasY + 26), size: Theme.labelSize + 1, color: Theme.ink, bold: true)]))
        return scene
    }

    func grid(_ values: [[Float]], at o: Point, name: String, fill: Color) -> [Scene.Item] {
        var items: [Scene.Item] = []
        for (i, row) in values.enumerated() { for (j, v) in row.enumerated() {
            let r = Rect(o.x + Double(j) * Self.cell, o.y + Double(i) * Self.cell, Self.cell, Self.cell)
            items.append(.group("\(name)-\(i)-\(j)", [.rect(r, fill: fill, stroke: Theme.grid),
                                                     .text(Self.number(v), at: r.center, size: Theme.labelSize, color: Theme.ink, anchor: .middle)]))
        }}
        return items
    }
}
