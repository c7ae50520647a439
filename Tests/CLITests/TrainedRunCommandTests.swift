import Foundation
import XCTest

/// Commands that read a training run: curves, fold-bn, compare-norms, on tiny budgets.
final class TrainedRunCommandTests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("runs")

    /// A 16x16 network with one BatchNorm after its convolution, trained for a few steps.
    func tinyRun(_ name: String) throws -> (arch: String, run: String) {
        let arch = temp.appendingPathComponent("tiny.json")
        try #"{"name": "tiny", "input": [3, 16, 16], "layers": [{"type": "conv", "name": "conv1", "out": 4, "kernel": 3, "padding": 1}, {"type": "batchnorm", "name": "bn1"}, {"type": "relu"}, {"type": "maxpool", "kernel": 4}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#
            .write(to: arch, atomically: true, encoding: .utf8)
        let run = temp.appendingPathComponent(name).path
        let t = try ConvVizProcess.run(["train", "--data", "samples", "--arch", arch.path, "--max-steps", "6", "--batch", "16", "--log-every", "2", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        return (arch.path, run)
    }

    func testCurvesOfTwoRuns() throws {
        let (_, a) = try tinyRun("a")
        let svg = temp.appendingPathComponent("curves.svg").path
        let r = try ConvVizProcess.run(["curves", a, a, "--title", "Two runs", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssert(texts.contains("Two runs"), "\(texts)")
        XCTAssert(texts.contains("a"), "legend names the run by its directory: \(texts)")
        let png = temp.appendingPathComponent("curves.png").path
        let p = try ConvVizProcess.run(["curves", a, "-o", png])
        XCTAssertEqual(p.status, 0, p.stderr)
        try CLIFiles.assertPNG(at: png, matches: p.stdout)

        let none = try ConvVizProcess.run(["curves", "-o", png])
        XCTAssertEqual(none.status, 64)
        XCTAssert(none.stderr.contains("<runs>"), none.stderr)
        let notRun = try ConvVizProcess.run(["curves", temp.path, "-o", png])
        XCTAssertEqual(notRun.status, 1)
        XCTAssert(notRun.stderr.contains("metrics.jsonl"), notRun.stderr)
    }

    func testFoldBatchNormOfARun() throws {
        let (_, run) = try tinyRun("fold")
        let folded = temp.appendingPathComponent("folded.safetensors").path
        let r = try ConvVizProcess.run(["fold-bn", run, "-o", folded])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("folded 1 BatchNorm layer(s): bn1 into conv1"), r.stdout)
        // The folded checkpoint is a network without BatchNorm.
        let shapes = try ConvVizProcess.run(["shapes", folded, "--format", "json"])
        XCTAssertEqual(shapes.status, 0, shapes.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(shapes.stdout.utf8)) as! [String: Any]
        let types = (json["layers"] as! [[String: Any]]).compactMap { $0["type"] as? String }
        XCTAssertFalse(types.contains { $0.contains("batchnorm") }, "\(types)")
        XCTAssert(types.contains("conv"), "\(types)")

        let nothing = try ConvVizProcess.run(["fold-bn", "-o", folded])
        XCTAssertEqual(nothing.status, 64)
        XCTAssert(nothing.stderr.contains("name the network"), nothing.stderr)
    }

    func testCompareNormsOnATinyBudget() throws {
        let (arch, _) = try tinyRun("base")
        let out = temp.appendingPathComponent("compare").path
        let r = try ConvVizProcess.run(["compare-norms", "--data", "samples", "--arch", arch, "--norms", "none,group:2", "--epochs", "1",
                                        "--max-steps", "4", "--batch", "16", "--scale", "2", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("none: test accuracy") && r.stdout.contains("group:2: test accuracy"), r.stdout)
        for f in ["none/metrics.jsonl", "group-2/checkpoint.safetensors", "curves.png", "curves.svg"] {
            XCTAssert(FileManager.default.fileExists(atPath: "\(out)/\(f)"), f)
        }
        let texts = try CLIFiles.svgTexts(at: "\(out)/curves.svg")
        XCTAssert(texts.contains("no normalization") && texts.contains("GroupNorm (G=2)"), "\(texts)")
        // Accuracy is drawn against steps (the run's "epochs" are slices of its budget), and the caption gives the budget.
        XCTAssert(texts.contains { $0.hasPrefix("Budget per run: 4 steps of batch 16 = 64 images") }, "\(texts)")

        // --scale 2 doubles the PNG against the SVG's size in points.
        let svgSize = try CLIFiles.svgSize(at: "\(out)/curves.svg"), pngSize = try CLIFiles.pngSize(at: "\(out)/curves.png")
        XCTAssertEqual(Double(pngSize.width), Double(2 * svgSize.width), accuracy: 2, "PNG \(pngSize), SVG \(svgSize) pt")
        XCTAssertEqual(Double(pngSize.height), Double(2 * svgSize.height), accuracy: 2, "PNG \(pngSize), SVG \(svgSize) pt")

        let bad = try ConvVizProcess.run(["compare-norms", "--norms", "none,group:0", "--out", out])
        XCTAssertEqual(bad.status, 64)
        XCTAssert(bad.stderr.contains("group:0"), bad.stderr)
        // Groups that do not divide the network's channels are refused before any data is
        // read or any folder made.
        let fresh = temp.appendingPathComponent("compare-refused").path
        let indivisible = try ConvVizProcess.run(["compare-norms", "--arch", arch, "--norms", "group:3", "--out", fresh])
        XCTAssertEqual(indivisible.status, 64, indivisible.stderr)
        XCTAssert(indivisible.stderr.contains("--norms group:3") && indivisible.stderr.contains("do not split into 3 groups"), indivisible.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh))
        let scale = try ConvVizProcess.run(["compare-norms", "--scale", "9", "--out", fresh])
        XCTAssertEqual(scale.status, 64)
        XCTAssert(scale.stderr.contains("--scale must be between 0.25 and 8"), scale.stderr)
    }
}
