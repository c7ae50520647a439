import ConvVizCore
import Foundation
import XCTest

/// SIGKILL during writes: afterwards there is no partial file, and the previous file of
/// the same name is intact (or replaced by a complete new one).
final class InterruptionTests: XCTestCase {
    func start(_ args: [String]) throws -> Process { try ConvVizProcess.start(args) }

    func killed(_ p: Process, after seconds: Double) {
        Thread.sleep(forTimeInterval: seconds)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    func testKilledWhileWritingAFigureLeavesThePreviousOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kill-figure-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 1)
        let weights = dir.appendingPathComponent("big.npy")
        try NPY.encode(.normal(shape: [3000, 3, 11, 11], using: &rng)).write(to: weights)
        let small = dir.appendingPathComponent("small.npy")
        try NPY.encode(.normal(shape: [4, 3, 5, 5], using: &rng)).write(to: small)
        for (i, delay) in [0.3, 0.8, 1.5, 3.0].enumerated() {
            let out = dir.appendingPathComponent("mosaic.png")
            // The previous figure of that name.
            XCTAssertEqual(try ConvVizProcess.run(["filters", small.path, "-o", out.path]).status, 0)
            let previous = try Data(contentsOf: out)
            killed(try start(["filters", weights.path, "-o", out.path, "--scale", "8", "--columns", "60"]), after: delay)
            let now = try Data(contentsOf: out)
            if now != previous {
                // The kill came after the rename: then the new figure must be whole.
                let png = try PNGDecoder.decode(now, file: out.path)
                XCTAssertGreaterThan(png.shape[2], 4000, "run \(i): complete new mosaic")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !["big.npy", "small.npy", "mosaic.png"].contains($0) }
            XCTAssertEqual(leftovers, [], "run \(i) (killed after \(delay) s) left \(leftovers)")
        }
    }

    func testKilledWhileTrainingKeepsAValidCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kill-train-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let arch = dir.appendingPathComponent("a.json")
        try #"{"name": "k", "input": [3, 16, 16], "layers": [{"type": "conv", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#
            .write(to: arch, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let ckpt = run.appendingPathComponent("checkpoint.safetensors")
        XCTAssertEqual(try ConvVizProcess.run(["train", "--data", "samples", "--arch", arch.path, "--max-steps", "5", "--batch", "16", "--out", run.path]).status, 0)
        let previous = try Data(contentsOf: ckpt)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { !$0.hasPrefix(".") }.sorted()
        let before = try files.map { try Data(contentsOf: run.appendingPathComponent($0)) }
        for delay in [0.5, 1.5, 3.0] {
            killed(try start(["train", "--data", "samples", "--arch", arch.path, "--epochs", "50", "--batch", "16", "--overwrite", "--out", run.path]), after: delay)
            // --overwrite keeps the previous run whole until the new one has finished.
            XCTAssertEqual(try Data(contentsOf: ckpt), previous)
            XCTAssertEqual(try files.map { try Data(contentsOf: run.appendingPathComponent($0)) }, before, "every file of the previous run")
            XCTAssertNoThrow(try Checkpoint(contentsOf: ckpt))
            // Only the lock (released by the kernel) and what the killed run had staged,
            // which the next writer drops; no temporary file beside the run's files.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix(".") }
            XCTAssert(Set(leftovers).isSubset(of: [".convviz.lock", ".convviz-staging"]), "\(leftovers)")
        }
    }

    /// Same seed, same bytes: figures (PNG and SVG) across two separate runs.
    func testSameSeedSameFigureBytesAcrossRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("determinism-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let image = repo.appendingPathComponent("Sources/ConvVizCore/Resources/samples/coffee.png").path
        let arch = repo.appendingPathComponent("Examples/three-3x3.json").path
        for ext in ["png", "svg"] {
            var outputs: [Data] = []
            for run in 0..<2 {
                let out = dir.appendingPathComponent("rf\(run).\(ext)")
                let r = try ConvVizProcess.run(["receptive-field", "--arch", arch, "--image", image, "--seed", "7", "-o", out.path])
                XCTAssertEqual(r.status, 0, r.stderr)
                outputs.append(try Data(contentsOf: out))
            }
            XCTAssertEqual(outputs[0], outputs[1], ext)
        }
    }
}
