import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// The feature-visualization figure: one image per unit with its label and value; the
/// filmstrip's columns are the steps.
final class FeatureVisualizationGridTests: XCTestCase {
    /// Three 1-channel 8x8 images of constant gray 0.0, 0.5 and 1.0.
    private let images = Tensor(shape: [3, 1, 8, 8], data: (0..<3).flatMap { i in Array(repeating: Float(i) / 2, count: 64) })

    func testGridDrawsEachUnitsImageLabelAndValue() throws {
        var figure = FeatureVisualizationGrid(labels: ["channel 0", "channel 5", "channel 9"],
                                              snapshots: [.init(step: 512, images: images, values: [1.5, 2.25, -0.5])], layer: "conv2")
        figure.scale = 4
        figure.columns = 3
        let scene = figure.scene()
        for i in 0..<3 {
            guard case let .group(name, items)? = scene.items.first(where: { if case .group("unit-\(i)", _) = $0 { true } else { false } }) else {
                return XCTFail("no group unit-\(i)")
            }
            XCTAssertEqual(name, "unit-\(i)")
            let rasters = items.compactMap { if case let .image(r, _, scale) = $0 { (r, scale) } else { nil } }
            XCTAssertEqual(rasters.count, 1)
            XCTAssertEqual(rasters[0].1, 4)
            XCTAssertEqual(Int(rasters[0].0.pixels[0]), [0, 128, 255][i], "gray level of image \(i)")
        }
        let svg = try SVGDocument(Canvas.render(scene, format: .svg))
        for t in ["What conv2 wants to see", "channel 5", "2.25", "-0.5"] {
            XCTAssert(svg.texts.contains(t), "\(t) in \(svg.texts)")
        }
        // The PNG shows image 2 (white) at its place: the third column, 4x upscaled.
        let png = try DecodedPNG(Canvas.render(scene, format: .png))
        let white = png.pixel(Int(Theme.margin) + 2 * (32 + 10) + 16, Int(Theme.margin + Theme.titleSize + 14) + 16)
        XCTAssertEqual(white.r, 255)
        let black = png.pixel(Int(Theme.margin) + 16, Int(Theme.margin + Theme.titleSize + 14) + 16)
        XCTAssertEqual(black.r, 0)
    }

    func testFilmstripHasOneColumnPerStep() throws {
        let snaps = [0, 32, 128].map { FeatureVisualizationGrid.Snapshot(step: $0, images: images, values: [0, 1, 2]) }
        let scene = FeatureVisualizationGrid(labels: ["logit 0", "logit 1", "logit 2"], snapshots: snaps, layer: "fc").scene()
        let svg = try SVGDocument(Canvas.render(scene, format: .svg))
        for t in ["step 0", "step 32", "step 128", "logit 2"] { XCTAssert(svg.texts.contains(t), "\(t) in \(svg.texts)") }
        let drawn = scene.items.reduce(0) { n, item in
            guard case let .group(name, items) = item, name.hasPrefix("unit-") else { return n }
            return n + items.filter { if case .image = $0 { true } else { false } }.count
        }
        XCTAssertEqual(drawn, 9)
    }
}
