import ConvVizCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// The rest of issue 15 end to end: `--sort norm`, `--page-size`, the SVG budget on a
/// 512 x 512 x 3 x 3 layer, and `activations --size full`.
final class DeepLayerPagingTests: XCTestCase {
    let dir = CLIFiles.temporaryDirectory("deep-paging")

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ t: Tensor, _ name: String) throws -> String {
        try NPY.encode(t).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// Filter f is constant at `values[f]` on every tap: its L2 norm is |values[f]| * 3 * sqrt(C_in).
    func constantFilters(_ values: [Float], cin: Int = 2) -> Tensor {
        var t = Tensor(shape: [values.count, cin, 3, 3])
        for (f, v) in values.enumerated() { for i in 0..<(cin * 9) { t.data[f * cin * 9 + i] = v } }
        return t
    }

    func testSortByNormOrdersTilesAndKeepsTheirIndices() throws {
        let w = try write(constantFilters([0.5, -3, 1, 2, -0.25]), "norms.npy")
        let svg = path("sorted.svg")
        let r = try ConvVizProcess.run(["filters", w, "--sort", "norm", "--labels", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try SVGGroups(at: svg)
        // Largest norm first: |-3| > 2 > 1 > 0.5 > |-0.25|; each tile labelled with its own index.
        XCTAssertEqual(doc.names.filter { $0.hasPrefix("filter-") }, ["filter-1", "filter-3", "filter-2", "filter-0", "filter-4"])
        XCTAssertEqual(doc.texts("filter-1"), ["1"])
        XCTAssertEqual(doc.texts("filter-4"), ["4"])
        // Tiles are laid out in that order: filter 1 in the first slot, left of filter 3.
        XCTAssertLessThan(try XCTUnwrap(doc.firstX("filter-1")), try XCTUnwrap(doc.firstX("filter-3")))
        XCTAssert(doc.texts("caption").joined(separator: " ").contains("sorted by L2 norm, largest first"), "\(doc.texts("caption"))")
        // The grid sorts its rows the same way.
        let grid = try ConvVizProcess.run(["filters", w, "--view", "grid", "--sort", "norm", "-o", svg])
        XCTAssertEqual(grid.status, 0, grid.stderr)
        XCTAssertEqual(try SVGGroups(at: svg).texts("row-labels"), ["filter", "1", "3", "2", "0", "4"])
        let refused = try ConvVizProcess.run(["filters", w, "--sort", "norm", "--by-class", "-o", svg])
        XCTAssertNotEqual(refused.status, 0)
    }

    func testPageSizeWritesNumberedFilesEachListed() throws {
        let w = try write(constantFilters((0..<10).map { Float($0 + 1) }), "ten.npy")
        let out = path("pages.svg")
        let r = try ConvVizProcess.run(["filters", w, "--page-size", "4", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "pages replace the single file")
        for page in 1...3 { XCTAssert(r.stdout.contains("wrote \(path("pages-\(page).svg")) ("), r.stdout) }
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 3)
        let last = try SVGGroups(at: path("pages-3.svg"))
        XCTAssertEqual(last.names.filter { $0.hasPrefix("filter-") }, ["filter-8", "filter-9"])
        XCTAssert(last.texts("caption").contains("Page 3 of 3: filters 8, 9."), "\(last.texts("caption"))")
        XCTAssert(last.texts("caption").contains { $0.hasPrefix("2 filters of 2x3x3") }, "the caption counts the page's filters")

        // Activations page their channels the same way; PNG pages keep their printed sizes.
        var maps = Tensor(shape: [1, 7, 5, 5])
        for i in 0..<maps.count { maps.data[i] = Float(i % 13) }
        let m = try write(maps, "maps.npy")
        let png = path("maps.png")
        let a = try ConvVizProcess.run(["activations", "--maps", m, "--layer", "x", "--channels", "1:7", "--page-size", "3", "-o", png])
        XCTAssertEqual(a.status, 0, a.stderr)
        for page in 1...2 { try CLIFiles.assertPNG(at: path("maps-\(page).png"), matches: a.stdout) }
        let svg = path("maps.svg")
        XCTAssertEqual(try ConvVizProcess.run(["activations", "--maps", m, "--layer", "x", "--channels", "1:7", "--page-size", "3", "-o", svg]).status, 0)
        XCTAssertEqual(try SVGGroups(at: path("maps-2.svg")).names.filter { $0.hasPrefix("map-") }, ["map-4", "map-5", "map-6"])
    }

    /// layer4.1.conv2 of ResNet-18: 512 x 512 x 3 x 3. The grid is one raster, drawn at x3
    /// (x5 would pass 40 megapixels), in every format under 16,384 px a side and as SVG
    /// under 20 MB; a smaller SVG budget draws fewer filters and says which.
    /// The SVG budget in every run; the three formats at the size cap (about 40 s in a
    /// debug build) in the long suite.
    func testA512x512LayerStaysUnderTheCapsInEveryFormat() throws {
        var t = Tensor(shape: [512, 512, 3, 3])
        var rng = SeededGenerator(seed: 3)
        for i in 0..<t.count { t.data[i] = rng.uniform(-1, 1) }
        let w = try write(t, "layer4.npy")
        for format in ["png", "svg", "pdf"] where Self.runsLongTests {
            let out = path("layer4.\(format)")
            let r = try ConvVizProcess.run(["filters", w, "--view", "grid", "-o", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssert(r.stderr.contains("scaled down from x5 to x3"), r.stderr)
            let data = try Data(contentsOf: URL(fileURLWithPath: out))
            switch format {
            case "png":
                try CLIFiles.assertPNG(at: out, matches: r.stdout)
                XCTAssertLessThanOrEqual(max(try CLIFiles.pngSize(at: out).width, try CLIFiles.pngSize(at: out).height), 16_384)
            case "svg":
                XCTAssertLessThan(data.count, 20_000_000)
                let svg = String(decoding: data, as: UTF8.self)
                XCTAssert(svg.hasSuffix("</svg>\n"))
                XCTAssert(svg.contains(">Scaled to x3 (from x5) to stay under 16384 px a side.</text>"), "the note")
                XCTAssert(svg.contains("viewBox=\"0 0 5257 5249\""), String(svg.prefix(300)))
            default:
                let pdf = String(decoding: data, as: UTF8.self)
                XCTAssert(pdf.hasPrefix("%PDF-") && pdf.contains("/MediaBox [ 0 0 5257 5249 ]"))
            }
        }
        let small = path("layer4-small.svg")
        let r = try ConvVizProcess.run(["filters", w, "--view", "grid", "--max-svg-mb", "4", "-o", small])
        XCTAssertEqual(r.status, 0, r.stderr)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: small)).count
        XCTAssertLessThan(bytes, 4_000_000)
        XCTAssertGreaterThan(bytes, 2_000_000, "the budget is used, not wasted")
        let caption = try SVGGroups(at: small).texts("caption").joined(separator: " ")
        XCTAssert(caption.contains("SVG limited to about 4 MB: filters 0–"), caption)
        XCTAssert(caption.contains("of 512 x input channels 0–511 of 512 drawn."), caption)
        XCTAssert(r.stderr.contains("--max-svg-mb"), r.stderr)
    }

    func testSizeFullRunsAFullyConvolutionalPrefixAtThePhotosOwnSize() throws {
        let arch = path("fcn.json")
        try #"{"name": "fcn", "input": [3, 32, 32], "layers": [{"type": "conv", "name": "conv1", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu", "name": "relu1"}, {"type": "flatten", "name": "flatten"}, {"type": "linear", "name": "fc", "out": 2}]}"#
            .write(toFile: arch, atomically: true, encoding: .utf8)
        let photo = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/coins.png").path  // 384 x 303
        let maps = path("full.npy"), png = path("full.png")
        let r = try ConvVizProcess.run(["activations", "--model", arch, "--image", photo, "--layer", "relu1", "--size", "full", "--save-maps", maps, "-o", png])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try NPY.read(contentsOf: URL(fileURLWithPath: maps)).shape, [1, 4, 303, 384])
        try CLIFiles.assertPNG(at: png, matches: r.stdout)
        let refused = try ConvVizProcess.run(["activations", "--model", arch, "--image", photo, "--layer", "fc", "--size", "full", "-o", png])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssert(refused.stderr.contains("layer 'flatten' (flatten) before 'fc' fixes the input at 32x32"), refused.stderr)
        // An array of another size: the same check, naming the array's size.
        var array = Tensor(shape: [1, 3, 40, 50])
        for i in 0..<array.count { array.data[i] = Float(i % 7) / 7 }
        let fed = try write(array, "array.npy")
        let runs = try ConvVizProcess.run(["activations", "--model", arch, "--input", fed, "--layer", "relu1", "--save-maps", maps, "-o", png])
        XCTAssertEqual(runs.status, 0, runs.stderr)
        XCTAssertEqual(try NPY.read(contentsOf: URL(fileURLWithPath: maps)).shape, [1, 4, 40, 50])
        let flat = try ConvVizProcess.run(["activations", "--model", arch, "--input", fed, "--layer", "fc", "-o", png])
        XCTAssertNotEqual(flat.status, 0)
        XCTAssert(flat.stderr.contains("the input's 40x50: layer 'flatten' (flatten) before 'fc' fixes the input at 32x32"), flat.stderr)
        let withMaps = try ConvVizProcess.run(["activations", "--maps", maps, "--layer", "relu1", "--save-maps", path("again.npy"), "-o", png])
        XCTAssertNotEqual(withMaps.status, 0, "--save-maps is not ignored beside --maps")
    }
}

/// An SVG's named groups (`<g data-name>`) in document order, with the texts inside each
/// and the x of each group's first shape.
final class SVGGroups: NSObject, XMLParserDelegate {
    private(set) var names: [String] = []
    private var textsByGroup: [String: [String]] = [:]
    private var firstXByGroup: [String: Double] = [:]
    private var stack: [String?] = []
    private var current: String?

    init(at path: String) throws {
        super.init()
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.fileReadCorruptFile) }
    }

    /// Texts anywhere inside the group named `name`.
    func texts(_ name: String) -> [String] { textsByGroup[name] ?? [] }
    func firstX(_ name: String) -> Double? { firstXByGroup[name] }

    private var open: [String] { stack.compactMap { $0 } }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "g" {
            stack.append(attributes["data-name"])
            if let n = attributes["data-name"] { names.append(n) }
        }
        if name == "text" { current = "" }
        if let x = attributes["x"].flatMap(Double.init) {
            for g in open where firstXByGroup[g] == nil { firstXByGroup[g] = x }
        }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "g" { _ = stack.popLast() }
        if name == "text", let c = current {
            for g in open { textsByGroup[g, default: []].append(c) }
            current = nil
        }
    }
}
