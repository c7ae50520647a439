import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender
@testable import ConvVizLecture

/// The pooling figures: pooled values read back from the SVG against windows' maxima
/// and means computed here, the shift figure's counts, and Chinese titles.
final class PoolingLectureTests: XCTestCase {
    func seededValues(_ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [h, w], data: (0..<(h * w)).map { _ in Float(rng.below(100)) })
    }

    func testPooledValuesDrawnAreTheWindowsMaximaAndMeans() throws {
        for (kind, kernel, stride) in [(PoolingDiagram.Kind.max, 2, 2), (.max, 3, 1), (.avg, 2, 2), (.max, 3, 2)] {
            let x = seededValues(6, 7, seed: UInt64(kernel * 10 + stride))
            var figure = PoolingDiagram(values: x)
            figure.kind = kind; figure.kernel = kernel; figure.stride = stride
            let svg = try SVGGroupTexts(figure.scene())
            let (oh, ow) = ((6 - kernel) / stride + 1, (7 - kernel) / stride + 1)
            for y in 0..<oh { for xx in 0..<ow {
                var window: [Float] = []
                for i in 0..<kernel { for j in 0..<kernel { window.append(x[y * stride + i, xx * stride + j]) } }
                let expected = kind == .max ? Double(window.max()!) : Double(window.reduce(0, +)) / Double(window.count)
                let drawn = try XCTUnwrap(svg.number("output-\(y)-\(xx)"), "\(kind) \(kernel)/\(stride) cell \(y),\(xx)")
                XCTAssertEqual(drawn, expected, accuracy: 0.005, "\(kind) \(kernel)/\(stride) cell \(y),\(xx)")
            }}
            XCTAssertNil(svg.texts["output-\(oh)-0"], "no cell past H' = \(oh)")
        }
    }

    func testShiftFigureCountsTheUnchangedPooledValues() throws {
        // Column 0 is new, columns 1... are the original: pooled 2x2 windows keep their
        // maximum exactly when it does not sit in the window's right column alone.
        let wide = seededValues(4, 5, seed: 7)
        let figure = PoolingShift(wide: wide)
        var expectedSame = 0
        for y in 0..<2 { for x in 0..<2 {
            var a: [Float] = [], b: [Float] = []
            for i in 0..<2 { for j in 0..<2 { a.append(wide[2 * y + i, 2 * x + j + 1]); b.append(wide[2 * y + i, 2 * x + j]) } }
            if a.max() == b.max() { expectedSame += 1 }
        }}
        XCTAssertEqual(figure.unchanged.filter { $0 }.count, expectedSame)
        let svg = try SVGGroupTexts(figure.scene())
        XCTAssertEqual(svg.names.filter { $0.hasPrefix("unchanged-") }.count, expectedSame)
        XCTAssertEqual(svg.names.filter { $0.hasPrefix("changed-") }.count, 4 - expectedSame)
        let caption = try XCTUnwrap(svg.texts["caption"]).joined(separator: " ")
        XCTAssert(caption.contains("\(expectedSame) of the 4 pooled values are unchanged"), caption)
        // The shifted input's pooled cells are the shifted values' maxima.
        XCTAssertEqual(svg.number("shifted-pooled-0-0"), Double([wide[0, 0], wide[0, 1], wide[1, 0], wide[1, 1]].max()!))
    }

    func testLectureFiguresComeFromThePhotoAndSpeakChinese() throws {
        let context = LectureContext(language: .zh, seed: 3, workDirectory: FileManager.default.temporaryDirectory)
        let figures = try PoolingLecture(context: context).figures()
        XCTAssertEqual(figures.map(\.id), ["pooling", "pooling-shift"])
        let strip = try PoolingShift.photoStrip(seed: 3)
        XCTAssertEqual(strip.values.shape, [8, 9])
        XCTAssert(strip.values.data.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }, "8-bit pixel values")
        for figure in figures {
            let svg = try SVGGroupTexts(figure.scene)
            let title = try XCTUnwrap(svg.text("title"), figure.id)
            XCTAssert(containsCJK(title), "\(figure.id): \(title)")
        }
        // The pooled 8x8 patch: cell (0, 0) is the maximum of the strip's columns 1 and 2.
        let svg = try SVGGroupTexts(figures[0].scene)
        XCTAssertEqual(svg.number("output-0-0"), Double([strip.values[0, 1], strip.values[0, 2], strip.values[1, 1], strip.values[1, 2]].max()!))
        XCTAssertEqual(try PoolingShift.photoStrip(seed: 3).values, strip.values, "same seed, same patch")
    }

    func testUserTitleAndCaptionReplaceTheFigures() throws {
        var figure = PoolingDiagram(values: PoolingDiagram.lectureValues)
        figure.text = FigureText(title: "我的标题", caption: "Mine", language: .zh)
        let svg = try SVGGroupTexts(figure.scene())
        XCTAssertEqual(svg.text("title"), "我的标题")
        XCTAssertEqual(svg.texts["caption"], ["Mine"])
    }
}
