import ConvVizCore
import Foundation
import XCTest

/// Issue 14 on the deep-layer commands: `--lang zh` words every title and caption in
/// Chinese, `--title` and `--caption` replace the figure's own, English stays the default.
final class DeepLayerLanguageTests: XCTestCase {
    let dir = CLIFiles.temporaryDirectory("deep-language")

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func hasCJK(_ s: String) -> Bool { s.unicodeScalars.contains { (0x3000...0x9FFF).contains($0.value) || (0xFF00...0xFFEF).contains($0.value) } }

    /// Every figure command of this area, as arguments before `-o`.
    func commands() throws -> [(name: String, args: [String])] {
        var w = Tensor(shape: [6, 4, 3, 3]), pointwise = Tensor(shape: [6, 4, 1, 1]), maps = Tensor(shape: [5, 6, 6])
        var rng = SeededGenerator(seed: 2)
        for i in 0..<w.count { w.data[i] = rng.uniform(-1, 1) }
        for i in 0..<pointwise.count { pointwise.data[i] = rng.uniform(-1, 1) }
        for i in 0..<maps.count { maps.data[i] = rng.uniform(0, 2) }
        let weights = path("w.npy"), oneByOne = path("p.npy"), mapsFile = path("maps.npy")
        try NPY.encode(w).write(to: URL(fileURLWithPath: weights))
        try NPY.encode(pointwise).write(to: URL(fileURLWithPath: oneByOne))
        try NPY.encode(maps).write(to: URL(fileURLWithPath: mapsFile))
        let arch = CLIFiles.repository.appendingPathComponent("Examples/three-3x3.json").path
        let photo = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/chelsea.png").path
        return [
            ("mosaic", ["filters", weights, "--labels"]),
            ("grid", ["filters", weights, "--view", "grid"]),
            ("heat map", ["filters", oneByOne]),
            ("pca", ["filters", weights, "--view", "pca"]),
            ("activations --maps", ["activations", "--maps", mapsFile, "--layer", "conv2", "--top", "3"]),
            ("activations --model", ["activations", "--model", arch, "--image", photo, "--layer", "conv1"]),
            ("receptive-field", ["receptive-field", "--model", arch, "--image", photo, "--samples", "2"]),
        ]
    }

    func testChineseTitlesAndCaptions() throws {
        for (name, args) in try commands() {
            let svg = path("zh.svg")
            let r = try ConvVizProcess.run(args + ["--lang", "zh", "-o", svg])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let doc = try SVGGroups(at: svg)
            XCTAssert(doc.texts("title").contains(where: hasCJK), "\(name): title \(doc.texts("title"))")
            let caption = doc.texts("caption")
            XCTAssertFalse(caption.isEmpty, name)
            XCTAssert(caption.allSatisfy(hasCJK), "\(name): every caption line in Chinese: \(caption)")

            let english = try ConvVizProcess.run(args + ["-o", svg])
            XCTAssertEqual(english.status, 0, english.stderr)
            let en = try SVGGroups(at: svg)
            XCTAssertFalse((en.texts("title") + en.texts("caption")).contains(where: hasCJK), "\(name): English by default")
        }
    }

    func testTitleAndCaptionReplaceTheDefaults() throws {
        for (name, args) in try commands() {
            let svg = path("own.svg")
            let r = try ConvVizProcess.run(args + ["--title", "我的标题 (mine)", "--caption", "Drawn for lecture 5.", "-o", svg])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let doc = try SVGGroups(at: svg)
            XCTAssertEqual(doc.texts("title"), ["我的标题 (mine)"], name)
            XCTAssertEqual(doc.texts("caption"), ["Drawn for lecture 5."], name)
        }
    }

    /// The panel words inside a figure follow `--lang` too (axis and legend words).
    func testLabelsInsideTheFigureAreTranslated() throws {
        let arch = CLIFiles.repository.appendingPathComponent("Examples/three-3x3.json").path
        let photo = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/chelsea.png").path
        let svg = path("rf.svg")
        XCTAssertEqual(try ConvVizProcess.run(["receptive-field", "--model", arch, "--image", photo, "--samples", "2", "--lang", "zh", "-o", svg]).status, 0)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssert(texts.contains("理论感受野") && texts.contains("有效感受野"), "\(texts)")
        let grid = path("grid.svg")
        let (_, args) = try commands()[1]
        XCTAssertEqual(try ConvVizProcess.run(args + ["--lang", "zh", "-o", grid]).status, 0)
        XCTAssertEqual(try SVGGroups(at: grid).texts("row-labels").first, "滤波器")
    }
}
