import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// The SVG budget (issue 15): the estimate made before drawing bounds what Cairo writes,
/// and a figure over budget draws fewer tiles and says which.
final class DeepLayerSVGBudgetTests: XCTestCase {
    func noise(_ shape: [Int], seed: UInt64 = 4) -> Tensor {
        var t = Tensor(shape: shape)
        var rng = SeededGenerator(seed: seed)
        for i in 0..<t.count { t.data[i] = rng.uniform(-1, 1) }
        return t
    }

    /// Uniform noise is the worst case for PNG's deflate: the estimate must stay above
    /// what is written, and not so far above that figures are cut for nothing.
    func testEstimateBoundsTheWrittenSVG() throws {
        for zoom in [1, 3] {
            var grid = KernelGrid(weights: noise([96, 96, 3, 3]))
            grid.scale = zoom
            let written = try Canvas.render(grid.scene(), format: .svg).count
            let side = 96 * (3 * zoom + 1) - 1
            let estimate = FigureLimits.svgFrameBytes + FigureLimits.svgImageBytes(width: side, height: side, distinct: 96 * 96 * 9)
                + 192 * FigureLimits.svgTextBytes(characters: 3)
            XCTAssertLessThan(written, estimate, "x\(zoom): written \(written), estimated \(estimate)")
            XCTAssertGreaterThan(Double(written), 0.6 * Double(estimate), "x\(zoom): written \(written), estimated \(estimate)")
        }
    }

    func testMosaicOverBudgetDrawsFewerFiltersAndSaysWhich() throws {
        var mosaic = FilterMosaic(weights: noise([256, 64, 3, 3]))
        mosaic.channelMode = .strips
        mosaic.scale = 2
        mosaic.maxSVGBytes = 1_000_000
        let scene = mosaic.scene()
        let drawn = scene.items.compactMap { item -> String? in
            if case let .group(name, _) = item, name.hasPrefix("filter-") { return name }
            return nil
        }
        XCTAssertGreaterThan(drawn.count, 10); XCTAssertLessThan(drawn.count, 256)
        XCTAssertEqual(drawn, (0..<drawn.count).map { "filter-\($0)" })
        XCTAssert(scene.texts.contains("SVG limited to about 1 MB: filters 0–\(drawn.count - 1) of 256 drawn."), "\(scene.texts.suffix(2))")
        XCTAssert(mosaic.warnings.contains { $0.contains("--max-svg-mb") })
        XCTAssertLessThan(try Canvas.render(scene, format: .svg).count, 1_000_000)
        // Without a budget (PNG, PDF) every filter is drawn.
        mosaic.maxSVGBytes = nil
        XCTAssertEqual(mosaic.scene().texts.filter { $0.hasPrefix("SVG limited") }, [])
    }

    /// Captions name what is drawn; a page of 128 filters sorted by norm must not list
    /// 128 numbers.
    func testLongIndexListsAreAbbreviated() {
        XCTAssertEqual(IndexSelection.describe([0, 1, 2, 3, 7]), "0–3, 7")
        XCTAssertEqual(IndexSelection.describe(Array((0..<40).reversed())), (24...39).reversed().map(String.init).joined(separator: ", ") + " … +24")
        XCTAssertEqual(IndexSelection.describe(Array(0..<512)), "0–511")
    }

    func testActivationMapsOverBudgetDrawFewerMaps() throws {
        var figure = ActivationMaps(maps: noise([64, 40, 40]), layer: "layer2")
        figure.maxSVGBytes = 200_000
        let scene = figure.scene()
        let maps = scene.items.filter { if case let .group(name, _) = $0 { return name.hasPrefix("map-") }; return false }.count
        XCTAssertGreaterThan(maps, 5); XCTAssertLessThan(maps, 64)
        XCTAssert(scene.texts.contains("SVG limited to about 0.2 MB: channels 0–\(maps - 1) of 64 drawn."), "\(scene.texts.suffix(2))")
        XCTAssertLessThan(try Canvas.render(scene, format: .svg).count, 200_000)
    }
}
