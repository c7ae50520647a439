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

    /// Every kind of animation, small (few frames), in `language`: convolution with and
    /// without values, transposed, pooling, the receptive field of the network ConvViz
    /// trains (`small`), and conv1 learning (filters of normal noise, the hardest
    /// colours to put on a palette).
    static func everyKind(_ language: Language) throws -> [(name: String, animation: any Animation)] {
        let text = FigureText(language: language)
        var conv = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(3), kernel: 3, stride: 2, padding: 1))
        conv.text = text
        var values = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(3), kernel: 2))
        values.values = ConvolutionAnimation.integerValues(for: values.arithmetic, seed: 1)
        values.text = text
        var transposed = ConvolutionAnimation(try ConvolutionArithmetic(input: Pair(2), kernel: 3, stride: 2, padding: 1, transposed: true))
        transposed.values = ConvolutionAnimation.integerValues(for: transposed.arithmetic, seed: 2)
        transposed.text = text
        var pooling = PoolingAnimation(values: PoolingDiagram.lectureValues)
        pooling.text = text
        var field = try ReceptiveFieldAnimation(title: "small", table: ShapeTable(.smallConvNet()))
        field.text = text
        field.cell = 8  // its 28x28 input at the default 14 points a cell is the largest frame here
        var rng = SeededGenerator(seed: 1)
        var learning = LearningAnimation(steps: [0, 50, 100].map { (step: $0, weights: Tensor(shape: [16, 3, 5, 5], data: (0..<1200).map { _ in rng.normal() })) })
        learning.text = text
        return [("convolution", conv), ("convolution --values", values), ("transposed", transposed), ("pooling", pooling), ("receptive-field", field), ("learning", learning)]
    }

    /// The pixels of a PNG, read by libpng, as 0xRRGGBB words.
    static func words(png data: Data) throws -> (words: [UInt32], width: Int, height: Int) {
        let t = try PNGDecoder.decode(data, file: "frame.png")
        let (h, w) = (t.shape[1], t.shape[2])
        var words = [UInt32](repeating: 0, count: h * w)
        t.data.withUnsafeBufferPointer { p in
            for i in 0..<(h * w) { words[i] = UInt32((p[i] * 255).rounded()) << 16 | UInt32((p[h * w + i] * 255).rounded()) << 8 | UInt32((p[2 * h * w + i] * 255).rounded()) }
        }
        return (words, w, h)
    }

    /// The GIF of every kind, at scale 1 in English and scale 2 in Chinese (and the other
    /// way round with CONVVIZ_LONG_TESTS=1), decoded by
    /// giflib, is frame for frame the PNG of that frame (`AnimationRaster.png`, what
    /// `animate ... --frame K -o f.png` writes), pixel for pixel: every decoded frame equals
    /// the raster `png(k)` encodes, and the first frame's PNG (and pooling's last, written
    /// through `renderFrame`, the command's own path), read back by libpng, equals the
    /// decoded GIF frame.
    func testGIFFramesEqualThePNGOfEachFrameForEveryKind() throws {
        var cases: [(name: String, animation: any Animation, scale: Double)] = [("squares", Squares(), 2)]
        cases += try Self.everyKind(.en).map { ($0.name, $0.animation, 1.0) }
        cases += try Self.everyKind(.zh).map { ($0.name + " (zh)", $0.animation, 2.0) }
        // The other two pairings with CONVVIZ_LONG_TESTS=1.
        if ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1" {
            cases += try Self.everyKind(.zh).map { ($0.name + " (zh)", $0.animation, 1.0) }
            cases += try Self.everyKind(.en).map { ($0.name, $0.animation, 2.0) }
        }
        for (name, animation, scale) in cases {
            // What `AnimationWriter.render(_:format: .gif, ...)` does, keeping the frames drawn.
            let raster = try AnimationRaster(animation, pngScale: scale)
            let gif = try AnimationWriter.gif(raster, fps: 4)
            let frames = try GIFDecoder.decode(gif.data)
            XCTAssertEqual(frames.count, animation.frameCount, name)
            XCTAssertEqual(frames.map(\.delay), Array(repeating: 25, count: animation.frameCount), name)
            let palette = try XCTUnwrap(gif.palette)
            XCTAssertTrue(raster.fits, name)
            XCTAssertTrue(gif.warnings.isEmpty, "\(name): \(gif.warnings)")
            for (k, decoded) in frames.enumerated() {
                let expected = try raster.frame(k)
                let same = decoded.image.pixels.withUnsafeBytes { a in expected.pixels.withUnsafeBytes { b in a.count == b.count && memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
                XCTAssertTrue(same && decoded.image.width == expected.width, "\(name) at scale \(scale): frame \(k) differs from its raster")
                // The PNG, read back by libpng: the first frame's, and pooling's last through the
                // command's own path (which chooses the tolerance again).
                let viaCommand = k == frames.count - 1 && name.hasPrefix("pooling")
                guard k == 0 || viaCommand else { continue }
                let png = viaCommand ? try AnimationWriter.renderFrame(animation, k, format: .png, pngScale: scale) : try raster.png(k)
                let read = try Self.words(png: png)
                XCTAssertEqual(read.width, decoded.image.width, name); XCTAssertEqual(read.height, decoded.image.height, name)
                XCTAssertTrue(read.words == (0..<read.words.count).map(decoded.image.word), "\(name) at scale \(scale): frame \(k) differs from its PNG")
            }
            if animation is Squares { XCTAssertTrue(palette.global && raster.tolerance == AnimationRaster.tolerances[0]) }
        }
    }

    /// Frames with more than 256 colours of their own (a photograph: here 1,600 random
    /// colours) cannot fit at any tolerance: the writer says so, keeps the 256 most used
    /// and maps the rest to the nearest, and the GIF is still each frame's PNG.
    func testFramesWithTooManyColoursOfTheirOwnStillDecodeToTheirPNG() throws {
        struct Photo: Animation {
            var frameCount: Int { 2 }
            func frame(_ k: Int) -> Scene {
                var rng = SeededGenerator(seed: UInt64(k))
                var image = RasterImage(width: 40, height: 40, fill: .white)
                for i in 0..<1600 { image.setWord(i, UInt32(rng.below(1 << 24))) }
                var s = Scene(width: 60, height: 50)
                s.add(.image(image, at: Point(10, 5)))
                s.add(.text("frame \(k)", at: Point(10, 47), size: 8, color: Theme.ink))
                return s
            }
        }
        let raster = try AnimationRaster(Photo(), pngScale: 1)
        XCTAssertFalse(raster.fits)
        let gif = try AnimationWriter.gif(raster, fps: 2)
        XCTAssertEqual(gif.warnings.count, 1)
        XCTAssertTrue(gif.warnings[0].contains("256 most used"), gif.warnings[0])
        for (k, decoded) in try GIFDecoder.decode(gif.data).enumerated() {
            let read = try Self.words(png: raster.png(k))
            XCTAssertEqual(read.words, (0..<read.words.count).map(decoded.image.word), "frame \(k)")
            XCTAssertEqual(Set(read.words).count, 256)
        }
    }

    /// What makes the GIF exact is not free: a frame is drawn for a palette, and here is how
    /// far that is from Cairo's own antialiased render of the same scene. Pixels inside a
    /// flat area (the pixel and its eight neighbours one colour in Cairo's render: fills,
    /// strokes, the insides of glyphs) are exact; an edge pixel is within the tolerance + 1
    /// in each channel where one edge meets a flat colour, and within 2·tolerance + 1 where
    /// two edges overlap (neighbouring cells' borders, a glyph over a line: the two
    /// roundings add), which few pixels do. (The learning mosaic's filter pixels are
    /// compared on their palette here, and against their exact colours below.)
    func testRasterFramesKeepFlatColoursAndEdgesWithinTheTolerance() throws {
        // Scale 2 in Chinese too with CONVVIZ_LONG_TESTS=1 (measured there: the same bounds).
        let long = ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1"
        for (language, scale) in [(Language.en, 1.0)] + (long ? [(.zh, 2.0)] : []) {
            for (name, animation) in try Self.everyKind(language) {
                let raster = try AnimationRaster(animation, pngScale: scale)
                XCTAssertTrue(raster.fits, name)
                for k in Set([0, animation.frameCount - 1]) {
                    let (c, w, h) = try Canvas.renderWords(animation.rasterFrame(k), pngScale: scale)
                    let drawn = try raster.indexed(k)
                    XCTAssertEqual(IndexedImage(words: c, width: w, height: h), nil, "\(name): Cairo's own render must need the palette, or this test shows nothing")
                    let d = (0..<(w * h)).map(drawn.word)
                    var flat = 0, flatMoved = 0, edges = 0, worst = 0, beyond = 0
                    c.withUnsafeBufferPointer { c in
                        for y in 0..<h {
                            for x in 0..<w {
                                let i = y * w + x
                                var isFlat = true
                                for yy in max(0, y - 1)...min(h - 1, y + 1) where isFlat {
                                    for xx in max(0, x - 1)...min(w - 1, x + 1) where c[yy * w + xx] != c[i] { isFlat = false; break }
                                }
                                let distance = GIFEncoder.channelDistance(c[i], d[i])
                                if isFlat { flat += 1; if distance > 0 { flatMoved += 1 } } else {
                                    edges += 1; worst = max(worst, distance)
                                    if distance > raster.tolerance + 1 { beyond += 1 }
                                }
                            }
                        }
                    }
                    XCTAssertEqual(flatMoved, 0, "\(name) frame \(k) at scale \(scale): \(flatMoved) of \(flat) flat pixels moved")
                    XCTAssertLessThanOrEqual(worst, 2 * raster.tolerance + 1, "\(name) frame \(k) at scale \(scale): an edge pixel \(worst)/255 from Cairo's (tolerance \(raster.tolerance))")
                    print("\(name) scale \(scale) frame \(k): tolerance \(raster.tolerance), \(flat) flat pixels exact, \(edges) edge pixels at most \(worst)/255 from Cairo's, \(beyond) beyond \(raster.tolerance + 1)/255")
                }
            }
        }
    }

    /// The learning mosaic's raster frames put the filter pixels on one median-cut palette
    /// for the whole animation: each within the palette's stated error of its exact colour
    /// (for these noise filters, the hardest case, at most 37/255 in a channel and 9.2/255
    /// on average, measured), the same colour wherever the same pixel value recurs.
    func testLearningFilterPixelsOnTheirPaletteWithinItsError() throws {
        var rng = SeededGenerator(seed: 4)
        let steps = [0, 10, 20].map { (step: $0, weights: Tensor(shape: [24, 3, 5, 5], data: (0..<1800).map { _ in rng.normal() })) }
        let animation = LearningAnimation(steps: steps)
        let palette = animation.filterPalette
        XCTAssertEqual(palette.colours.count, LearningAnimation.rasterColours)
        XCTAssertLessThanOrEqual(palette.maxError, 37, "median cut's worst channel error on noise filters")
        var total = 0, pixels = 0
        for k in 0..<3 {
            let exact = LearningAnimation.filterRasters(steps, k)
            var worst = 0
            for image in exact {
                for i in 0..<(image.width * image.height) {
                    let c = image.word(i), p = try XCTUnwrap(palette.mapping[c])
                    XCTAssertTrue(palette.colours.contains(p))
                    worst = max(worst, GIFEncoder.channelDistance(c, p))
                    total += GIFEncoder.channelDistance(c, p); pixels += 1
                }
            }
            XCTAssertLessThanOrEqual(worst, palette.maxError)
            // The raster frame's images are the exact frame's images mapped through the palette.
            func images(_ s: Scene) -> [RasterImage] {
                s.items.flatMap { item -> [RasterImage] in if case let .group("mosaic", inner) = item { return inner.compactMap { if case let .image(r, _, _) = $0 { r } else { nil } } }; return [] }
            }
            let (plain, mapped) = (images(animation.frame(k)), images(animation.rasterFrame(k)))
            XCTAssertEqual(plain.count, 24)
            for (a, b) in zip(plain, mapped) { for i in 0..<(a.width * a.height) { XCTAssertEqual(palette.mapping[a.word(i)], b.word(i)) } }
        }
        XCTAssertLessThanOrEqual(Double(total) / Double(pixels), 9.5, "mean channel error")
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
