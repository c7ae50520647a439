import ConvVizCore
@testable import ConvVizRender
import Foundation
import XCTest

/// The microscope's pages: neighbours across layer ends, lazy images, nothing fetched
/// from the network, both languages, and the unit images' sizes.
final class MicroscopeSiteTests: XCTestCase {
    func site(_ language: Language) throws -> MicroscopeSite {
        let arch = Architecture(name: "t", input: [1, 8, 8], layers: [
            LayerSpec(.conv, name: "conv1", out: 2, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.conv, name: "conv2", out: 3, kernel: Pair(3), padding: Pair(1)),
        ])
        func unit(_ layer: String, _ c: Int) -> MicroscopeUnit {
            MicroscopeUnit(layer: layer, channel: c, objective: 1.5, meanActivation: 0.25,
                           patches: [.init(image: 7, y: 1, x: 2, value: 3, box: [0, 1, 3, 3], label: 1)],
                           classCounts: [2, 5], receptiveField: [3, 3])
        }
        return MicroscopeSite(model: "t.json", data: "samples (test)", table: try ShapeTable(arch), layers: [
            .init(name: "conv1", slug: "conv1", shape: [2, 8, 8], units: [unit("conv1", 0), unit("conv1", 1)], hasKernels: true),
            .init(name: "conv2", slug: "conv2", shape: [3, 8, 8], units: [unit("conv2", 0), unit("conv2", 2)], hasKernels: false),
        ], classes: ["shirt", "shoe"], photos: ["cat.png"], settingsNote: "note", language: language)
    }

    func attribute(_ name: String, in html: String) -> String? {
        guard let r = html.range(of: "\(name)=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    func testNeighboursLazyImagesAndNoNetwork() throws {
        let pages = Dictionary(uniqueKeysWithValues: try site(.en).pages().map { ($0.path, $0.text) })
        XCTAssertEqual(Set(pages.keys), ["microscope.css", "microscope.js", "index.html", "layer-conv1.html", "layer-conv2.html",
                                         "units/conv1/0/index.html", "units/conv1/1/index.html", "units/conv2/0/index.html", "units/conv2/2/index.html"])
        // The last unit of conv1 leads to the first of conv2 and back.
        let last = try XCTUnwrap(pages["units/conv1/1/index.html"])
        XCTAssertEqual(attribute("data-next", in: last), "../../../units/conv2/0/index.html")
        XCTAssertEqual(attribute("data-prev", in: last), "../../../units/conv1/0/index.html")
        XCTAssertEqual(attribute("data-up", in: last), "../../../layer-conv1.html")
        let first = try XCTUnwrap(pages["units/conv2/0/index.html"])
        XCTAssertEqual(attribute("data-prev", in: first), "../../../units/conv1/1/index.html")
        XCTAssertEqual(attribute("data-next", in: first), "../../../units/conv2/2/index.html")
        XCTAssertNil(attribute("data-next", in: try XCTUnwrap(pages["units/conv2/2/index.html"])))
        // Kernels only where the layer has them; every image lazy; nothing from a server.
        XCTAssertTrue(try XCTUnwrap(pages["layer-conv1.html"]).contains("units/conv1/0/kernel.png"))
        XCTAssertFalse(try XCTUnwrap(pages["layer-conv2.html"]).contains("kernel.png"))
        for (path, html) in pages where path.hasSuffix(".html") {
            let images = html.components(separatedBy: "<img ").count - 1
            XCTAssertGreaterThan(images, 0, path)
            XCTAssertEqual(html.components(separatedBy: "loading=\"lazy\"").count - 1, images, path)
            XCTAssertFalse(html.contains("http://") || html.contains("https://"), path)
        }
        // The class chart: one bar per class, widths relative to the largest count.
        let layer = try XCTUnwrap(pages["layer-conv1.html"])
        XCTAssertTrue(layer.contains("width:40%") && layer.contains("width:100%"))
        XCTAssertTrue(try XCTUnwrap(pages["units/conv1/0/index.html"]).contains("../../../photos/0.png"))
    }

    func testChinesePages() throws {
        let pages = try site(.zh).pages()
        let unit = try XCTUnwrap(pages.first { $0.path == "units/conv2/2/index.html" }).text
        XCTAssertTrue(unit.contains("lang=\"zh-Hans\""))
        XCTAssertTrue(unit.contains("感受野") && unit.contains("通道"))
        XCTAssertFalse(unit.contains("receptive field"))
    }

    func testUnitImageSizes() throws {
        var rng = SeededGenerator(seed: 1)
        let crops = (0..<9).map { _ in TopPatchesCrop(image: .uniform(shape: [1, 8, 8], bound: 1, using: &rng), box: [2, 2, 5, 5]) }
        let montage = MicroscopeUnitImages.patchMontage(crops)
        // Nine 5x5 crops, x7 (about 36 px), three per row, 2 px apart.
        XCTAssertEqual(montage.width, 3 * 35 + 2 * 2)
        XCTAssertEqual(montage.height, 3 * 35 + 2 * 2)
        let map = MicroscopeUnitImages.mapRaster(Tensor(shape: [4, 4], data: (0..<16).map(Float.init)))
        XCTAssertEqual(map.width, 112)
        // Viridis from its dark low end to its yellow high end.
        XCTAssertLessThan(map[0, 0].g, 0.1)
        XCTAssertGreaterThan(map[111, 111].g, 0.8)
    }
}
