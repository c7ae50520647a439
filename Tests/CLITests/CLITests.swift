import Foundation
import XCTest

/// Runs the built `convviz` end to end.
final class CLITests: XCTestCase {
    @discardableResult
    func convviz(_ args: [String]) throws -> ConvVizProcess.Run { try ConvVizProcess.run(args) }

    var temp: URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-cli-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    func testShapesLectureExample() throws {
        let r = try convviz(["shapes", repository.appendingPathComponent("Examples/lecture-cifar.json").path, "--format", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let layer = (json["layers"] as! [[String: Any]])[0]
        XCTAssertEqual(layer["output"] as? [Int], [10, 32, 32])
        XCTAssertEqual(layer["params"] as? Int, 760)
        XCTAssertEqual(layer["macs"] as? Int, 768_000)
        XCTAssertEqual(json["total_params"] as? Int, 760)
    }

    func testTrainExportAndDrawOnSamples() throws {
        let dir = temp
        let arch = dir.appendingPathComponent("tiny.json")
        try #"{"name": "tiny", "input": [3, 16, 16], "layers": [{"type": "conv", "name": "conv1", "out": 6, "kernel": 5, "padding": 2}, {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel": 4}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#
            .write(to: arch, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run").path
        let t = try convviz(["train", "--data", "samples", "--arch", arch.path, "--max-steps", "20", "--batch", "32", "--lr", "0.02", "--seed", "3", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        for f in ["checkpoint.safetensors", "metrics.jsonl", "summary.json"] {
            XCTAssert(FileManager.default.fileExists(atPath: "\(run)/\(f)"), f)
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/summary.json"))) as! [String: Any]
        XCTAssertNotNil(summary["test_accuracy"] as? Double)
        // Speeds live in timing.json, so the other files are the same bytes for a seed.
        let timing = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/timing.json"))) as! [String: Any]
        XCTAssertGreaterThan(timing["train_images_per_second"] as? Double ?? 0, 0)
        let metrics = try String(contentsOfFile: "\(run)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssert(metrics.contains { $0.contains("\"test_accuracy\"") })
        XCTAssertFalse(metrics.contains { $0.contains("\"images_per_second\"") })

        let npy = dir.appendingPathComponent("conv1.npy").path
        XCTAssertEqual(try convviz(["export", run, "conv1.weight", "-o", npy]).status, 0)
        let mosaic = dir.appendingPathComponent("m.svg").path
        let f = try convviz(["filters", npy, "-o", mosaic, "--labels"])
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssert(try String(contentsOfFile: mosaic, encoding: .utf8).contains("<svg"))
        let maps = dir.appendingPathComponent("a.png").path
        let samples = repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/chelsea.png").path
        let a = try convviz(["activations", "--checkpoint", run, "--image", samples, "--layer", "conv1", "-o", maps])
        XCTAssertEqual(a.status, 0, a.stderr)
        let rf = try convviz(["receptive-field", "--checkpoint", run, "--image", samples, "--layer", "pool1", "-o", dir.appendingPathComponent("rf.pdf").path])
        XCTAssertEqual(rf.status, 0, rf.stderr)

        // Same seed, same checkpoint bytes.
        let run2 = dir.appendingPathComponent("run2").path
        XCTAssertEqual(try convviz(["train", "--data", "samples", "--arch", arch.path, "--max-steps", "20", "--batch", "32", "--lr", "0.02", "--seed", "3", "--out", run2]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoint.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(run2)/checkpoint.safetensors")))
    }

    func testBadInputGivesOneLineErrorNamingTheFile() throws {
        let bad = temp.appendingPathComponent("bad.npy")
        try Data("this is not a numpy file at all".utf8).write(to: bad)
        let r = try convviz(["filters", bad.path, "-o", temp.appendingPathComponent("x.png").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssert(r.stderr.contains(bad.path), r.stderr)
        XCTAssert(r.stderr.contains("bad magic"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.appendingPathComponent("x.png").path))
        let missing = try convviz(["filters", "/nonexistent/w.npy", "-o", "x.png"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssert(missing.stderr.contains("/nonexistent/w.npy: no such file"), missing.stderr)
    }

    func testInspectDescribesValidFilesAndRefusesBadOnes() throws {
        let png = repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/coins.png").path
        let ok = try convviz(["inspect", png, repository.appendingPathComponent("Examples/three-3x3.json").path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssert(ok.stdout.contains("PNG 384x303, gray, 8-bit"), ok.stdout)
        XCTAssert(ok.stdout.contains("conv3  conv  8x26x26"), ok.stdout)
        let truncated = temp.appendingPathComponent("cut.png")
        try Data(try Data(contentsOf: URL(fileURLWithPath: png)).prefix(2000)).write(to: truncated)
        let bad = try convviz(["inspect", truncated.path])
        XCTAssertEqual(bad.status, 1)
        let lines = bad.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, bad.stderr)
        XCTAssert(lines[0].contains(truncated.path), bad.stderr)
        let huge = try convviz(["inspect", png, "--max-pixels", "1000"])
        XCTAssertEqual(huge.status, 1)
        XCTAssert(huge.stderr.contains("more than the limit of 1000"), huge.stderr)
    }

    func testTaxonomyTable() throws {
        let out = temp.appendingPathComponent("t.csv")
        var rng = [Float]()
        for i in 0..<(2 * 3 * 7 * 7) { rng.append(Float(sin(Double(i) * 12.9898) * 43758.5453).truncatingRemainder(dividingBy: 1)) }
        let npy = temp.appendingPathComponent("w.npy")
        try NPYFixture.float32([2, 3, 7, 7], rng).write(to: npy)
        let r = try convviz(["taxonomy", npy.path, "-o", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 3)
        XCTAssert(rows[0].hasPrefix("index,class,orientation_deg"))
    }
}

/// A tiny .npy writer for test inputs (ConvViz's own writer is tested elsewhere).
enum NPYFixture {
    static func float32(_ shape: [Int], _ values: [Float]) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)])
        d.append(contentsOf: Array(header.utf8))
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }
}
