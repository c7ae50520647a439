import Foundation
import XCTest

/// The pooling and normalization commands of the lecture atlas end to end: the fixed
/// crashes give exit 1 and one line naming the file, the new views draw computed
/// numbers, `--lang zh` titles are Chinese, and the training figures run on a tiny budget.
final class LectureFigureCommandsTests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("lecture-figures")

    /// A little-endian float32 .npy of any rank, the empty shape `()` included.
    func npy(_ name: String, _ shape: [Int], _ values: [Float]? = nil) throws -> String {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)])
        d.append(contentsOf: Array(header.utf8))
        for v in values ?? [Float](repeating: 1, count: shape.reduce(1, *)) { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        let url = temp.appendingPathComponent(name)
        try d.write(to: url)
        return url.path
    }

    /// The first text inside the `<g data-name="name">` group of an SVG's structure layer.
    func groupText(_ svg: String, _ name: String) throws -> String? {
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        guard let group = text.range(of: "<g data-name=\"\(name)\">") else { return nil }
        let rest = text[group.upperBound...]
        guard let tag = rest.range(of: "<text"), let open = rest[tag.upperBound...].range(of: ">"),
              let close = rest[open.upperBound...].range(of: "</text>") else { return nil }
        if let end = rest.range(of: "</g>"), end.lowerBound < tag.lowerBound { return nil }  // an empty group
        return String(rest[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }

    func assertOneLineError(_ r: ConvVizProcess.Run, mentions path: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
        XCTAssert(r.stderr.contains(path), r.stderr, file: file, line: line)
    }

    func testPoolingInputOfAnyRankIsRefusedWithOneLine() throws {
        let svg = temp.appendingPathComponent("pool.svg").path
        for (name, shape) in [("r0.npy", [Int]()), ("r1.npy", [4]), ("r3.npy", [2, 4, 4]), ("r5.npy", [2, 1, 1, 3, 3]), ("e1.npy", [0]), ("e3.npy", [1, 0, 4]), ("big.npy", [1, 17, 4])] {
            let path = try npy(name, shape)
            assertOneLineError(try ConvVizProcess.run(["pooling", "--input", path, "-o", svg]), mentions: path)
            assertOneLineError(try ConvVizProcess.run(["pooling", "--shift", "--input", path, "-o", svg]), mentions: path)
        }
        // Leading ones are dropped: [1, 1, 4, 4] draws the 4x4 values.
        let ok = try npy("r4.npy", [1, 1, 4, 4], (0..<16).map(Float.init))
        XCTAssertEqual(try ConvVizProcess.run(["pooling", "--input", ok, "-o", svg]).status, 0)
        XCTAssertEqual(try groupText(svg, "output-1-1"), "15")
    }

    func testPoolingShiftInChinese() throws {
        let svg = temp.appendingPathComponent("shift.svg").path
        let r = try ConvVizProcess.run(["pooling", "--shift", "--lang", "zh", "--seed", "4", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let title = try XCTUnwrap(try groupText(svg, "title"))
        XCTAssert(title.contains("最大池化"), title)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        let unchanged = text.components(separatedBy: "data-name=\"unchanged-").count - 1, changed = text.components(separatedBy: "data-name=\"changed-").count - 1
        XCTAssertEqual(unchanged + changed, 16, "every pooled cell of the 8x8 input is marked")
        // Chinese captions wrap anywhere, and a wrap at a space drops it: compare without spaces.
        XCTAssert(try CLIFiles.svgTexts(at: svg).joined().replacingOccurrences(of: " ", with: "").contains("16个池化输出中有\(unchanged)个不变"))
        // The caption names the photograph the values come from, as the atlas's does.
        XCTAssert(try CLIFiles.svgTexts(at: svg).joined().replacingOccurrences(of: " ", with: "").contains("camera.png（scikit-image示例图片，CC0）第"))
    }

    func testNormsAcceptsMatricesAndRefusesEmptyArrays() throws {
        let svg = temp.appendingPathComponent("norms.svg").path
        // GroupNorm not drawn: --groups is not checked against C.
        XCTAssertEqual(try ConvVizProcess.run(["norms", "--kinds", "batch", "--n", "8", "--c", "5", "-o", svg]).status, 0)
        for (name, shape) in [("m0.npy", [0, 3]), ("t0.npy", [2, 0, 3, 3]), ("v.npy", [5]), ("r3.npy", [2, 3, 4])] {
            let path = try npy(name, shape)
            assertOneLineError(try ConvVizProcess.run(["norms", "--tensor", path, "-o", svg]), mentions: path)
        }
        // N x D: per-column mean and variance, then gamma and beta.
        let m = try npy("nd.npy", [4, 2], [1, 10, 2, 20, 3, 30, 6, 40])
        let r = try ConvVizProcess.run(["norms", "--tensor", m, "--gamma", "2,1", "--beta", "0,5", "--lang", "zh", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try groupText(svg, "mean-0"), "3.000")  // (1 + 2 + 3 + 6) / 4
        XCTAssertEqual(try groupText(svg, "variance-0"), "3.500")  // (4 + 1 + 0 + 9) / 4
        XCTAssertEqual(try groupText(svg, "mean-1"), "25.000")
        XCTAssertEqual(try groupText(svg, "variance-1"), "125.000")  // (225 + 25 + 25 + 225) / 4
        XCTAssertEqual(try groupText(svg, "output-3-1"), String(format: "%.2f", 15 / (125 + 1e-5).squareRoot() + 5))
        XCTAssert(containsCJK(try XCTUnwrap(try groupText(svg, "title"))))
        let wrong = try ConvVizProcess.run(["norms", "--tensor", m, "--gamma", "1,2,3", "-o", svg])
        XCTAssertEqual(wrong.status, 1)
        XCTAssert(wrong.stderr.contains("one value per column (2)"), wrong.stderr)
    }

    func testNormsConvNetsView() throws {
        let svg = temp.appendingPathComponent("convnets.svg").path
        let r = try ConvVizProcess.run(["norms", "--view", "convnets", "--n", "4", "--c", "3", "--size", "5", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try groupText(svg, "shape-x"), "x: N x C x H x W = 4 x 3 x 5 x 5")
        XCTAssert(try XCTUnwrap(try groupText(svg, "count")).contains("= 100 values"))
    }

    /// The training figures on a budget of a few steps (the real work is the same code).
    func testBatchNormFiguresTrainOnATinyBudget() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") else { throw XCTSkip("no Fashion-MNIST") }
        let svg = temp.appendingPathComponent("bs.svg").path
        let r = try ConvVizProcess.run(["batchnorm", "--figure", "bn-batch-size", "--batch-sizes", "2,8", "--images", "16", "--test-images", "20",
                                        "--lang", "zh", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(try XCTUnwrap(try groupText(svg, "values-batch")).hasPrefix("批归一化 — 2: "))
        XCTAssert(try XCTUnwrap(try groupText(svg, "values-group:4")).contains("8: "))
        let fold = temp.appendingPathComponent("fold.svg").path
        let f = try ConvVizProcess.run(["batchnorm", "--figure", "bn-folding", "--steps", "3", "--batch", "4", "--test-images", "8", "--title", "Folded", "-o", fold])
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssertEqual(try groupText(fold, "title"), "Folded")
        let check = try XCTUnwrap(try groupText(fold, "check"))
        XCTAssertLessThan(try XCTUnwrap(Double(check.split(separator: " ").last!)), 1e-4, check)
        let bad = try ConvVizProcess.run(["batchnorm", "--figure", "bn-folding", "--fashion-mnist", "/nonexistent", "-o", fold])
        XCTAssertEqual(bad.status, 1)
        XCTAssert(bad.stderr.contains("/nonexistent"), bad.stderr)
    }

    func containsCJK(_ s: String) -> Bool { s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }
}
