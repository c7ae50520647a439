import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

final class FilterMosaicTests: XCTestCase {
    /// Filter 0: top rows +1 in red, bottom rows +1 in green; filter 1: -1 in red
    /// everywhere (the opposing colour, cyan); filters 2, 3: random.
    func weights() -> Tensor {
        var w = Tensor(shape: [4, 3, 4, 4])
        for y in 0..<2 { for x in 0..<4 { w[0, 0, y, x] = 1 } }
        for y in 2..<4 { for x in 0..<4 { w[0, 1, y, x] = 1 } }
        for y in 0..<4 { for x in 0..<4 { w[1, 0, y, x] = -1 } }
        var rng = SeededGenerator(seed: 1)
        for i in (2 * 48)..<(4 * 48) { w.data[i] = rng.uniform(-1, 1) }
        return w
    }

    func testColoursLandInTheRightCells() throws {
        var mosaic = FilterMosaic(weights: weights())
        mosaic.scale = 5
        mosaic.gap = 3
        mosaic.columns = 2
        mosaic.title = ""
        let png = try DecodedPNG(try Canvas.render(mosaic.scene(), format: .png))
        let o = Int(Theme.margin)  // no title: the grid starts at the margin
        // Filter 0, top half: red channel high, green at mid-gray (0 maps to 128).
        for (x, y) in [(o + 1, o + 1), (o + 19, o + 9)] {
            let p = png.pixel(x, y)
            XCTAssertEqual(p.r, 255, "red at (\(x),\(y))"); XCTAssertEqual(p.g, 128); XCTAssertEqual(p.b, 128)
        }
        // Filter 0, bottom half (rows 2-3 -> pixels 10-19): green.
        let g = png.pixel(o + 10, o + 12)
        XCTAssertEqual(g.g, 255); XCTAssertEqual(g.r, 128)
        // Filter 1 sits one cell (4*5 + gap 3 = 23 px) to the right: red -1 -> r = 0, cyan.
        let c = png.pixel(o + 23 + 2, o + 2)
        XCTAssertEqual(c.r, 0); XCTAssertEqual(c.g, 128); XCTAssertEqual(c.b, 128)
        // The gap between them is background white.
        XCTAssertEqual(png.pixel(o + 21, o + 5).r, 255); XCTAssertEqual(png.pixel(o + 21, o + 5).g, 255)
        // Scale: the block is exactly 20 px wide: pixel 19 is filter, 20 is gap.
        XCTAssertEqual(png.pixel(o + 19, o + 1).g, 128)
        XCTAssertEqual(png.pixel(o + 20, o + 1).g, 255)
    }

    func testSVGHasOneImagePerFilterAndTextLabels() throws {
        var mosaic = FilterMosaic(weights: weights())
        mosaic.labels = true
        let svg = try SVGDocument(try Canvas.render(mosaic.scene(), format: .svg))
        XCTAssertEqual(svg.count("image"), 4, "Cairo embeds one image per filter")
        // The frame's title and caption groups, then one group per filter.
        XCTAssertEqual(["title", "caption"] + (0..<4).map { "filter-\($0)" }, svg.elements.filter { $0.name == "g" }.compactMap { $0.attributes["data-name"] })
        for i in 0..<4 { XCTAssert(svg.texts.contains("\(i)"), "label \(i)") }
        XCTAssert(svg.texts.contains { $0.contains("filter-symmetric") }, "caption names the normalization")
    }

    func testPDFIsOnePageOfTheSceneSize() throws {
        var mosaic = FilterMosaic(weights: weights())
        let scene = mosaic.scene()
        let pdf = String(decoding: try Canvas.render(scene, format: .pdf), as: UTF8.self)
        XCTAssert(pdf.hasPrefix("%PDF-"))
        XCTAssertEqual(pdf.components(separatedBy: "/Type /Page\n").count + pdf.components(separatedBy: "/Type /Page ").count - 2, 1, "one page")
        XCTAssert(pdf.contains("/MediaBox [ 0 0 \(Int(scene.width)) \(Int(scene.height)) ]"), "page size")
    }

    func testConstantAndNonFiniteFiltersAreMarked() throws {
        var w = weights()
        for i in 0..<48 { w.data[2 * 48 + i] = 0.25 }  // filter 2 constant
        w.data[3 * 48 + 5] = .nan
        w.data[3 * 48 + 6] = .infinity
        var mosaic = FilterMosaic(weights: w)
        mosaic.title = ""
        mosaic.columns = 4
        let png = try DecodedPNG(try Canvas.render(mosaic.scene(), format: .png))
        XCTAssertEqual(mosaic.warnings.count, 2)
        XCTAssert(mosaic.warnings[0].contains("filter 2 is constant"))
        XCTAssert(mosaic.warnings[1].contains("filter 3 has 2 NaN/Inf"))
        // Magenta (the warning colour) appears in filter 3's cell.
        let o = Int(Theme.margin), cell = 4 * 8 + 2
        var magenta = 0
        for y in o..<(o + 32) { for x in (o + 3 * cell)..<(o + 3 * cell + 32) {
            let p = png.pixel(x, y); if p.r > 180 && p.g < 60 && p.b > 100 { magenta += 1 }
        }}
        XCTAssertGreaterThan(magenta, 20)
    }

    func testSameWeightsSameBytes() throws {
        var a = FilterMosaic(weights: weights()), b = FilterMosaic(weights: weights())
        for f in OutputFormat.allCases {
            XCTAssertEqual(try Canvas.render(a.scene(), format: f), try Canvas.render(b.scene(), format: f), "\(f)")
        }
    }

    func testGroupByTaxonomyPutsEdgesFirstWithBadges() throws {
        // Filter 0: noise; filter 1: a vertical-stripe Gabor (an edge).
        var w = Tensor(shape: [2, 3, 11, 11])
        var rng = SeededGenerator(seed: 3)
        for i in 0..<363 { w.data[i] = rng.normal() }
        for c in 0..<3 { for y in 0..<11 { for x in 0..<11 {
            let dx = Double(x - 5), dy = Double(y - 5)
            w[1, c, y, x] = Float(exp(-(dx * dx + dy * dy) / 12.5) * cos(2 * Double.pi * 0.2 * dx))
        }}}
        var mosaic = FilterMosaic(weights: w)
        mosaic.groupByTaxonomy(FilterTaxonomy(weights: w))
        XCTAssertEqual(mosaic.order, [1, 0])
        XCTAssertEqual(mosaic.badges[1]?.color, FilterMosaic.classColors[.edge])
        XCTAssertEqual(mosaic.badges[0]?.color, FilterMosaic.classColors[.unstructured])
        let svg = try SVGDocument(try Canvas.render(mosaic.scene(), format: .svg))
        XCTAssertEqual(svg.elements.compactMap { $0.attributes["data-name"] }.filter { $0.hasPrefix("filter-") }, ["filter-1", "filter-0"], "drawn in class order")
    }

    /// Two panels side by side: the second mosaic is the first's drawing moved right,
    /// each with its own label and notes, and the whole figure the same bytes twice.
    func testComparisonPutsTwoMosaicsSideBySide() throws {
        let w = weights()
        let t = FilterTaxonomy(weights: w)
        let figure = FilterComparison(panels: [.init(label: "learned", weights: w, taxonomy: t, notes: ["50% edges"]),
                                               .init(label: "k-means", weights: w, taxonomy: t, notes: ["25% edges"])])
        let scene = figure.scene()
        for text in ["learned", "50% edges", "k-means", "25% edges"] { XCTAssert(scene.texts.contains(text), text) }
        XCTAssertFalse(scene.texts.contains { $0.hasPrefix("Normalization:") }, "the panels' notes replace the mosaic caption")
        func images(_ item: Scene.Item) -> [Point] {
            switch item {
            case let .image(_, at, _): return [at]
            case let .group(_, items): return items.flatMap(images)
            default: return []
            }
        }
        let panels = scene.items.compactMap { item -> [Point]? in
            if case let .group(name, _) = item, name.hasPrefix("panel-") { return images(item) }
            return nil
        }
        XCTAssertEqual(panels.count, 2)
        XCTAssertEqual(panels[0].count, 4); XCTAssertEqual(panels[1].count, 4)
        let dx = panels[1][0].x - panels[0][0].x
        XCTAssertGreaterThan(dx, 0)
        for (a, b) in zip(panels[0], panels[1]) { XCTAssertEqual(b.x - a.x, dx); XCTAssertEqual(b.y, a.y) }
        XCTAssertLessThanOrEqual(panels[1].map(\.x).max()!, scene.width)
        XCTAssertEqual(try Canvas.render(scene, format: .png), try Canvas.render(figure.scene(), format: .png))
    }
}
