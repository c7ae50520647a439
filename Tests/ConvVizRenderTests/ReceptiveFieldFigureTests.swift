import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

final class ReceptiveFieldFigureTests: XCTestCase {
    /// The SVG's boxes sit where the arithmetic puts them: parse the structure layer.
    func testOverlayBoxesAtArithmeticCoordinates() throws {
        let conv = LayerSpec(.conv, out: 2, kernel: Pair(3))
        let arch = Architecture(name: "t", input: [1, 16, 16], layers: [conv, conv, conv])
        let table = try ShapeTable(arch)
        let boxes = ReceptiveFieldOverlay.boxes(table: table, layer: 2, unit: (y: 4, x: 1))
        // Unit (4, 1) of conv3 is centred at (3 + 4, 3 + 1) = (7, 4); conv1's unit there
        // sees rows 6...8, columns 3...5; conv2's 5...9 x 2...6; conv3's 4...10 x 1...7.
        XCTAssertEqual(boxes.map { [$0.y0, $0.x0, $0.y1, $0.x1] }, [[6, 3, 8, 5], [5, 2, 9, 6], [4, 1, 10, 7]])
        var figure = ReceptiveFieldOverlay(image: Tensor(shape: [1, 16, 16], repeating: 0.5), boxes: boxes, unitLabel: "conv3 unit")
        figure.scale = 10
        let svg = try SVGDocument(try Canvas.render(figure.scene(), format: .svg))
        // The image rect gives the origin; each box is origin + index * 10.
        let elements = svg.elements
        func rects(inGroup name: String) -> [[Double]] {
            guard let start = elements.firstIndex(where: { $0.name == "g" && $0.attributes["data-name"] == name }) else { return [] }
            return elements[(start + 1)...].prefix { $0.name != "g" }.filter { $0.name == "rect" }.map { e in
                ["x", "y", "width", "height"].map { Double(e.attributes[$0]!)! }
            }
        }
        let image = try XCTUnwrap(rects(inGroup: "image").first)
        XCTAssertEqual(image[2], 160)
        for (box, expected) in zip(["box-conv1", "box-conv2", "box-conv3"], [[6.0, 3, 8, 5], [5, 2, 9, 6], [4, 1, 10, 7]]) {
            let r = try XCTUnwrap(rects(inGroup: box).first, box)
            XCTAssertEqual(r[0], image[0] + expected[1] * 10, accuracy: 0.01, "\(box) x")
            XCTAssertEqual(r[1], image[1] + expected[0] * 10, accuracy: 0.01, "\(box) y")
            XCTAssertEqual(r[2], (expected[3] - expected[1] + 1) * 10, accuracy: 0.01, "\(box) width")
            XCTAssertEqual(r[3], (expected[2] - expected[0] + 1) * 10, accuracy: 0.01, "\(box) height")
        }
    }

    func testPaddingIsHatchedWhenTheFieldLeavesTheImage() throws {
        let conv = LayerSpec(.conv, out: 2, kernel: Pair(5), padding: Pair(2))
        let table = try ShapeTable(Architecture(name: "t", input: [1, 8, 8], layers: [conv]))
        let boxes = ReceptiveFieldOverlay.boxes(table: table, layer: 0, unit: (0, 0))
        XCTAssertEqual(boxes[0].y0, -2)
        let scene = ReceptiveFieldOverlay(image: Tensor(shape: [1, 8, 8]), boxes: boxes, unitLabel: "u").scene()
        XCTAssert(scene.texts.contains { $0.contains("zero padding") })
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        XCTAssertGreaterThan(png.width, 100)
    }

    func testGrowthFigureStatesTheFormula() throws {
        let figure = try ReceptiveFieldGrowth.lectureExamples()
        let scene = figure.scene()
        XCTAssert(scene.texts.contains { $0.contains("1 + L(K-1)") })
        XCTAssert(scene.texts.contains { $0.contains("sees 7 input pixels") })
        XCTAssert(scene.texts.contains { $0.contains("sees 12 input pixels") })
        let deps = ReceptiveFieldGrowth.dependencies(ReceptiveFieldGrowth.levels(figure.panels[0].table))
        XCTAssertEqual(deps.map(\.count), [7, 5, 3, 1])
    }
}
