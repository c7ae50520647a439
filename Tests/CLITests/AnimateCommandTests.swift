import Foundation
import XCTest
@testable import ConvVizCore
import ConvVizRender

/// `convviz animate` end to end: formats, refusals with the arithmetic, recorded steps.
final class AnimateCommandTests: XCTestCase {
    let dir = CLIFiles.temporaryDirectory("animate")

    func testConvolutionWritesEachFormatWithAFramePerOutputPosition() throws {
        for ext in ["gif", "svg", "pdf"] {
            let out = dir.appendingPathComponent("up.\(ext)").path
            let r = try ConvVizProcess.run(["animate", "convolution", "--input", "2", "--kernel", "3", "--stride", "2", "--padding", "1", "--transposed", "--values", "--fps", "4", "-o", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("wrote \(out) (9 frames"), r.stdout)  // (2-1)·2 - 2 + 2 + 1 = 3: 3x3 positions
            let head = try Data(contentsOf: URL(fileURLWithPath: out)).prefix(6)
            XCTAssertEqual(String(decoding: head, as: UTF8.self).prefix(ext == "gif" ? 6 : 4), ext == "gif" ? "GIF89a" : (ext == "pdf" ? "%PDF" : "<?xm"))
        }
    }

    /// `--frame K -o f.png` is the GIF's frame K pixel for pixel (the receptive field of
    /// the network `train` trains, `small`, in Chinese); frame numbers out of range and a
    /// GIF for one frame are refused.
    func testOneFrameAsPNGIsTheGIFsFrame() throws {
        let common = ["animate", "receptive-field", "--model", "small", "--lang", "zh"]
        let gif = dir.appendingPathComponent("small.gif").path
        let r = try ConvVizProcess.run(common + ["-o", gif])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("(4 frames") && r.stdout.contains("edge tolerance 3/255"), r.stdout)
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
        let frames = try GIFDecoder.decode(Data(contentsOf: URL(fileURLWithPath: gif)))
        XCTAssertEqual(frames.count, 4)
        for k in [1, 4] {
            let png = dir.appendingPathComponent("small-\(k).png").path
            let one = try ConvVizProcess.run(common + ["--frame", "\(k)", "-o", png])
            XCTAssertEqual(one.status, 0, one.stderr)
            XCTAssertTrue(one.stdout.contains("(frame \(k) of 4, \(frames[0].image.width)x\(frames[0].image.height))"), one.stdout)
            let t = try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: png))
            let (h, w) = (t.shape[1], t.shape[2])
            XCTAssertEqual(w, frames[k - 1].image.width); XCTAssertEqual(h, frames[k - 1].image.height)
            var differing = 0
            t.data.withUnsafeBufferPointer { p in
                for i in 0..<(h * w) where (0..<3).contains(where: { UInt8((p[$0 * h * w + i] * 255).rounded()) != frames[k - 1].image.pixels[4 * i + $0] }) { differing += 1 }
            }
            XCTAssertEqual(differing, 0, "frame \(k): \(differing) pixels differ from the GIF's")
        }
        let svg = try ConvVizProcess.run(common + ["--frame", "2", "-o", dir.appendingPathComponent("small-2.svg").path])
        XCTAssertEqual(svg.status, 0, svg.stderr)
        let late = try ConvVizProcess.run(common + ["--frame", "5", "-o", dir.appendingPathComponent("x.png").path])
        XCTAssertNotEqual(late.status, 0)
        XCTAssertTrue(late.stderr.contains("has 4 frames"), late.stderr)
        let oneGIF = try ConvVizProcess.run(common + ["--frame", "1", "-o", dir.appendingPathComponent("x.gif").path])
        XCTAssertNotEqual(oneGIF.status, 0)
        let noFrame = try ConvVizProcess.run(common + ["-o", dir.appendingPathComponent("x.png").path])
        XCTAssertTrue(noFrame.stderr.contains("add --frame K"), noFrame.stderr)
    }

    func testInvalidCombinationsAreRefusedWithTheArithmetic() throws {
        let out = dir.appendingPathComponent("bad.gif").path
        let r = try ConvVizProcess.run(["animate", "convolution", "--input", "4", "--kernel", "3", "--dilation", "2", "-o", out])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("D(K-1) + 1 = 2·2 + 1 = 5") && r.stderr.contains("H + 2P = 4 + 2·0 = 4"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let op = try ConvVizProcess.run(["animate", "convolution", "--input", "3", "--kernel", "3", "--stride", "2", "--transposed", "--output-padding", "2", "-o", out])
        XCTAssertTrue(op.stderr.contains("smaller than the stride (2) or the dilation (1)"), op.stderr)
        for bad in [["--fps", "0"], ["-o", dir.appendingPathComponent("x.png").path]] {
            let r = try ConvVizProcess.run(["animate", "pooling", "-o", out] + bad)
            XCTAssertNotEqual(r.status, 0, bad.joined(separator: " "))
        }
    }

    func testPoolingTakesValuesFromANPYFile() throws {
        let values = dir.appendingPathComponent("v.npy")
        try NPY.encode(Tensor(shape: [1, 4, 6], data: (0..<24).map { Float($0 % 7) })).write(to: values)
        let out = dir.appendingPathComponent("pool.svg").path
        let r = try ConvVizProcess.run(["animate", "pooling", "--kind", "avg", "--input", values.path, "--lang", "zh", "--title", "平均池化", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("(6 frames"), r.stdout)  // 2 x 3 windows of 2x2, stride 2
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("平均池化"))
    }

    func testLearningHasAFramePerRecordedStep() throws {
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 2)
        let steps = [0, 5, 10].map { ("step_\($0)", Tensor(shape: [4, 3, 5, 5], data: (0..<300).map { _ in rng.normal() })) }
        try SafeTensorsFile.encode(steps).write(to: run.appendingPathComponent("conv1-steps.safetensors"))
        let out = dir.appendingPathComponent("learning.pdf").path
        let r = try ConvVizProcess.run(["animate", "learning", run.path, "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("(3 frames"), r.stdout)
        let missing = try ConvVizProcess.run(["animate", "learning", dir.appendingPathComponent("nothing").path, "-o", out])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("conv1-steps.safetensors") && missing.stderr.contains("learn-filters"), missing.stderr)
    }

    /// `learn-filters --record-every N` then `animate learning` (about 20 s in a debug build).
    func testLearnFiltersRecordsEveryNthStep() throws {
        guard ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1" else { throw XCTSkip("set CONVVIZ_LONG_TESTS=1") }
        let run = dir.appendingPathComponent("learn")
        let r = try ConvVizProcess.run(["learn-filters", "--steps", "6", "--record-every", "2", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try SafeTensorsFile(contentsOf: run.appendingPathComponent("conv1-steps.safetensors"))
        XCTAssertEqual(Set(file.names), ["step_0", "step_2", "step_4", "step_6"])
        let a = try ConvVizProcess.run(["animate", "learning", run.path, "-o", dir.appendingPathComponent("l.gif").path])
        XCTAssertTrue(a.stdout.contains("(4 frames"), a.stdout + a.stderr)
    }

    /// `lecture --animations` beside the atlas (the smoke atlas: tens of seconds in a debug build).
    func testLectureWritesTheAnimationsBesideTheAtlas() throws {
        guard ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1" else { throw XCTSkip("set CONVVIZ_LONG_TESTS=1") }
        let out = dir.appendingPathComponent("lecture")
        let r = try ConvVizProcess.run(["lecture", "--out", out.path, "--smoke", "--animations"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for id in ["conv-layer", "stride", "receptive-field"] {
            for ext in ["gif", "svg"] { XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("animations/\(id).\(ext)").path), "\(id).\(ext)") }
        }
        // The page shows each under its figure, and the manifest lists them.
        let page = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        for id in ["conv-layer", "stride", "receptive-field"] { XCTAssert(page.contains("<img src=\"animations/\(id).gif\""), id) }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as! [String: Any]
        let animated = (manifest["figures"] as! [[String: Any]]).filter { !(($0["animations"] as? [String]) ?? []).isEmpty }.map { $0["id"] as! String }
        XCTAssertEqual(Set(animated), ["conv-layer", "stride", "receptive-field"])
    }
}
