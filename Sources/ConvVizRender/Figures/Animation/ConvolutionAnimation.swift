import ConvVizCore
import Foundation

/// conv_arithmetic's animation for any case: the input grid with its padding drawn
/// apart (and, transposed, the zeros inserted between cells), the kernel's footprint at
/// one output position per frame, the output cells written so far, and under them the
/// position and the output-size formula with its numbers. With values, every cell shows
/// its number, every tap its kernel weight, and each frame the dot product it writes.
///
/// Groups (read back by the tests from the SVG): `grid` (a rectangle per grid cell,
/// row by row, padding included), `footprint` (a rectangle per tap), `output-grid`,
/// `output-current`, `frame-label`.
public struct ConvolutionAnimation: Animation {
    public let arithmetic: ConvolutionArithmetic
    /// Input `[H, W]` and kernel `[K, K]` values to show, with each dot product; nil: shapes only.
    public var values: (input: Tensor, kernel: Tensor)?
    public var text = FigureText()

    public init(_ arithmetic: ConvolutionArithmetic) { self.arithmetic = arithmetic }

    /// Small integers, as conv_arithmetic shows: input cells 0 to 3, kernel weights 0 to 2.
    public static func integerValues(for a: ConvolutionArithmetic, seed: UInt64) -> (input: Tensor, kernel: Tensor) {
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(shape: [a.input.h, a.input.w], data: (0..<(a.input.h * a.input.w)).map { _ in Float(rng.below(4)) })
        let w = Tensor(shape: [a.kernel, a.kernel], data: (0..<(a.kernel * a.kernel)).map { _ in Float(rng.below(3)) })
        return (x, w)
    }

    public var frameCount: Int { arithmetic.output.h * arithmetic.output.w }

    static let inputFill = Color(0.78, 0.87, 0.96), paddingFill = Color(0.96, 0.96, 0.97), zeroFill = Color(0.91, 0.93, 0.97)
    static let footprintFill = Color(0.16, 0.40, 0.72), writtenFill = Color(0.76, 0.90, 0.80), currentFill = Color(0.10, 0.52, 0.33)

    var cell: Double { values == nil ? 26 : 36 }

    /// The output values, computed once per frame call (a few hundred multiply-adds).
    var outputValues: Tensor? { values.map { arithmetic.apply(input: $0.input, kernel: $0.kernel) } }

    /// The kernel weight a tap multiplies: transposed, the kernel is flipped (the
    /// gathering view of a scattering operation).
    func weight(tap i: Int, _ j: Int) -> Float? {
        guard let w = values?.kernel else { return nil }
        let k = arithmetic.kernel
        return arithmetic.transposed ? w[k - 1 - i, k - 1 - j] : w[i, j]
    }

    /// The output-size formulas with the numbers, one per axis (one when square).
    public var formulas: [String] {
        let a = arithmetic
        let axes = a.input.h == a.input.w ? [("H", a.input.h, a.output.h)] : [("H", a.input.h, a.output.h), ("W", a.input.w, a.output.w)]
        return axes.map { name, n, out in
            if a.transposed {
                return "\(name)' = (\(name) − 1)S − 2P + D(K−1) + output_padding + 1 = (\(n) − 1)·\(a.stride) − 2·\(a.padding) + \(a.dilation)·\(a.kernel - 1) + \(a.outputPadding) + 1 = \(out)"
            }
            return "\(name)' = ⌊(\(name) + 2P − D(K−1) − 1)/S⌋ + 1 = ⌊(\(n) + 2·\(a.padding) − \(a.dilation)·\(a.kernel - 1) − 1)/\(a.stride)⌋ + 1 = \(out)"
        }
    }

    /// The dot product written at output (y, x), one line per kernel row.
    func dotProduct(y: Int, x: Int, output: Tensor) -> [String] {
        guard let values else { return [] }
        let a = arithmetic
        let taps = a.footprint(y: y, x: x)
        var rows: [String] = []
        for i in 0..<a.kernel {
            let terms = (0..<a.kernel).map { j -> String in
                let p = taps[i * a.kernel + j]
                let v: Float = { if let r = a.inputIndex(p.h, count: a.input.h), let c = a.inputIndex(p.w, count: a.input.w) { return values.input[r, c] }; return 0 }()
                return "\(FigureNumber.format(v))·\(FigureNumber.format(weight(tap: i, j)!))"
            }
            rows.append((i == 0 ? "y(\(y), \(x)) = " : "    + ") + terms.joined(separator: " + "))
        }
        rows[rows.count - 1] += " = \(FigureNumber.format(output[y, x]))"
        return rows
    }

    var title: String {
        let a = arithmetic, l = text.language
        let size = a.input.h == a.input.w ? "\(a.input.h)×\(a.input.h)" : "\(a.input.h)×\(a.input.w)"
        let settings = l("\(size) input, \(a.kernel)×\(a.kernel) kernel, stride \(a.stride), padding \(a.padding), dilation \(a.dilation)",
                         "\(size) 输入，\(a.kernel)×\(a.kernel) 卷积核，步幅 \(a.stride)，填充 \(a.padding)，膨胀 \(a.dilation)")
        let op = a.outputPadding > 0 ? l(", output padding \(a.outputPadding)", "，输出填充 \(a.outputPadding)") : ""
        return a.transposed ? l("Transposed convolution: \(settings)\(op)", "转置卷积：\(settings)\(op)") : l("Convolution: \(settings)", "卷积：\(settings)")
    }

    var caption: [String] {
        let a = arithmetic, l = text.language
        var lines: [String]
        if a.transposed {
            lines = [l("Drawn as a direct convolution (Dumoulin and Visin): \(a.stride - 1) zero\(a.stride == 2 ? "" : "s") between input cells, D(K−1) − P = \(a.leading) cells of padding\(a.outputPadding > 0 ? " (+\(a.outputPadding) after)" : ""), a stride-1 window\(values == nil ? "" : " with the kernel flipped"); the output size is PyTorch's ConvTranspose2d's.",
                       "画成一个普通卷积（Dumoulin 与 Visin）：输入单元之间插入 \(a.stride - 1) 个零，D(K−1) − P = \(a.leading) 个单元的填充\(a.outputPadding > 0 ? "（之后再加 \(a.outputPadding)）" : "")，步幅 1 的窗口\(values == nil ? "" : "，卷积核翻转")；输出尺寸与 PyTorch 的 ConvTranspose2d 相同。")]
        } else {
            lines = [l("The kernel's footprint (dark) moves over the input (blue) and its zero padding (gray, dashed border around the input); each position writes one output cell (green).",
                       "卷积核覆盖的区域（深色）在输入（蓝色）及其零填充（灰色，输入周围的虚线框）上移动；每个位置写出一个输出单元（绿色）。")]
        }
        lines.append(l("\(frameCount) frames, one per output position, row by row.", "共 \(frameCount) 帧，每个输出位置一帧，逐行。"))
        return lines
    }

    struct Layout {
        let rows: ClosedRange<Int>, cols: ClosedRange<Int>
        let gridOrigin: Point, outputOrigin: Point
        let labelTop: Double
        let frame: FigureFrame
    }

    var lineHeight: Double { Theme.labelSize + 7 }

    func layout() -> Layout {
        let a = arithmetic, c = cell
        let rows = a.gridRange(a.input.h), cols = a.gridRange(a.input.w)
        let gridW = Double(cols.count) * c, gridH = Double(rows.count) * c
        let outW = Double(a.output.w) * c, outH = Double(a.output.h) * c
        let header = 22.0, gap = 70.0
        let lineCount = 1 + formulas.count + (values == nil ? 0 : a.kernel)
        // Widest label line: the formulas, and an upper bound on the dot product's rows.
        var widths = formulas.map { TextMetrics.width($0, size: Theme.labelSize) }
        if let values {
            let widest = { (t: Tensor) in t.data.map { FigureNumber.format($0) }.max { $0.count < $1.count } ?? "0" }
            let term = "\(widest(values.input))·\(widest(values.kernel)) + "
            let result = " = " + String(repeating: "8", count: FigureNumber.format(values.input.maxAbs * values.kernel.maxAbs * Float(a.kernel * a.kernel)).count + 1)
            widths.append(TextMetrics.width("y(\(a.output.h), \(a.output.w)) = " + String(repeating: term, count: a.kernel) + result, size: Theme.labelSize))
        }
        let contentW = max(gridW + gap + outW, widths.max() ?? 0)
        let contentH = header + max(gridH, outH) + 14 + Double(lineCount) * lineHeight
        let frame = FigureFrame(title: title, caption: caption, contentWidth: contentW, contentHeight: contentH, text: text)
        let o = frame.contentOrigin
        let gridOrigin = Point(o.x, o.y + header)
        let outputOrigin = Point(o.x + gridW + gap, o.y + header + max(0, (gridH - outH) / 2))
        return Layout(rows: rows, cols: cols, gridOrigin: gridOrigin, outputOrigin: outputOrigin, labelTop: o.y + header + max(gridH, outH) + 14, frame: frame)
    }

    public func frame(_ k: Int) -> Scene {
        precondition((0..<frameCount).contains(k), "frame \(k) of \(frameCount)")
        let a = arithmetic, c = cell, l = text.language
        let lay = layout()
        let (y, x) = (k / a.output.w, k % a.output.w)
        let out = outputValues
        var scene = lay.frame.makeScene()
        func cellRect(_ r: Int, _ col: Int) -> Rect {
            Rect(lay.gridOrigin.x + Double(col - lay.cols.lowerBound) * c, lay.gridOrigin.y + Double(r - lay.rows.lowerBound) * c, c, c)
        }

        // Headers.
        var inputLabel = l("Input \(a.input.h)×\(a.input.w)", "输入 \(a.input.h)×\(a.input.w)")
        if a.transposed {
            inputLabel += l(", \(a.stride - 1) zero\(a.stride == 2 ? "" : "s") between cells, padding \(max(a.leading, 0))", "，单元间插入 \(a.stride - 1) 个零，填充 \(max(a.leading, 0))")
        } else if a.padding > 0 {
            inputLabel += l(", padding \(a.padding)", "，填充 \(a.padding)")
        }
        scene.add(.group("headers", [
            .text(inputLabel, at: Point(lay.gridOrigin.x, lay.gridOrigin.y - 11), size: Theme.labelSize, color: Theme.muted),
            .text(l("Output \(a.output.h)×\(a.output.w)", "输出 \(a.output.h)×\(a.output.w)"), at: Point(lay.outputOrigin.x, lay.gridOrigin.y - 11), size: Theme.labelSize, color: Theme.muted),
        ]))

        // The grid: input cells, padding and inserted zeros.
        var grid: [Scene.Item] = [], numbers: [Scene.Item] = []
        for r in lay.rows {
            for col in lay.cols {
                let rect = cellRect(r, col)
                let ir = a.inputIndex(r, count: a.input.h), ic = a.inputIndex(col, count: a.input.w)
                let inside = (0...((a.input.h - 1) * a.spacing)).contains(r) && (0...((a.input.w - 1) * a.spacing)).contains(col)
                let fill = ir != nil && ic != nil ? Self.inputFill : (inside ? Self.zeroFill : Self.paddingFill)
                grid.append(.rect(rect, fill: fill, stroke: Theme.grid, lineWidth: 1))
                if let values {
                    let v: Float = (ir != nil && ic != nil) ? values.input[ir!, ic!] : 0
                    numbers.append(.text(FigureNumber.format(v), at: rect.center, size: 12, color: ir != nil && ic != nil ? Theme.ink : Theme.muted, anchor: .middle))
                }
            }
        }
        scene.add(.group("grid", grid))
        // The input's border, dashed where padding surrounds it: padding drawn apart.
        let first = cellRect(0, 0), last = cellRect((a.input.h - 1) * a.spacing, (a.input.w - 1) * a.spacing)
        scene.add(.group("input-border", [.polyline([Point(first.x, first.y), Point(last.maxX, first.y), Point(last.maxX, last.maxY), Point(first.x, last.maxY)],
                                                    color: Theme.ink, width: 1.5, closed: true, dash: lay.rows.count > a.input.h ? [4, 3] : [])]))
        if !numbers.isEmpty { scene.add(.group("grid-values", numbers)) }

        // The footprint of output (y, x).
        let taps = a.footprint(y: y, x: x)
        var foot: [Scene.Item] = []
        for (t, p) in taps.enumerated() {
            let rect = cellRect(p.h, p.w)
            foot.append(.rect(rect, fill: Self.footprintFill, stroke: .white, lineWidth: 1))
            if let values, let w = weight(tap: t / a.kernel, t % a.kernel) {
                let ir = a.inputIndex(p.h, count: a.input.h), ic = a.inputIndex(p.w, count: a.input.w)
                let v: Float = (ir != nil && ic != nil) ? values.input[ir!, ic!] : 0
                foot.append(.text(FigureNumber.format(v), at: Point(rect.center.x - 3, rect.center.y - 2), size: 13, color: .white, anchor: .middle, bold: true))
                foot.append(.text("×" + FigureNumber.format(w), at: Point(rect.maxX - 3, rect.maxY - 7), size: 8, color: .white, anchor: .end))
            }
        }
        scene.add(.group("footprint", foot))
        let tl = cellRect(taps[0].h, taps[0].w), br = cellRect(taps[taps.count - 1].h, taps[taps.count - 1].w)
        scene.add(.group("window", [.polyline([Point(tl.x, tl.y), Point(br.maxX, tl.y), Point(br.maxX, br.maxY), Point(tl.x, br.maxY)], color: Theme.warning, width: 2, closed: true)]))

        // The output: cells written so far, the current one.
        var outputCells: [Scene.Item] = []
        var current: [Scene.Item] = []
        for oy in 0..<a.output.h {
            for ox in 0..<a.output.w {
                let n = oy * a.output.w + ox
                let rect = Rect(lay.outputOrigin.x + Double(ox) * c, lay.outputOrigin.y + Double(oy) * c, c, c)
                if n == k {
                    current.append(.rect(rect, fill: Self.currentFill, stroke: Theme.warning, lineWidth: 2))
                    if let out { current.append(.text(FigureNumber.format(out[oy, ox]), at: rect.center, size: 13, color: .white, anchor: .middle, bold: true)) }
                } else {
                    outputCells.append(.rect(rect, fill: n < k ? Self.writtenFill : .white, stroke: Theme.grid, lineWidth: 1))
                    if let out, n < k { outputCells.append(.text(FigureNumber.format(out[oy, ox]), at: rect.center, size: 12, color: Theme.ink, anchor: .middle)) }
                }
            }
        }
        scene.add(.group("output-grid", outputCells))
        scene.add(.group("output-current", current))
        let arrowY = lay.gridOrigin.y + Double(lay.rows.count) * c / 2
        scene.add(.text("→", at: Point(lay.outputOrigin.x - 35, arrowY), size: 22, color: Theme.muted, anchor: .middle))

        // Labels: position, formulas, dot product.
        var lines: [(String, Bool)] = [(l("Output (\(y), \(x)) — frame \(k + 1) of \(frameCount)", "输出 (\(y), \(x)) — 第 \(k + 1) 帧，共 \(frameCount) 帧"), true)]
        lines += formulas.map { ($0, false) }
        if let out { lines += dotProduct(y: y, x: x, output: out).map { ($0, false) } }
        scene.add(.group("frame-label", lines.enumerated().map { n, line in
            .text(line.0, at: Point(lay.frame.contentOrigin.x, lay.labelTop + Double(n) * lineHeight + Theme.labelSize / 2), size: Theme.labelSize, color: Theme.ink, bold: line.1)
        }))
        return scene
    }
}
