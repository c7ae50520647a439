import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

final class TextAndMapsTests: XCTestCase {
    /// A Chinese label must put ink where it is drawn (Noto Sans CJK through Pango).
    func testCJKLabelPutsInk() throws {
        var scene = Scene(width: 200, height: 60)
        scene.add(.text("卷积神经网络", at: Point(100, 30), size: 24, color: .black, anchor: .middle))
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        var dark = 0, outside = 0
        for y in 0..<60 { for x in 0..<200 {
            let isDark = png.pixel(x, y).r < 128
            if x >= 28 && x < 172 && y >= 14 && y < 46 { if isDark { dark += 1 } } else if isDark { outside += 1 }
        }}
        XCTAssertGreaterThan(dark, 300, "six CJK glyphs leave ink in their box")
        XCTAssertEqual(outside, 0, "and none elsewhere")
    }

    func testColormapEndpointsAreThePublishedValues() {
        XCTAssertEqual(Colormap.viridis.swatch(0), Color(68.0 / 255, 1.0 / 255, 84.0 / 255))
        XCTAssertEqual(Colormap.viridis.swatch(1), Color(253.0 / 255, 231.0 / 255, 37.0 / 255))
        XCTAssertEqual(Colormap.magma.swatch(0), Color(0, 0, 4.0 / 255))
        XCTAssertEqual(Colormap.gray.swatch(0.5), Color(128.0 / 255, 128.0 / 255, 128.0 / 255))
        let mid = Colormap.redBlue.swatch(0.5), low = Colormap.redBlue.swatch(0), high = Colormap.redBlue.swatch(1)
        XCTAssert(mid.r > 0.9 && mid.g > 0.9 && mid.b > 0.9, "white in the middle")
        XCTAssert(low.b > low.r && high.r > high.b, "blue below, red above")
    }

    func testActivationMapsGridTitlesAndColorbar() throws {
        var maps = Tensor(shape: [5, 6, 6])
        for c in 0..<5 { for i in 0..<36 { maps.data[c * 36 + i] = Float(c) } }
        var figure = ActivationMaps(maps: maps, layer: "conv1")
        figure.scale = 4
        figure.columns = 3
        let scene = figure.scene()
        // 24-pixel tiles are too narrow for "conv1 · 0": they keep the channel number,
        // and the title names the layer.
        XCTAssertEqual((0..<5).map { "#\($0)" }, scene.texts.filter { $0.hasPrefix("#") })
        XCTAssertTrue(scene.texts.contains { $0.contains("conv1") })
        var wide = figure
        wide.scale = 12
        XCTAssertEqual((0..<5).map { "conv1 · \($0)" }, wide.scene().texts.filter { $0.hasPrefix("conv1 · ") })
        let svg = try SVGDocument(try Canvas.render(scene, format: .svg))
        XCTAssertEqual(svg.count("image"), 6, "five maps and the colour bar")
        // Map 0 is the minimum: viridis' first colour; map 4 the maximum: its last.
        let png = try DecodedPNG(try Canvas.render(scene, format: .png))
        let titleH = Int(Theme.smallSize + 6)
        let origin = (x: Int(Theme.margin), y: Int(Theme.margin + Theme.titleSize + 14) + titleH)
        XCTAssertEqual(png.pixel(origin.x + 2, origin.y + 2).r, 68)
        let step = 6 * 4 + 6
        let last = png.pixel(origin.x + step + 2, origin.y + step + titleH + 2)  // map 4: row 1, column 1
        XCTAssertEqual(last.r, 253); XCTAssertEqual(last.g, 231)
    }

    func testOutputFormatComesFromTheExtension() throws {
        XCTAssertEqual(try OutputFormat(path: "a/b.SVG"), .svg)
        XCTAssertThrowsError(try OutputFormat(path: "a.jpg"))
    }
}
