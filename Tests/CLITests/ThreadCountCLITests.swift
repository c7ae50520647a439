import Foundation
import XCTest

/// `--threads`: the same seed writes the same checkpoint bytes on any number of
/// threads; `convviz evaluate` on the run it trained.
final class ThreadCountCLITests: XCTestCase {
    var temp: URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-threads-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Two convolutions (channel-major and pixel-major paths), a fused block, a linear
    /// layer; batch 20, so the last slice of the batch is short.
    let architecture = #"{"name": "tiny", "input": [3, 16, 16], "layers": [{"type": "conv", "name": "conv1", "out": 8, "kernel": 3, "padding": 1}, {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel": 2}, {"type": "conv", "name": "conv2", "out": 16, "kernel": 3, "padding": 1}, {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#

    func train(_ arch: URL, threads: Int, out: String) throws {
        let r = try ConvVizProcess.run(["train", "--data", "samples", "--arch", arch.path, "--max-steps", "6", "--batch", "20",
                                        "--lr", "0.05", "--seed", "4", "--threads", String(threads), "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testCheckpointBytesDoNotDependOnThreadCount() throws {
        let dir = temp
        let arch = dir.appendingPathComponent("tiny.json")
        try architecture.write(to: arch, atomically: true, encoding: .utf8)
        // 1 and 3 (an uneven share of the batch's slices) end to end; 2 and 8 as well in
        // `ThreadCountDeterminismTests`, in process.
        var checkpoints: [Int: Data] = [:]
        for threads in [1, 3] {
            let out = dir.appendingPathComponent("run\(threads)").path
            try train(arch, threads: threads, out: out)
            checkpoints[threads] = try Data(contentsOf: URL(fileURLWithPath: "\(out)/checkpoint.safetensors"))
        }
        for threads in [3] {
            XCTAssertEqual(checkpoints[threads], checkpoints[1], "--threads \(threads) wrote other checkpoint bytes than --threads 1")
        }

        // evaluate: the folded, fused network gives the run's own test accuracy, and
        // the same loss on 1 and 3 threads.
        let run = dir.appendingPathComponent("run1").path
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/summary.json"))) as! [String: Any]
        var losses: [Double] = []
        for threads in [1, 3] {
            let e = try ConvVizProcess.run(["evaluate", run, "--data", "samples", "--batch", "64", "--threads", String(threads), "--json"])
            XCTAssertEqual(e.status, 0, e.stderr)
            let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
            XCTAssertEqual(json["batchnorm_folded"] as? Int, 2)
            XCTAssertEqual(json["relu_fused"] as? Int, 2)
            XCTAssertEqual(json["threads"] as? Int, threads)
            XCTAssertGreaterThan(json["images_per_second"] as? Double ?? 0, 0)
            XCTAssertEqual(json["test_accuracy"] as! Double, summary["test_accuracy"] as! Double, accuracy: 0.01)
            losses.append(json["test_loss"] as! Double)
        }
        XCTAssertEqual(losses[0], losses[1], "evaluate's loss on 1 and 3 threads")
        let unfused = try ConvVizProcess.run(["evaluate", run, "--data", "samples", "--unfused", "--json"])
        XCTAssertEqual(unfused.status, 0, unfused.stderr)
        let u = try JSONSerialization.jsonObject(with: Data(unfused.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(u["test_loss"] as! Double, losses[0], accuracy: 1e-4 * max(1, losses[0]), "folded and unfolded network")

        let bad = try ConvVizProcess.run(["train", "--data", "samples", "--threads", "0", "--out", dir.appendingPathComponent("bad").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.stderr.contains("--threads"), bad.stderr)
    }
}
