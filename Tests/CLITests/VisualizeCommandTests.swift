import ConvVizCore
import Foundation
import XCTest

/// `convviz visualize` end to end (issue 25): the images saved, the figure, the same
/// bytes for the same seed, and errors that name the problem.
final class VisualizeCommandTests: XCTestCase {
    let dir = CLIFiles.temporaryDirectory("visualize")

    func testChannelsMakeOneImageEachAndTheSameSeedTheSameBytes() throws {
        var outputs: [Data] = []
        for (i, threads) in ["1", "2"].enumerated() {
            let png = dir.appendingPathComponent("units-\(i).png").path, npy = dir.appendingPathComponent("units-\(i).npy").path
            let r = try ConvVizProcess.run(["visualize", "--model", "small", "--layer", "conv2", "--channels", "0:3", "--steps", "4",
                                            "--size", "16", "--seed", "7", "--threads", threads, "-o", png, "--save-images", npy])
            XCTAssertEqual(r.status, 0, r.stderr)
            try CLIFiles.assertPNG(at: png, matches: r.stdout)
            XCTAssert(r.stderr.contains("step 4/4"), r.stderr)
            let images = try NPY.read(contentsOf: URL(fileURLWithPath: npy))
            XCTAssertEqual(images.shape, [3, 1, 16, 16])
            XCTAssert(images.data.allSatisfy { $0 > 0 && $0 < 1 })
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: png)))
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: npy)))
        }
        XCTAssertEqual(outputs[0], outputs[2], "same seed, same figure bytes for 1 and 2 threads")
        XCTAssertEqual(outputs[1], outputs[3], "same seed, same images")
    }

    /// A layer on a branch: the layers it does not depend on are left out, and the
    /// objective still reads that layer (3 channels, not the other branch's 5).
    func testBranchLayer() throws {
        let json = dir.appendingPathComponent("branch.json")
        try Data(#"{"name": "branch", "input": [1, 10, 10], "layers": [{"type": "conv", "name": "a", "out": 5, "kernel": 3},{"type": "conv", "name": "b", "inputs": ["input"], "out": 3, "kernel": 3}]}"#.utf8).write(to: json)
        let npy = dir.appendingPathComponent("branch.npy").path
        let r = try ConvVizProcess.run(["visualize", "--model", json.path, "--layer", "b", "--channels", "0:3", "--steps", "2",
                                        "-o", dir.appendingPathComponent("branch.png").path, "--save-images", npy])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try NPY.read(contentsOf: URL(fileURLWithPath: npy)).shape, [3, 1, 10, 10])
        let bad = try ConvVizProcess.run(["visualize", "--model", json.path, "--layer", "b", "--channel", "4", "-o", dir.appendingPathComponent("x.png").path])
        XCTAssert(bad.stderr.contains("channel 4 is out of range: the layer has 3"), bad.stderr)
    }

    func testFilmstripLogitsAndErrors() throws {
        let svg = dir.appendingPathComponent("strip.svg").path
        let r = try ConvVizProcess.run(["visualize", "--model", "small", "--logit", "2,5", "--steps", "32", "--size", "12",
                                        "--transforms", "none", "--param", "pixel", "--filmstrip", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = try CLIFiles.svgTexts(at: svg)
        for t in ["step 0", "step 32", "logit 2", "logit 5", "What fc wants to see"] { XCTAssert(texts.contains(t), "\(t) in \(texts)") }

        let bad = try ConvVizProcess.run(["visualize", "--model", "small", "--layer", "conv2", "--channel", "64", "-o", svg])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.stderr.contains("channel 64 is out of range: the layer has 64"), bad.stderr)
        let two = try ConvVizProcess.run(["visualize", "--model", "small", "--layer", "conv2", "--channel", "1", "--logit", "2", "-o", svg])
        XCTAssertNotEqual(two.status, 0)
        XCTAssert(two.stderr.contains("exactly one of"), two.stderr)
        let transforms = try ConvVizProcess.run(["visualize", "--model", "small", "--layer", "conv2", "--channel", "1", "--transforms", "pad:x", "-o", svg])
        XCTAssertNotEqual(transforms.status, 0)
    }
}
