import Foundation
import XCTest

/// The drawing commands end to end: files written at the size they report, SVG text as
/// drawn, and usage errors refused by the parser before any work (exit code 64).
final class FigureCommandTests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("figures")

    func testVolumesOfTheLectureExample() throws {
        let png = temp.appendingPathComponent("volumes.png").path
        let r = try ConvVizProcess.run(["volumes", CLIFiles.repository.appendingPathComponent("Examples/lecture-cifar.json").path, "-o", png])
        XCTAssertEqual(r.status, 0, r.stderr)
        try CLIFiles.assertPNG(at: png, matches: r.stdout)
        let svg = temp.appendingPathComponent("volumes.svg").path
        XCTAssertEqual(try ConvVizProcess.run(["volumes", CLIFiles.repository.appendingPathComponent("Examples/lecture-cifar.json").path, "-o", svg]).status, 0)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssert(texts.contains { $0.contains("10x32x32") || $0.contains("10×32×32") }, "\(texts)")
        let missing = try ConvVizProcess.run(["volumes", "/nonexistent/arch.json", "-o", png])
        XCTAssertEqual(missing.status, 1)
        XCTAssert(missing.stderr.contains("/nonexistent/arch.json"), missing.stderr)
    }

    func testPoolingDefaultAndBadInput() throws {
        let svg = temp.appendingPathComponent("pool.svg").path
        let r = try ConvVizProcess.run(["pooling", "--kind", "avg", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        // The lecture's 4x4 example: every value drawn, and the four pooled averages.
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssertGreaterThanOrEqual(texts.count, 20, "\(texts)")
        let png = temp.appendingPathComponent("pool.png").path
        let p = try ConvVizProcess.run(["pooling", "-o", png])
        XCTAssertEqual(p.status, 0, p.stderr)
        try CLIFiles.assertPNG(at: png, matches: p.stdout)

        let kind = try ConvVizProcess.run(["pooling", "--kind", "median", "-o", svg])
        XCTAssertEqual(kind.status, 64)
        XCTAssert(kind.stderr.contains("median") && kind.stderr.contains("--kind"), kind.stderr)
        let kernel = try ConvVizProcess.run(["pooling", "--kernel", "9", "-o", svg])
        XCTAssertEqual(kernel.status, 64)
        XCTAssert(kernel.stderr.contains("--kernel and --stride must be 1 to 8"), kernel.stderr)
        let values = temp.appendingPathComponent("cube.npy")
        try NPYFixture.float32([2, 3, 4], Array(repeating: 1, count: 24)).write(to: values)
        let shape = try ConvVizProcess.run(["pooling", "--input", values.path, "-o", svg])
        XCTAssertEqual(shape.status, 1)
        XCTAssert(shape.stderr.contains(values.path) && shape.stderr.contains("[H, W]"), shape.stderr)
    }

    func testNormsCubesAndTheirChecks() throws {
        let svg = temp.appendingPathComponent("norms.svg").path
        let r = try ConvVizProcess.run(["norms", "--kinds", "batch,group", "--c", "4", "--groups", "2", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = try CLIFiles.svgTexts(at: svg).joined(separator: "\n")
        XCTAssert(texts.contains("Batch Norm") && texts.contains("Group Norm"), texts)
        XCTAssertFalse(texts.contains("Layer Norm"), texts)
        let png = temp.appendingPathComponent("norms.png").path
        let p = try ConvVizProcess.run(["norms", "-o", png])
        XCTAssertEqual(p.status, 0, p.stderr)
        try CLIFiles.assertPNG(at: png, matches: p.stdout)

        let kinds = try ConvVizProcess.run(["norms", "--kinds", "batch,weight", "-o", svg])
        XCTAssertEqual(kinds.status, 64)
        XCTAssert(kinds.stderr.contains("batch,weight"), kinds.stderr)
        let groups = try ConvVizProcess.run(["norms", "--groups", "4", "-o", svg])
        XCTAssertEqual(groups.status, 64)
        XCTAssert(groups.stderr.contains("--groups must divide --c (6)"), groups.stderr)
    }

    func testOutputAndTextOptionsAreCheckedBeforeAnyWork() throws {
        let gif = temp.appendingPathComponent("x.gif").path
        let format = try ConvVizProcess.run(["pooling", "-o", gif])
        XCTAssertEqual(format.status, 64)
        XCTAssert(format.stderr.contains("unknown figure format"), format.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: gif))
        let svg = temp.appendingPathComponent("x.svg").path
        // norms and pooling draw Chinese labels and take a title (issue 14).
        let zh = try ConvVizProcess.run(["norms", "--lang", "zh", "-o", svg])
        XCTAssertEqual(zh.status, 0, zh.stderr)
        XCTAssert(try CLIFiles.svgTexts(at: svg).contains { $0.contains("批归一化") })
        XCTAssertEqual(try ConvVizProcess.run(["norms", "--lang", "en", "-o", svg]).status, 0)
        let title = try ConvVizProcess.run(["pooling", "--title", "Mine", "-o", svg])
        XCTAssertEqual(title.status, 0, title.stderr)
        XCTAssert(try CLIFiles.svgTexts(at: svg).contains("Mine"))
        let help = try ConvVizProcess.run(["help", "pooling"])
        XCTAssert(help.stdout.contains("--title") && help.stdout.contains("--lang"), help.stdout)
    }

    func testChoicesAreListedInHelp() throws {
        let train = try ConvVizProcess.run(["help", "train"]).stdout
        XCTAssert(train.contains("constant") && train.contains("cosine"), train)
        XCTAssert(train.contains("group:G"), train)
        let filters = try ConvVizProcess.run(["help", "filters"]).stdout
        XCTAssert(filters.contains("global-minmax"), filters)
        let bad = try ConvVizProcess.run(["train", "--schedule", "linear", "--out", temp.path])
        XCTAssertEqual(bad.status, 64)
        XCTAssert(bad.stderr.contains("linear"), bad.stderr)
        let data = try ConvVizProcess.run(["train", "--data", "mnist", "--out", temp.path])
        XCTAssertEqual(data.status, 64)
        XCTAssert(data.stderr.contains("unknown data 'mnist'"), data.stderr)
    }
}
