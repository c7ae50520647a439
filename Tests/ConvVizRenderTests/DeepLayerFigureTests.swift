import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// Deep-layer figures (issue 15): size caps, selection, the kernel grid and the 1x1 heat map.
final class DeepLayerFigureTests: XCTestCase {
    /// Width and height from a PNG's IHDR chunk (decoding a 30-megapixel figure is not needed).
    func pngSize(_ d: Data) -> (Int, Int) {
        func be32(_ o: Int) -> Int { d[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(Array(d.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        return (be32(16), be32(20))
    }

    func random(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var t = Tensor(shape: shape)
        var rng = SeededGenerator(seed: seed)
        for i in 0..<t.count { t.data[i] = rng.uniform(-1, 1) }
        return t
    }

    func groups(_ scene: Scene, prefix: String) -> [String] {
        scene.items.compactMap { if case let .group(name, _) = $0, name.hasPrefix(prefix) { return name }; return nil }
    }

    // MARK: 1. Size stays sane

    /// layer4.1.conv2 of ResNet-18 as strips: 512 filters of 512 channels. Cairo refused
    /// the PNG and SVG came out 117,813 px wide; now all three formats stay under the cap,
    /// with a caption note, and SVG embeds one image per filter. About 20 s in a debug
    /// build: in the long suite (`testTooManyFiltersDrawsAPrefixAndSaysWhich` and
    /// `testKernelGridOfALargeLayerIsOneImageUnderTheCap` keep the cap in every run).
    func testStripsOf512x512x3x3FitUnderTheCapInEveryFormat() throws {
        try skipUnlessLongTests("512 x 512 strips drawn as PNG, SVG and PDF")
        var mosaic = FilterMosaic(weights: random([512, 512, 3, 3]))
        mosaic.channelMode = .strips
        let scene = mosaic.scene()
        let cap = Double(FigureLimits.maxSide)
        XCTAssertLessThanOrEqual(scene.width, cap); XCTAssertLessThanOrEqual(scene.height, cap)
        XCTAssert(scene.texts.contains { $0.hasPrefix("Scaled to x") && $0.contains("16384 px a side") }, "caption note: \(scene.texts.suffix(3))")
        XCTAssert(mosaic.warnings.contains { $0.contains("scaled down") })

        let png = try Canvas.render(scene, format: .png)
        let (w, h) = pngSize(png)
        XCTAssertEqual([w, h], [Int(scene.width), Int(scene.height)])
        XCTAssertLessThanOrEqual(max(w, h), FigureLimits.maxSide)

        let svgData = try Canvas.render(scene, format: .svg)
        XCTAssertLessThan(svgData.count, 20_000_000, "SVG stays under ~20 MB")
        // Foundation's XMLParser (libxml2 without XML_PARSE_HUGE) gives up on documents
        // this large, so the SVG is checked as text.
        let svg = String(decoding: svgData, as: UTF8.self)
        XCTAssert(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"), "a complete SVG document")
        XCTAssert(svg.contains("width=\"\(Int(scene.width))\" height=\"\(Int(scene.height))\""), "the scene's size")
        XCTAssertEqual(svg.components(separatedBy: "<image").count - 1, 512, "one embedded image per filter, not one per strip")
        XCTAssert(svg.contains(">Scaled to x"), "the note is in the text layer")

        let pdf = String(decoding: try Canvas.render(scene, format: .pdf), as: UTF8.self)
        XCTAssert(pdf.hasPrefix("%PDF-"))
        XCTAssert(pdf.contains("/MediaBox [ 0 0 \(Int(scene.width)) \(Int(scene.height)) ]"))
    }

    /// When even x1 is too large, fewer filters are drawn and the caption says which.
    func testTooManyFiltersDrawsAPrefixAndSaysWhich() throws {
        var mosaic = FilterMosaic(weights: random([512, 64, 3, 3]))
        mosaic.channelMode = .strips
        mosaic.maxSide = 600
        let scene = mosaic.scene()
        XCTAssertLessThanOrEqual(scene.width, 600); XCTAssertLessThanOrEqual(scene.height, 600)
        let drawn = groups(scene, prefix: "filter-")
        XCTAssertGreaterThan(drawn.count, 10); XCTAssertLessThan(drawn.count, 512)
        XCTAssertEqual(drawn, (0..<drawn.count).map { "filter-\($0)" })
        XCTAssert(scene.texts.contains("Too large to draw whole: filters 0–\(drawn.count - 1) of 512 drawn."), "\(scene.texts.suffix(3))")
        XCTAssert(mosaic.warnings.contains { $0.contains("--filters") })
        _ = try Canvas.render(scene, format: .png)
    }

    func testActivationMapsFitUnderTheCapWithANote() throws {
        var figure = ActivationMaps(maps: random([400, 64, 64]), layer: "layer1")
        figure.maxSide = 1000
        let scene = figure.scene()
        XCTAssertLessThanOrEqual(scene.width, 1000); XCTAssertLessThanOrEqual(scene.height, 1000)
        let drawn = groups(scene, prefix: "map-")
        XCTAssertLessThan(drawn.count, 400); XCTAssertGreaterThan(drawn.count, 4)
        XCTAssert(scene.texts.contains("Too large to draw whole: channels 0–\(drawn.count - 1) of 400 drawn."), "\(scene.texts.suffix(3))")
        let (w, h) = pngSize(try Canvas.render(scene, format: .png))
        XCTAssertLessThanOrEqual(max(w, h), 1000)
    }

    func testKernelGridOfALargeLayerIsOneImageUnderTheCap() throws {
        var grid = KernelGrid(weights: random([512, 512, 3, 3]))
        let scene = grid.scene()
        XCTAssertLessThanOrEqual(max(scene.width, scene.height), Double(FigureLimits.maxSide))
        let svg = String(decoding: try Canvas.render(scene, format: .svg), as: UTF8.self)
        XCTAssertEqual(svg.components(separatedBy: "<image").count - 1, 2, "the grid and the colour bar")
        var small = KernelGrid(weights: random([512, 512, 3, 3]))
        small.maxSide = 1000
        let s = small.scene()
        XCTAssertLessThanOrEqual(max(s.width, s.height), 1000)
        XCTAssert(s.texts.contains { $0.hasPrefix("Too large to draw whole: filters 0–") && $0.contains("of 512 x input channels 0–") })
    }

    // MARK: 2. Selection

    func testSelectionSyntax() throws {
        XCTAssertEqual(try IndexSelection(parsing: "0:4")!.indices(count: 10, what: "filter"), [0, 1, 2, 3])
        XCTAssertEqual(try IndexSelection(parsing: "7,2,2,0:8:3")!.indices(count: 10, what: "filter"), [7, 2, 0, 3, 6])
        XCTAssertEqual(try IndexSelection(parsing: "8:")!.indices(count: 10, what: "filter"), [8, 9])
        for bad in ["", "a", "4:2", "-1", "1:3:0", "1::"] { XCTAssertNil(IndexSelection(parsing: bad), bad) }
        XCTAssertThrowsError(try IndexSelection(parsing: "12")!.indices(count: 10, what: "filter")) {
            XCTAssertEqual("\($0)", "filter 12 is out of range: there are 10 (0 to 9)")
        }
        XCTAssertEqual(IndexSelection.describe([0, 1, 2, 3, 7, 9, 10]), "0–3, 7, 9, 10")
    }

    /// Filter i has +1 in red at kernel pixel i (row-major), 0 elsewhere.
    func markedFilters() -> Tensor {
        var w = Tensor(shape: [8, 3, 4, 4])
        for i in 0..<8 { w[i, 0, i / 4, i % 4] = 1; w[i, 2, 3 - i / 4, 3 - i % 4] = -1 }
        return w
    }

    func testMosaicDrawsTheSelectedFiltersInOrderAtTheirPlaces() throws {
        var mosaic = FilterMosaic(weights: markedFilters())
        mosaic.order = [5, 2]
        mosaic.scale = 5; mosaic.gap = 3; mosaic.title = ""
        let scene = mosaic.scene()
        XCTAssertEqual(groups(scene, prefix: "filter-"), ["filter-5", "filter-2"])
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        let o = Int(Theme.margin), step = 4 * 5 + 3
        // Slot 0 is filter 5: red at kernel (1, 1); slot 1 is filter 2: red at (0, 2).
        XCTAssertEqual(png.pixel(o + 5 + 2, o + 5 + 2).r, 255)
        XCTAssertEqual(png.pixel(o + 2, o + 2).r, 128)
        XCTAssertEqual(png.pixel(o + step + 10 + 2, o + 2).r, 255)
        XCTAssertEqual(png.pixel(o + step + 5 + 2, o + 5 + 2).r, 128)
        XCTAssertEqual(Int(scene.width), max(2 * step - 3, Int(scene.width)), "two cells")
    }

    func testMosaicChannelSelectionDrawsOnlyThoseChannels() throws {
        var mosaic = FilterMosaic(weights: markedFilters())
        mosaic.channels = [2]
        mosaic.order = [0]
        mosaic.scale = 4; mosaic.title = ""
        let scene = mosaic.scene()
        XCTAssert(scene.texts.contains("Input channels 2."))
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        let o = Int(Theme.margin)
        // Channel 2 of filter 0 alone, in gray: -1 at (3, 3) is black, the rest mid-gray.
        XCTAssertEqual(png.pixel(o + 3 * 4 + 1, o + 3 * 4 + 1).r, 0)
        XCTAssertEqual(png.pixel(o + 1, o + 1).r, 128); XCTAssertEqual(png.pixel(o + 1, o + 1).g, 128)
    }

    func testKernelGridSelectionPutsEachKernelInItsCell() throws {
        // Kernel (f, c) is constant (4f + c - 12) / 12.
        var w = Tensor(shape: [6, 4, 3, 3])
        for f in 0..<6 { for c in 0..<4 { for k in 0..<9 { w.data[(f * 4 + c) * 9 + k] = Float(4 * f + c - 12) / 12 } } }
        var grid = KernelGrid(weights: w)
        grid.filters = [4, 1]; grid.channels = [3, 0]; grid.scale = 4
        let scene = grid.scene()
        XCTAssertEqual(grid.cellStep.x, 13); XCTAssertEqual(grid.cellStep.y, 13)
        guard case let .group(_, items) = scene.items.first(where: { if case .group("kernel-grid", _) = $0 { return true }; return false })!,
              case let .image(raster, _, _) = items[0] else { return XCTFail("no grid image") }
        XCTAssertEqual([raster.width, raster.height], [2 * 13 - 1, 2 * 13 - 1], "2 x 2 cells of 3x3 at x4, 1-px gaps")
        XCTAssert(scene.texts.contains("4") && scene.texts.contains("1"), "row labels name the filters")
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        let m: Float = 8.0 / 12  // the largest |w| among the selected kernels: |4 + 0 - 12| / 12
        for (r, f) in [4, 1].enumerated() { for (c, ch) in [3, 0].enumerated() {
            let v = Float(4 * f + ch - 12) / 12
            let want = Colormap.redBlue.color((v + m) / (2 * m))!
            let p = png.pixel(Int(grid.gridOrigin.x) + c * 13 + 6, Int(grid.gridOrigin.y) + r * 13 + 6)
            XCTAssertEqual([p.r, p.g, p.b], [Int(want.r), Int(want.g), Int(want.b)], "filter \(f), channel \(ch)")
        }}
    }

    func testTopChannelsByMeanAndMax() throws {
        var maps = Tensor(shape: [6, 4, 4])
        for c in 0..<6 { for i in 0..<16 { maps.data[c * 16 + i] = Float(c) } }
        maps.data[3] = 40  // map 0 has the largest single value, a small mean (2.5)
        XCTAssertEqual(ActivationMaps.topChannels(3, of: maps, by: .mean), [5, 4, 3])
        XCTAssertEqual(ActivationMaps.topChannels(2, of: maps, by: .max), [0, 5])
        maps.data[3] = 0
        var figure = ActivationMaps(maps: maps, layer: "conv")
        figure.channels = [5, 4, 3]
        figure.scale = 4; figure.columns = 3; figure.title = ""
        let scene = figure.scene()
        XCTAssertEqual(groups(scene, prefix: "map-"), ["map-5", "map-4", "map-3"])
        XCTAssertEqual(scene.texts.filter { $0.hasPrefix("#") }, ["#5", "#4", "#3"])
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        let titleH = Int(Theme.smallSize + 6), o = Int(Theme.margin), step = 4 * 4 + 6
        // One scale over the drawn maps (3 to 5): slot 0 (map 5) is viridis' top, slot 2 (map 3) its bottom.
        XCTAssertEqual(png.pixel(o + 2, o + titleH + 2).r, 253)
        XCTAssertEqual(png.pixel(o + 2 * step + 2, o + titleH + 2).r, 68)
    }

    // MARK: 3. 1x1 kernels as a heat map

    func testOneByOneKernelsAreAHeatMapWhoseCellsFollowTheValues() throws {
        var w = Tensor(shape: [64, 32, 1, 1])
        for o in 0..<64 { for i in 0..<32 { w.data[o * 32 + i] = Float(sin(Double(o) * 0.37 + Double(i) * 0.91)) * Float(o + 1) / 64 } }
        w.data[0] = 0
        var grid = KernelGrid(weights: w)
        XCTAssertTrue(grid.isHeatMap)
        let scene = grid.scene()
        XCTAssertEqual(grid.cellStep.x, 8); XCTAssertEqual(grid.cellStep.y, 8)
        guard case let .group(_, items) = scene.items.first(where: { if case .group("kernel-grid", _) = $0 { return true }; return false })!,
              case let .image(raster, _, _) = items[0] else { return XCTFail("no heat map") }
        XCTAssertEqual([raster.width, raster.height], [32 * 8, 64 * 8], "a 64 x 32 heat map, cells touching")
        XCTAssertEqual(groups(scene, prefix: "colorbar"), ["colorbar"])
        XCTAssert(scene.texts.contains { $0.contains("64 x 32 heat map") })
        let m = w.data.map(abs).max()!
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        var checked = 0
        for o in stride(from: 0, to: 64, by: 3) { for i in stride(from: 0, to: 32, by: 5) {
            let v = w.data[o * 32 + i]
            let want = Colormap.redBlue.color((v + m) / (2 * m))!
            for (dx, dy) in [(1, 1), (6, 6)] {
                let p = png.pixel(Int(grid.gridOrigin.x) + i * 8 + dx, Int(grid.gridOrigin.y) + o * 8 + dy)
                XCTAssertEqual([p.r, p.g, p.b], [Int(want.r), Int(want.g), Int(want.b)], "cell (\(o), \(i)) = \(v)")
            }
            checked += 1
        }}
        XCTAssertGreaterThan(checked, 100)
        // Diverging: 0 is the middle (near white), the most positive red, the most negative blue.
        let zero = png.pixel(Int(grid.gridOrigin.x) + 3, Int(grid.gridOrigin.y) + 3)
        XCTAssert(zero.r > 230 && zero.g > 230 && zero.b > 230, "\(zero)")
        let hi = w.data.indices.max { w.data[$0] < w.data[$1] }!, lo = w.data.indices.min { w.data[$0] < w.data[$1] }!
        let red = png.pixel(Int(grid.gridOrigin.x) + (hi % 32) * 8 + 4, Int(grid.gridOrigin.y) + (hi / 32) * 8 + 4)
        let blue = png.pixel(Int(grid.gridOrigin.x) + (lo % 32) * 8 + 4, Int(grid.gridOrigin.y) + (lo / 32) * 8 + 4)
        XCTAssert(red.r > red.b + 50, "\(red)"); XCTAssert(blue.b > blue.r + 50, "\(blue)")
    }
}

final class KernelPCATests: XCTestCase {
    /// A layer whose every kernel is a multiple of one known kernel (plus a little noise):
    /// the first principal component is that kernel, explaining nearly all the variance.
    func testFirstComponentOfALayerBuiltFromOneKernelIsThatKernel() throws {
        let known: [Float] = [1, 0, -1, 2, 0, -2, 1, 0, -1]  // a Sobel edge
        let norm = known.map { $0 * $0 }.reduce(0, +).squareRoot()
        var w = Tensor(shape: [32, 16, 3, 3])
        var rng = SeededGenerator(seed: 9)
        for k in 0..<(32 * 16) {
            let a: Float = rng.uniform(-2, 2)
            for i in 0..<9 { w.data[k * 9 + i] = a * known[i] + 0.01 * rng.uniform(-1, 1) }
        }
        let pca = KernelPCA(weights: w)
        let components = pca.components()
        XCTAssertEqual(components.count, 9)
        let first = components[0]
        for i in 0..<9 { XCTAssertEqual(first.vector[i], known[i] / norm, accuracy: 1e-3, "value \(i)") }
        XCTAssertGreaterThan(first.explained, 0.999)
        XCTAssertEqual(components.map(\.explained).reduce(0, +), 1, accuracy: 1e-9)
        for c in components.dropFirst() {
            XCTAssertEqual(zip(c.vector, first.vector).map { $0 * $1 }.reduce(0, +), 0, accuracy: 1e-4, "orthogonal")
        }
        let scene = pca.scene()
        XCTAssertEqual(scene.texts.filter { $0.hasPrefix("PC") && !$0.hasPrefix("PCA") }.count, 9)
        XCTAssert(scene.texts.contains { $0.hasPrefix("PC1 99.") || $0.hasPrefix("PC1 100.") }, "\(scene.texts)")
        // PC1 drawn: its top-left value (+) is red, top-right (-) blue, middle column white.
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        guard case let .group(_, items) = scene.items.first(where: { if case .group("component-1", _) = $0 { return true }; return false })!,
              case let .image(_, at, s) = items[0] else { return XCTFail("no PC1") }
        let px = { (x: Int, y: Int) in png.pixel(Int(at.x) + x * s + s / 2, Int(at.y) + y * s + s / 2) }
        XCTAssertGreaterThan(px(0, 1).r, px(0, 1).b + 50); XCTAssertGreaterThan(px(2, 1).b, px(2, 1).r + 50)
        XCTAssertGreaterThan(min(px(1, 1).r, px(1, 1).g, px(1, 1).b), 230)
    }
}
