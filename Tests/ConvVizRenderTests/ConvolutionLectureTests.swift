@testable import ConvVizCore
@testable import ConvVizRender
@testable import ConvVizLecture
import XCTest

/// The convolution part of the lecture atlas: every number a figure shows checked
/// against the arithmetic, read back from the SVG Cairo wrote.
final class ConvolutionLectureTests: XCTestCase {
    func svg(_ scene: Scene) throws -> StructuredSVG { try StructuredSVG(try Canvas.render(scene, format: .svg)) }

    func testVolumesIncludePoolingWithTheArithmetic() throws {
        // The issue's example: conv1 then a pool, then conv2. The old figure skipped the
        // pool and wrote conv1 6×28×28 ∗ W2 = conv2 16×10×10.
        let arch = Architecture(name: "lenet", input: [3, 32, 32], layers: [
            LayerSpec(.conv, name: "conv1", out: 6, kernel: Pair(5)), LayerSpec(.relu, name: "relu1"),
            LayerSpec(.maxpool, name: "pool1", kernel: Pair(2), stride: Pair(2)),
            LayerSpec(.conv, name: "conv2", out: 16, kernel: Pair(5)), LayerSpec(.relu, name: "relu2"),
        ])
        let doc = try svg(ConvolutionVolumes(table: try ShapeTable(arch), architecture: arch).scene())
        XCTAssertEqual(doc.texts(in: "output-pool1"), ["pool1", "6×14×14"])
        XCTAssertEqual(doc.texts(in: "output-conv2"), ["ReLU(conv2)", "16×10×10"])
        XCTAssertEqual(doc.texts(in: "filters-conv2"), ["W2 16×6×5×5", "b2 16", "stride 1, pad 0", "\(16 * 6 * 25 + 16) parameters"])
        let caption = doc.texts(in: "caption").joined(separator: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
        XCTAssert(caption.contains("pool1: (28 + 2·0 − 2)/2 + 1 = 14"), caption)
        XCTAssert(caption.contains("conv2: (14 + 2·0 − 5)/1 + 1 = 10"), caption)
        XCTAssert(doc.texts(in: "connector-2").contains { $0.contains("max pooling, stride 2") })
        // An average pool is named as one.
        var averaged = arch
        averaged.layers[2] = LayerSpec(.avgpool, name: "pool1", kernel: Pair(2), stride: Pair(2))
        let avg = try svg(ConvolutionVolumes(table: try ShapeTable(averaged), architecture: averaged).scene())
        XCTAssert(avg.texts(in: "connector-2").contains { $0.contains("average pooling, stride 2") }, "\(avg.texts(in: "connector-2"))")
    }

    func testSingleImageAndBatchLabels() throws {
        let arch = ConvolutionLecture.oneConvolution
        var v = ConvolutionVolumes(table: try ShapeTable(arch), architecture: arch)
        XCTAssertEqual(try svg(v.scene()).texts(in: "output-conv1").last, "6×28×28")
        v.batch = .symbolic
        XCTAssertEqual(try svg(v.scene()).texts(in: "output-conv1").last, "N×6×28×28")
        v.batch = .count(4)
        XCTAssertEqual(try svg(v.scene()).texts(in: "input").last, "4×3×32×32")
    }

    /// The depth of a box: the horizontal extent of its receding top face.
    func depth(_ doc: StructuredSVG, _ group: String) throws -> Double {
        let polygon = try XCTUnwrap(doc.elements("polygon", in: group).first?.attributes["points"])
        let xs = polygon.split(separator: " ").map { Double($0.split(separator: ",")[0])! }
        // points: front-left, back-left, back-right, front-right; depth·0.7 = back-left − front-left.
        return (xs[1] - xs[0]) / 0.7
    }

    func testDepthIsProportionalToChannels() throws {
        let arch = ConvolutionLecture.reduction
        var v = ConvolutionVolumes(table: try ShapeTable(arch), architecture: arch)
        let doc = try svg(v.scene())
        XCTAssertEqual(try depth(doc, "output-conv1x1") / depth(doc, "input"), 32.0 / 64.0, accuracy: 0.01)
        v.depthScale = .log
        let logDoc = try svg(v.scene())
        XCTAssertEqual(try depth(logDoc, "output-conv1x1") / depth(logDoc, "input"), log2(33) / log2(65), accuracy: 0.01)
    }

    func testPaddingAndStrideAreDrawnOnTheInput() throws {
        let arch = Architecture(name: "p", input: [3, 16, 16], layers: [LayerSpec(.conv, name: "conv1", out: 4, kernel: Pair(3), stride: Pair(2), padding: Pair(1))])
        let doc = try svg(ConvolutionVolumes(table: try ShapeTable(arch), architecture: arch).scene())
        let rects = doc.elements("rect", in: "input")
        // Front face, then the first window (3 cells square, starting one padding cell out).
        let front = try XCTUnwrap(rects.first { $0.attributes["data-fill"] == "#d9e0ed" })
        let window = try XCTUnwrap(rects.last)
        let unit = Double(front.attributes["width"]!)! / 16
        XCTAssertEqual(Double(window.attributes["width"]!)!, 3 * unit, accuracy: 0.02)
        XCTAssertEqual(Double(window.attributes["x"]!)!, Double(front.attributes["x"]!)! - unit, accuracy: 0.02)
        // The padding frame and the second window position (dashed polygons): the second
        // window starts one stride (2 cells) right of the first.
        let dashed = doc.elements("polygon", in: "input").map { $0.attributes["points"]! }.filter { $0.split(separator: " ").count == 4 }
        let second = try XCTUnwrap(dashed.last).split(separator: " ").map { Double($0.split(separator: ",")[0])! }
        XCTAssertEqual(second[0], Double(window.attributes["x"]!)! + 2 * unit, accuracy: 0.02)
        XCTAssert(doc.texts(in: "filters-conv1").contains("stride 2, pad 1"))
    }

    func testConvolutionLayerMapsAreTheRealConvolution() throws {
        var image = Tensor(shape: [3, 12, 12])
        var rng = SeededGenerator(seed: 3)
        for i in image.data.indices { image.data[i] = rng.uniform(0, 1) }
        let filters = ConvolutionLayerFigure.orientedFilters(count: 4, size: 5)
        let figure = ConvolutionLayerFigure(image: image, filters: filters)
        let maps = figure.maps
        XCTAssertEqual(maps.shape, [4, 8, 8])
        for (f, y, x) in [(0, 0, 0), (1, 3, 5), (3, 7, 7)] {
            var sum = 0.0
            for c in 0..<3 { for i in 0..<5 { for j in 0..<5 { sum += Double(image[c, y + i, x + j]) * Double(filters[f, c, i, j]) } } }
            XCTAssertEqual(Double(maps[f, y, x]), sum, accuracy: 1e-5)
        }
        var small = figure
        small.position = (1, 1)
        let doc = try svg(small.scene())
        XCTAssert(doc.texts(in: "one-filter").contains("activation map 1×8×8"))
        XCTAssert(doc.texts(in: "filter-bank").contains("4 activation maps: output 4×8×8"))
        XCTAssertEqual(doc.elements.filter { $0.attributes["data-name"]?.hasPrefix("map-") == true }.count, 4)
        XCTAssert(doc.texts(in: "caption").joined(separator: " ").contains("3·5·5 = 75-term"))
    }

    /// Shaded cells of a grid level (fill other than the empty cell's).
    func shaded(_ doc: StructuredSVG, panel: Int, level: Int) -> Int {
        doc.elements("rect", in: "panel-\(panel)").filter { $0.groups.contains("level-\(level)") && $0.attributes["data-fill"] != "#f2f2f7" }.count
    }

    func testReceptiveFieldGridsShadeTheShapeTablesField() throws {
        for strides in [[1, 1, 1], [1, 2, 1], [2, 2], [1, 1, 1, 1]] {
            let arch = try ReceptiveFieldGrid.stack(kernel: 3, strides: strides, name: "s")
            let table = try ShapeTable(arch)
            let doc = try svg(ReceptiveFieldGrid(panels: [.init(title: "t", table: table)]).scene())
            let field = ReceptiveFieldGrid.field(table)
            // The receptive field by the rule: each layer adds (K−1)·(product of strides below).
            var expected = 1, jump = 1
            for s in strides { expected += 2 * jump; jump *= s }
            XCTAssertEqual(field, expected, "\(strides)")
            XCTAssertEqual(shaded(doc, panel: 0, level: 0), field * field, "\(strides)")
            XCTAssertEqual(shaded(doc, panel: 0, level: strides.count), 1)
        }
    }

    func testHyperparameterSummaryRowsFollowTheRule() throws {
        let summary = HyperparameterSummary(input: [64, 56, 56])
        let doc = try svg(try summary.scene())
        for (i, s) in summary.settings.enumerated() {
            let h = (56 + 2 * s.padding - s.kernel) / s.stride + 1
            let params = s.kernel * s.kernel * 64 * s.filters + s.filters
            let texts = doc.texts(in: "setting-\(i)")
            XCTAssert(texts.contains("\(s.filters)×\(h)×\(h)"), "\(texts)")
            XCTAssert(texts.contains { $0.hasSuffix("= \(params)") }, "\(texts)")
            XCTAssert(texts.contains(HyperparameterSummary.grouped(s.kernel * s.kernel * 64 * s.filters * h * h)), "\(texts)")
        }
    }

    func testChineseTitlesAndCaptions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lecture-zh-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        var context = LectureContext(language: .zh, seed: 1, workDirectory: dir)
        context.budget = .smoke
        let figures = try ConvolutionLecture(context: context).figures()
        XCTAssertEqual(figures.map(\.id), Array(LectureAtlas.ids.prefix(8)))
        for f in figures {
            let doc = try svg(f.scene)
            let title = doc.texts(in: "title").joined()
            XCTAssert(TextMetrics.containsCJK(title), "\(f.id): title '\(title)'")
            XCTAssert(TextMetrics.containsCJK(f.caption), "\(f.id): caption '\(f.caption)'")
        }
    }

    func testReplacingFrameTextRewrapsTheCaption() throws {
        let scene = try HyperparameterSummary(input: [3, 32, 32]).scene()
        let long = String(repeating: "一二三四五六七八九十", count: 20)
        let replaced = scene.replacingFrameText(title: "标题", caption: long)
        let doc = try svg(replaced)
        XCTAssertEqual(doc.texts(in: "title"), ["标题"])
        let lines = doc.texts(in: "caption")
        XCTAssertGreaterThan(lines.count, 1)
        XCTAssertEqual(lines.joined(), long)
        XCTAssertGreaterThan(replaced.height, scene.height)
    }

    func testCaptionWrapKeepsFormulasWhole() {
        let formula = VolumeSequence.arithmetic(input: 32, window: Window2D(kernel: Pair(5)), output: 28)
        let lines = TextMetrics.wrap("word " + String(repeating: "filler ", count: 30) + formula, size: 10, maxWidth: 200)
        XCTAssert(lines.contains { $0.hasSuffix(formula) })
    }
}

extension ConvolutionLectureTests {
    func testChineseWrapNeverStartsALineWithClosingPunctuation() {
        let text = String(repeating: "批大小为二时，批归一化比其最好结果低一个百分点；组归一化不变。", count: 6)
        for width in stride(from: 60.0, through: 400, by: 7) {
            let lines = TextMetrics.wrap(text, size: 10, maxWidth: width)
            XCTAssertEqual(lines.joined(), text)
            for line in lines.dropFirst() { XCTAssertFalse("，。、；：）".contains(line.first!), "width \(width): '\(line)'") }
        }
    }
}
