import ConvVizCore
@testable import ConvVizRender
import XCTest

final class AttributionGridTests: XCTestCase {
    func groups(_ items: [Scene.Item]) -> [String: [Scene.Item]] {
        var out: [String: [Scene.Item]] = [:]
        for item in items { if case let .group(name, inner) = item { out[name] = inner; out.merge(groups(inner)) { a, _ in a } } }
        return out
    }

    /// Columns share a colour range per method: signed ones symmetric around 0; each cell
    /// is the colormap at its value (no photo: fully opaque), and a colour bar per column
    /// carries the real range in its ticks.
    func testColumnsKeepTheirRealRanges() throws {
        let ramp = Tensor(shape: [4, 4], data: (0..<16).map { Float($0) / 15 * 2 })
        let signed = Tensor(shape: [4, 4], data: (0..<16).map { Float($0) - 12 })
        let grid = AttributionGrid(columns: [.init(name: "gradcam", signed: false), .init(name: "integrated-gradients", signed: true)],
                                   rows: [.init(photo: nil, label: "a.png\nclass 1", maps: [ramp, signed])])
        XCTAssertEqual(grid.ranges[0].low, 0); XCTAssertEqual(grid.ranges[0].high, 2)
        XCTAssertEqual(grid.ranges[1].low, -12); XCTAssertEqual(grid.ranges[1].high, 12)
        let scene = grid.scene()
        let g = groups(scene.items)
        for name in ["map-gradcam", "map-integrated-gradients", "colorbar-gradcam", "colorbar-integrated-gradients", "title"] {
            XCTAssertNotNil(g[name], name)
        }
        guard case let .image(raster, _, _) = g["map-integrated-gradients"]![0] else { return XCTFail("no raster") }
        // Value 0 sits in the middle of the diverging scale; -12 at its blue end.
        XCTAssertEqual(raster[0, 3], Colormap.redBlue.swatch(0.5))
        XCTAssertEqual(raster[0, 0], Colormap.redBlue.swatch(0))
        let ticks = g["colorbar-integrated-gradients"]!.compactMap { item -> String? in if case let .text(s, _, _, _, _, _) = item { return s }; return nil }
        XCTAssertTrue(ticks.contains("-10") && ticks.contains("10"), "\(ticks)")
    }

    /// Over a photo the map is blended with the photo by `alpha`.
    func testMapBlendsOverThePhoto() {
        let photo = Tensor(shape: [3, 2, 2], repeating: 1)
        let raster = AttributionGrid.overlay(Tensor(shape: [2, 2], repeating: 0), photo: photo, colormap: .gray, low: 0, high: 1, alpha: 0.25)
        XCTAssertEqual(raster[1, 1].r, 0.75, accuracy: 0.01)
    }
}
