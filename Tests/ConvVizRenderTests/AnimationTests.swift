import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender
import ConvVizLecture

/// Animations: frame counts from the arithmetic, footprints read back from the animated
/// SVG's structure, transposed convolutions against PyTorch, GIF frames against PNG.
final class AnimationTests: XCTestCase {
    /// conv_arithmetic's set: (H, K, S, P, D).
    static let directCases = [(4, 3, 1, 0, 1), (5, 3, 1, 1, 1), (3, 3, 1, 2, 1), (5, 3, 2, 0, 1), (5, 3, 2, 1, 1), (6, 3, 2, 1, 1), (7, 3, 1, 0, 2)]

    /// (H, W, K, S, P, D, output_padding, H_out, W_out), the sizes printed by
    /// torch.nn.ConvTranspose2d (scripts/transposed_conv_cases.py).
    static let pytorchTransposed = [
        (2, 2, 3, 1, 0, 1, 0, 4, 4), (5, 5, 3, 1, 1, 1, 0, 5, 5), (7, 7, 3, 1, 2, 1, 0, 5, 5), (2, 2, 3, 2, 0, 1, 0, 5, 5),
        (3, 3, 3, 2, 1, 1, 0, 5, 5), (3, 3, 3, 2, 1, 1, 1, 6, 6), (3, 3, 3, 1, 0, 2, 0, 7, 7), (4, 6, 2, 3, 1, 1, 2, 11, 17),
        (3, 3, 4, 2, 3, 1, 0, 2, 2), (3, 3, 2, 1, 0, 3, 2, 8, 8), (1, 1, 5, 4, 0, 1, 0, 5, 5),
    ]

    /// A one-word title and caption: smaller frames, the same grids and labels.
    static let short = FigureText(title: "t", caption: "c")

    func testTransposedSizeAndFrameCountMatchPyTorch() throws {
        for (h, w, k, s, p, d, op, oh, ow) in Self.pytorchTransposed {
            let a = try ConvolutionArithmetic(input: Pair(h, w), kernel: k, stride: s, padding: p, dilation: d, transposed: true, outputPadding: op)
            XCTAssertEqual(a.output, Pair(oh, ow), "H \(h) W \(w) K \(k) S \(s) P \(p) D \(d) op \(op)")
            XCTAssertEqual(ConvolutionAnimation(a).frameCount, oh * ow)
        }
    }

    func testTransposedValuesMatchPyTorchAndEveryFrameGathersThem() throws {
        // ConvTranspose2d(k3, s2, p1, output_padding 1) of arange(9) with weights 1...9
        // (scripts/transposed_conv_cases.py).
        let torch: [Float] = [0, 4, 5, 14, 10, 12, 6, 20, 16, 40, 26, 33, 15, 34, 20, 44, 25, 30, 36, 80, 46, 100, 56, 69, 30, 64, 35, 74, 40, 48, 48, 103, 56, 119, 64, 72]
        let a = try ConvolutionArithmetic(input: Pair(3), kernel: 3, stride: 2, padding: 1, transposed: true, outputPadding: 1)
        let x = Tensor(shape: [3, 3], data: (0..<9).map(Float.init)), w = Tensor(shape: [3, 3], data: (1...9).map(Float.init))
        XCTAssertEqual(a.apply(input: x, kernel: w).data, torch)
        var animation = ConvolutionAnimation(a)
        animation.values = (x, w)
        // The gathering window each frame draws (flipped kernel over the zero-inserted input) writes PyTorch's value.
        for (k, o) in a.positions.enumerated() {
            var sum: Float = 0
            for (t, p) in a.footprint(y: o.h, x: o.w).enumerated() {
                if let r = a.inputIndex(p.h, count: 3), let c = a.inputIndex(p.w, count: 3) { sum += x[r, c] * animation.weight(tap: t / 3, t % 3)! }
            }
            XCTAssertEqual(sum, torch[k], "frame \(k)")
            XCTAssertTrue(animation.frame(k).texts.contains { $0.hasSuffix("= \(FigureNumber.format(torch[k]))") && $0.contains("+") }, "frame \(k) writes its dot product")
        }
    }

    func testInvalidCombinationsAreRefusedWithTheArithmetic() {
        XCTAssertThrowsError(try ConvolutionArithmetic(input: Pair(4), kernel: 3, dilation: 2)) { e in
            XCTAssertTrue("\(e)".contains("D(K-1) + 1 = 2·2 + 1 = 5") && "\(e)".contains("H + 2P = 4 + 2·0 = 4"), "\(e)")
        }
        XCTAssertThrowsError(try ConvolutionArithmetic(input: Pair(3), kernel: 3, stride: 2, transposed: true, outputPadding: 2)) { e in
            XCTAssertTrue("\(e)".contains("smaller than the stride (2) or the dilation (1)"), "\(e)")
        }
        XCTAssertThrowsError(try ConvolutionArithmetic(input: Pair(1), kernel: 1, padding: 1, transposed: true)) { e in
            XCTAssertTrue("\(e)".contains("(1-1)·1 - 2·1 + 1·0 + 0 + 1 = -1"), "\(e)")
        }
    }

    /// Every frame's footprint, read back from the animated SVG: the input cells under it
    /// (told apart from padding and inserted zeros by their fill) are exactly those the
    /// definition says: direct, input i feeds output o when i = oS - P + kD; transposed
    /// (scattering), when o = iS - P + kD; for some tap k.
    func testFootprintInEveryFrameCoversExactlyTheArithmeticsInputCells() throws {
        var cases = Self.directCases.map { (h, k, s, p, d) in try! ConvolutionArithmetic(input: Pair(h), kernel: k, stride: s, padding: p, dilation: d) }
        cases += [try ConvolutionArithmetic(input: Pair(2), kernel: 3, stride: 2, padding: 1, transposed: true, outputPadding: 1),
                  try ConvolutionArithmetic(input: Pair(2, 3), kernel: 2, stride: 2, transposed: true),
                  try ConvolutionArithmetic(input: Pair(3), kernel: 4, stride: 2, padding: 3, transposed: true)]
        let inputHex = SVGPostProcessing.hex(ConvolutionAnimation.inputFill)
        for a in cases {
            var animation = ConvolutionAnimation(a)
            animation.text = Self.short  // less to draw: the test is about the grids
            let svg = try StructuredSVG(AnimationWriter.render(animation, format: .svg, fps: 2).data)
            // Each frame's rectangles of the groups asked, by frame.
            var grid: [String: [StructuredSVG.Element]] = [:], foot: [String: [StructuredSVG.Element]] = [:]
            for e in svg.elements where e.name == "rect" {
                // The grid is alike in every frame: drawn once, under them ("static").
                guard let frame = e.groups.first(where: { $0.hasPrefix("frame-") || $0 == "static" }) else { continue }
                if e.groups.contains("grid") { grid[frame, default: []].append(e) }
                if e.groups.contains("footprint") { foot[frame, default: []].append(e) }
            }
            let frames = Set(svg.elements.compactMap { $0.attributes["data-name"] }.filter { $0.hasPrefix("frame-") && Int($0.dropFirst(6)) != nil })
            XCTAssertEqual(frames.count, a.output.h * a.output.w)
            for (k, o) in a.positions.enumerated() {
                let frame = "frame-\(k)"
                // Input cells in reading order: row by row.
                let inputs = (grid[frame] ?? grid["static"] ?? []).filter { $0.attributes["data-fill"] == inputHex }.map { (y: Double($0.attributes["y"]!)!, x: Double($0.attributes["x"]!)!) }
                XCTAssertEqual(inputs.count, a.input.h * a.input.w)
                let rowsY = Array(Set(inputs.map(\.y))).sorted(), colsX = Array(Set(inputs.map(\.x))).sorted()
                var covered = Set<Pair>()
                for r in foot[frame] ?? [] {
                    let (y, x) = (Double(r.attributes["y"]!)!, Double(r.attributes["x"]!)!)
                    if let i = rowsY.firstIndex(of: y), let j = colsX.firstIndex(of: x) { covered.insert(Pair(i, j)) }
                }
                var expected = Set<Pair>()
                for i in 0..<a.input.h { for j in 0..<a.input.w { for ky in 0..<a.kernel { for kx in 0..<a.kernel {
                    let hit = a.transposed
                        ? (o.h == i * a.stride - a.padding + ky * a.dilation && o.w == j * a.stride - a.padding + kx * a.dilation)
                        : (i == o.h * a.stride - a.padding + ky * a.dilation && j == o.w * a.stride - a.padding + kx * a.dilation)
                    if hit { expected.insert(Pair(i, j)) }
                } } } }
                XCTAssertEqual(covered, expected, "\(a) frame \(k), output \(o)")
                XCTAssertEqual(foot[frame]?.count, a.kernel * a.kernel)
            }
        }
    }

    func testEveryFrameIsLabelledWithItsPositionAndTheFormulaWithNumbers() throws {
        let a = try ConvolutionArithmetic(input: Pair(5), kernel: 3, stride: 2, padding: 1)
        let animation = ConvolutionAnimation(a)
        for (k, o) in a.positions.enumerated() {
            let texts = animation.frame(k).texts
            XCTAssertTrue(texts.contains { $0.hasPrefix("Output (\(o.h), \(o.w))") }, "\(texts)")
            XCTAssertTrue(texts.contains("H' = ⌊(H + 2P − D(K−1) − 1)/S⌋ + 1 = ⌊(5 + 2·1 − 1·2 − 1)/2⌋ + 1 = 3"))
        }
        let t = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(3), kernel: 3, stride: 2, transposed: true))
        XCTAssertTrue(t.frame(0).texts.contains("H' = (H − 1)S − 2P + D(K−1) + output_padding + 1 = (3 − 1)·2 − 2·0 + 1·2 + 0 + 1 = 7"))
    }

    func testFramesShareOneSize() throws {
        var animation = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(5, 7), kernel: 3, stride: 2, padding: 1))
        animation.values = ConvolutionAnimation.integerValues(for: animation.arithmetic, seed: 3)
        let sizes = Set(animation.frames().map { "\($0.width)x\($0.height)" })
        XCTAssertEqual(sizes.count, 1, "\(sizes)")
    }

    // MARK: - Pooling, receptive field, learning

    func testPoolingFramesKeepTheLayersValues() throws {
        var animation = PoolingAnimation(values: PoolingDiagram.lectureValues)
        XCTAssertEqual(animation.frameCount, 4)
        let pooled = animation.diagram.output
        for k in 0..<4 {
            let (y, x) = (k / 2, k % 2)
            let kept = animation.kept(y: y, x: x)
            XCTAssertEqual(kept.count, 1)
            XCTAssertEqual(PoolingDiagram.lectureValues[kept[0].h, kept[0].w], pooled[y, x])
            XCTAssertTrue(animation.frame(k).texts.contains { $0.hasPrefix("max(") && $0.hasSuffix("= \(FigureNumber.format(pooled[y, x]))") })
        }
        animation.kind = .avg
        animation.stride = 1
        XCTAssertEqual(animation.frameCount, 9)
        XCTAssertEqual(animation.kept(y: 1, x: 1).count, 4)
    }

    func testReceptiveFieldFramesAreLayersAndShadeTheFieldOnTheInput() throws {
        let table = try ShapeTable(ReceptiveFieldGrid.stack(kernel: 3, strides: [1, 2, 1], name: "stack"))
        let animation = try ReceptiveFieldAnimation(title: "stack", table: table)
        XCTAssertEqual(animation.frameCount, 3)
        let svg = try StructuredSVG(AnimationWriter.render(animation, format: .svg, fps: 1).data)
        let shade = SVGPostProcessing.hex(Theme.series[0])
        for k in 0..<3 {
            let r = Int(table.rows[k].receptiveField[1])
            let shaded = svg.elements("rect", in: "level-0").filter { $0.groups.contains("frame-\(k)") && $0.attributes["data-fill"] == shade }
            XCTAssertEqual(shaded.count, r * r, "frame \(k): layer \(k + 1) sees \(r)x\(r)")
        }
        XCTAssertEqual(try ReceptiveFieldAnimation(title: "stack", table: table, through: "conv2").frameCount, 2)
        XCTAssertThrowsError(try ReceptiveFieldAnimation(title: "stack", table: table, through: "fc9"))
    }

    func testLearningFramesAreRecordedSteps() throws {
        var rng = SeededGenerator(seed: 1)
        let steps = [0, 10, 20, 30].map { (step: $0, weights: Tensor(shape: [6, 3, 5, 5], data: (0..<450).map { _ in rng.normal() })) }
        let animation = LearningAnimation(steps: steps)
        XCTAssertEqual(animation.frameCount, 4)
        for k in 0..<4 {
            let texts = animation.frame(k).texts
            XCTAssertTrue(texts.contains { $0.hasPrefix("step \(steps[k].step) of 30") }, "\(texts)")
            XCTAssertTrue(texts.contains { $0.contains("oriented edges") })
        }
        XCTAssertEqual(try Canvas.renderPDF(pages: animation.frames()).count > 0, true)
    }

    // MARK: - GIF

    /// A few flat colours: one global palette, and every frame decodes to its PNG's pixels.
    struct Squares: Animation {
        var frameCount: Int { 5 }
        func frame(_ k: Int) -> Scene {
            var s = Scene(width: 60, height: 40)
            for i in 0...k { s.add(.rect(Rect(Double(i) * 11 + 2, 5, 10, 30), fill: Theme.series[i % 8])) }
            return s
        }
    }

    func testGIFFramesDecodeToThePNGRenderOfEachFrame() throws {
        var figure = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(5), kernel: 3, stride: 2, padding: 1))
        figure.text = Self.short
        for (animation, scale) in [(Squares() as any Animation, 2.0), (figure, 1.0)] {
            let gif = try AnimationWriter.render(animation, format: .gif, fps: 4, pngScale: scale)
            let frames = try GIFDecoder.decode(gif.data)
            XCTAssertEqual(frames.count, animation.frameCount)
            XCTAssertEqual(frames.map(\.delay), Array(repeating: 25, count: animation.frameCount))
            let palette = try XCTUnwrap(gif.palette)
            for (k, decoded) in frames.enumerated() {
                let png = try PNGDecoder.decode(Canvas.render(animation.frame(k), format: .png, pngScale: scale), file: "frame.png")
                let (h, w) = (png.shape[1], png.shape[2])
                XCTAssertEqual(decoded.image.width, w); XCTAssertEqual(decoded.image.height, h)
                var differing = 0, worst = 0, figureColoursMoved = 0
                // The figure's fills and strokes: colours covering at least 200 pixels (a cell is 676).
                let rgb = (0..<(h * w)).map { i in png.data.withUnsafeBufferPointer { p in (0..<3).reduce(UInt32(0)) { $0 << 8 | UInt32((p[$1 * h * w + i] * 255).rounded()) } } }
                var counts: [UInt32: Int] = [:]
                for c in rgb { counts[c, default: 0] += 1 }
                decoded.image.pixels.withUnsafeBufferPointer { g in
                    for i in 0..<(h * w) {
                        let c = rgb[i]
                        let d = max(abs(Int(c >> 16) - Int(g[4 * i])), abs(Int(c >> 8 & 255) - Int(g[4 * i + 1])), abs(Int(c & 255) - Int(g[4 * i + 2])))
                        if d > 0 {
                            differing += 1; worst = max(worst, d)
                            if counts[c]! >= 200 { figureColoursMoved += 1 }
                        }
                    }
                }
                if palette.isExact {
                    XCTAssertEqual(differing, 0, "frame \(k) of \(type(of: animation)) differs from its PNG in \(differing) pixels")
                } else {
                    // Antialiased text past 256 colours: only glyph edges move, by at most the
                    // reported error; the figure's own colours never do.
                    XCTAssertLessThanOrEqual(worst, palette.maxError)
                    XCTAssertLessThan(Double(differing), 0.02 * Double(h * w), "frame \(k)")
                    XCTAssertEqual(figureColoursMoved, 0, "frame \(k)")
                }
            }
            if animation is Squares { XCTAssertTrue(palette.isExact && palette.global) }
            // The figure: its first frame (all its text) is past 256 colours; some frames after
            // it store what changed with exact colours.
            if animation is ConvolutionAnimation { XCTAssertTrue(palette.quantizedFrames.contains(0) && palette.quantizedFrames.count < frames.count, "\(palette)") }
        }
    }

    // MARK: - The lecture's animations

    func testLectureAnimationsAreTheAtlasFiguresAndWriteGIFAndSVG() throws {
        let list = try LectureAnimations.animations(language: .zh)
        XCTAssertEqual(list.map(\.id), LectureAnimations.ids)
        XCTAssertEqual(list.map { $0.animation.frameCount }, [9, 3, 3])  // 3x3 outputs; three layers each
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-lecture-animations-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try LectureAnimations.write(to: dir, language: .en, fps: 4)
        XCTAssertEqual(written.count, 6)
        for name in written { XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), name) }
    }
}
