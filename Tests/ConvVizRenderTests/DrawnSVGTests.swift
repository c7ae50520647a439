import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// Checks on what Cairo drew (its own paths and embedded images), so that the structure
/// layer other tests read is known to tell the truth.
final class DrawnSVGTests: XCTestCase {
    /// Every rect, polygon, polyline and image the structure layer lists was drawn by
    /// Cairo at the same coordinates, in the same colours.
    func assertStructureWasDrawn(_ scene: Scene, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws -> CairoDrawing {
        let svg = try SVGDocument(try Canvas.render(scene, format: .svg))
        let drawn = try CairoDrawing(svg)
        guard let start = svg.elements.firstIndex(where: { $0.attributes["id"] == "convviz-structure" }) else {
            XCTFail("\(label): no structure layer", file: file, line: line); return drawn
        }
        var checked = 0
        for e in svg.elements[start...] {
            let a = e.attributes
            func number(_ k: String) -> Double { Double(a[k] ?? "") ?? .nan }
            switch e.name {
            case "rect" where a["class"] == "image":
                let ok = drawn.images.contains { abs($0.origin.x - number("x")) <= 0.01 && abs($0.origin.y - number("y")) <= 0.01
                    && abs(Double($0.rgb.shape[2]) * $0.scale - number("width")) <= 0.01 }
                XCTAssert(ok, "\(label): no image drawn at \(a)", file: file, line: line)
            case "rect":
                let (x, y, w, h) = (number("x"), number("y"), number("width"), number("height"))
                let shapes = drawn.shapes(at: [Point(x, y), Point(x + w, y), Point(x + w, y + h), Point(x, y + h)])
                XCTAssertFalse(shapes.isEmpty, "\(label): rect \(a) not drawn", file: file, line: line)
                if let fill = a["data-fill"].flatMap(Color.init(parsing:)) {
                    XCTAssert(shapes.contains { $0.fill?.isClose(to: fill) == true }, "\(label): rect \(a) not filled \(fill)", file: file, line: line)
                }
            case "polygon", "polyline":
                let points = (a["points"] ?? "").split(separator: " ").map { p in
                    let xy = p.split(separator: ",").map { Double($0)! }
                    return Point(xy[0], xy[1])
                }
                let shapes = drawn.shapes(at: points)
                let stroke = a["data-stroke"].flatMap(Color.init(parsing:)), fill = a["data-fill"].flatMap(Color.init(parsing:))
                let ok = shapes.contains { s in
                    (stroke == nil || s.stroke?.isClose(to: stroke!) == true) && (fill == nil || s.fill?.isClose(to: fill!) == true)
                }
                XCTAssert(ok, "\(label): \(e.name) \(a) not drawn as described", file: file, line: line)
            default: continue
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0, "\(label): nothing to check", file: file, line: line)
        return drawn
    }

    func testEveryFigureDrawsWhatItsStructureLayerSays() throws {
        var cubes = NormalizationCubes()
        cubes.anchor = SampleChannel(2, 3)
        _ = try assertStructureWasDrawn(cubes.scene(), "cubes")
        _ = try assertStructureWasDrawn(PoolingDiagram(values: PoolingDiagram.lectureValues).scene(), "pooling")
        let run = TrainingCurves.Run(name: "a", loss: [(0, 2.3), (50, 1.1), (100, 0.7)], accuracy: [(1, 0.6), (2, 0.8)])
        _ = try assertStructureWasDrawn(TrainingCurves(runs: [run]).scene(), "curves")
        let conv = LayerSpec(.conv, out: 2, kernel: Pair(3))
        let table = try ShapeTable(Architecture(name: "t", input: [1, 16, 16], layers: [conv, conv]))
        let boxes = ReceptiveFieldOverlay.boxes(table: table, layer: 1, unit: (y: 4, x: 1))
        _ = try assertStructureWasDrawn(ReceptiveFieldOverlay(image: Tensor(shape: [1, 16, 16], repeating: 0.5), boxes: boxes, unitLabel: "u").scene(), "overlay")
    }

    /// Cairo filled exactly the faces of the shaded set: as many shaded paths as the
    /// set has visible faces (a top per cell, a front per cell of sample 0, a side per
    /// cell of the last channel).
    func testCubesShadeTheSetsFacesOnly() throws {
        var cubes = NormalizationCubes()
        cubes.samples = 4; cubes.channels = 6; cubes.groups = 3
        let drawn = try assertStructureWasDrawn(cubes.scene(), "cubes")
        var expected = 0
        for kind in cubes.kinds {
            for cell in kind.set(containing: cubes.anchor, n: 4, c: 6, groups: 3) {
                expected += 1 + (cell.sample == 0 ? 1 : 0) + (cell.channel == 5 ? 1 : 0)
            }
        }
        XCTAssertEqual(drawn.shapes.filter { $0.fill?.isClose(to: NormalizationCubes.shade) == true }.count, expected)
    }
}

extension FilterMosaicTests {
    /// The images Cairo embedded are the filters, at the grid's positions and scale.
    func testCairoEmbedsEachFilterAtItsCell() throws {
        var mosaic = FilterMosaic(weights: weights())
        mosaic.scale = 5; mosaic.gap = 3; mosaic.columns = 2; mosaic.title = ""
        let drawn = try CairoDrawing(try SVGDocument(try Canvas.render(mosaic.scene(), format: .svg)))
        XCTAssertEqual(drawn.images.count, 4)
        let o = Theme.margin
        for (i, image) in drawn.images.enumerated() {
            XCTAssertEqual(image.origin, Point(o + Double(i % 2) * 23, o + Double(i / 2) * 23), "filter \(i)")
            XCTAssertEqual(image.scale, 5)
            XCTAssertEqual(image.rgb.shape, [3, 4, 4])
        }
        func rgb(_ t: Tensor, _ y: Int, _ x: Int) -> [Int] { (0..<3).map { Int((t[$0, y, x] * 255).rounded()) } }
        // Filter 0: red top rows, green bottom rows; filter 1: cyan (-1 in red).
        XCTAssertEqual(rgb(drawn.images[0].rgb, 0, 0), [255, 128, 128])
        XCTAssertEqual(rgb(drawn.images[0].rgb, 3, 3), [128, 255, 128])
        XCTAssertEqual(rgb(drawn.images[1].rgb, 2, 1), [0, 128, 128])
    }
}
