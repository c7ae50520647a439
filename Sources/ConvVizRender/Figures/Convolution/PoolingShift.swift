import ConvVizCore
import Foundation

/// Max pooling's invariance to small shifts: an input, the same content shifted one
/// pixel to the right, both pooled, and which pooled values stayed the same (outlined
/// green) or changed (dashed magenta). The counts are computed from the pooled values.
public struct PoolingShift {
    /// `[H, W]`: the input as first seen.
    public var original: Tensor
    /// `[H, W]`: the content moved one pixel right (a new column enters on the left).
    public var shifted: Tensor
    public var kind: PoolingDiagram.Kind = .max
    public var kernel = 2
    public var stride = 2
    /// Where the values come from, said in the caption.
    public var source: String?
    public var text = FigureText()

    public init(original: Tensor, shifted: Tensor) {
        precondition(original.rank == 2 && original.shape == shifted.shape, "two [H, W] inputs of one shape")
        self.original = original
        self.shifted = shifted
    }

    /// The pair cut from `wide` `[H, W + 1]`: the original is columns 1...W, the shifted
    /// input columns 0..<W, so each shifted pixel is the original's left neighbour.
    public init(wide: Tensor) {
        precondition(wide.rank == 2 && wide.shape[1] >= 2, "a [H, W + 1] strip")
        let (h, w) = (wide.shape[0], wide.shape[1] - 1)
        var a = Tensor(shape: [h, w]), b = Tensor(shape: [h, w])
        for y in 0..<h { for x in 0..<w { a[y, x] = wide[y, x + 1]; b[y, x] = wide[y, x] } }
        self.init(original: a, shifted: b)
    }

    func diagram(_ values: Tensor) -> PoolingDiagram {
        var d = PoolingDiagram(values: values)
        d.kind = kind; d.kernel = kernel; d.stride = stride; d.text = text
        return d
    }

    /// Per pooled cell (row-major): whether the shifted input pools to the same value.
    public var unchanged: [Bool] {
        let a = diagram(original).output, b = diagram(shifted).output
        return zip(a.data, b.data).map { $0 == $1 }
    }

    /// How many input values differ at the same position after the shift.
    public var changedInputs: Int { zip(original.data, shifted.data).filter { $0 != $1 }.count }

    public func scene() -> Scene {
        let l = text.language
        let top = diagram(original), bottom = diagram(shifted)
        let same = unchanged
        let kept = same.filter { $0 }.count
        let size = top.panelSize
        let name = kind == .max ? l(.maxPooling) : l(.averagePooling)
        var caption = [
            l("The same content moved one pixel to the right changes \(changedInputs) of the \(original.count) input values at their positions; after \(kernel)x\(kernel) \(name) with stride \(stride), \(kept) of the \(same.count) pooled values are unchanged (green) and \(same.count - kept) changed (dashed).",
              "同一内容向右平移一个像素后，\(original.count) 个输入值中有 \(changedInputs) 个在原位置上发生变化；经过 \(kernel)x\(kernel)、步幅 \(stride) 的\(name)后，\(same.count) 个池化输出中有 \(kept) 个不变（绿色），\(same.count - kept) 个改变（虚线）。"),
            l("A window's maximum survives a small shift whenever the largest value stays inside the window: this is the (partial) invariance to small shifts that pooling gives.",
              "只要最大值在平移后仍留在同一窗口内，该窗口的最大值就不变：这就是池化带来的对小平移的（部分）不变性。"),
        ]
        if let source { caption.append(source) }
        let gap = 30.0
        let frame = FigureFrame(title: l("Max pooling and a one-pixel shift", "最大池化与一个像素的平移"), caption: caption,
                                contentWidth: size.width + 20, contentHeight: 2 * size.height + gap + 16, text: text)
        var scene = frame.makeScene()
        let o1 = frame.contentOrigin, o2 = Point(frame.contentOrigin.x, frame.contentOrigin.y + size.height + gap)
        for item in top.panel(at: o1, names: ("input", "pooled"), windows: false,
                              label: l("input \(original.shape[0])x\(original.shape[1])", "输入 \(original.shape[0])x\(original.shape[1])")) { scene.add(item) }
        for item in bottom.panel(at: o2, names: ("shifted-input", "shifted-pooled"), windows: false,
                                 label: l("shifted right by 1 pixel", "向右平移 1 个像素")) { scene.add(item) }
        var marks: [Scene.Item] = []
        let columns = top.output.shape[1]
        for (i, isSame) in same.enumerated() {
            let (y, x) = (i / columns, i % columns)
            let r = bottom.outputCell(y: y, x: x, panelOrigin: o2)
            let inner = Rect(r.x + 1, r.y + 1, r.width - 2, r.height - 2)
            let corners = [Point(inner.x, inner.y), Point(inner.maxX, inner.y), Point(inner.maxX, inner.maxY), Point(inner.x, inner.maxY)]
            marks.append(.group(isSame ? "unchanged-\(y)-\(x)" : "changed-\(y)-\(x)", [
                .polyline(corners, color: isSame ? Self.keptColor : Theme.warning, width: isSame ? 2.5 : 1.5, closed: true, dash: isSame ? [] : [4, 3]),
            ]))
        }
        scene.add(.group("marks", marks))
        return scene
    }

    static let keptColor = Color(0.0, 0.62, 0.45)
}
