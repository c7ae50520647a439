import ConvVizCore
import Foundation
import XCTest

/// Run directories through the binary (issue 17): a second `train` into the same
/// `--out` is refused while the first runs, a fault between writing and committing
/// leaves the previous run whole, and two runs of one seed differ only in timing.json.
final class RunDirectoryCLITests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("run-directory")

    var tiny: String {
        get throws {
            let url = temp.appendingPathComponent("tiny.json")
            try #"{"name": "tiny", "input": [3, 16, 16], "layers": [{"type": "conv", "name": "conv1", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "maxpool", "kernel": 4}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#
                .write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
    }

    func fresh(_ name: String) -> URL {
        let url = temp.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        return url
    }

    func train(_ out: URL, _ extra: [String] = [], environment: [String: String?] = [:]) throws -> ConvVizProcess.Run {
        try ConvVizProcess.run(["train", "--data", "samples", "--arch", try tiny, "--max-steps", "3", "--batch", "16", "--out", out.path] + extra, environment: environment)
    }

    /// The run's own files (not ConvViz's bookkeeping), by name.
    func runFiles(_ run: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: run.path) where !name.hasPrefix(".") {
            out[name] = try Data(contentsOf: run.appendingPathComponent(name))
        }
        return out
    }

    func lastLine(_ r: ConvVizProcess.Run) -> String { r.stderr.split(separator: "\n").last.map(String.init) ?? "" }

    /// A long `train` into `run`, returned once it holds the folder's lock (the lock file
    /// is written once the folder is opened, before the data is loaded).
    func trainHoldingTheLock(_ run: URL) throws -> Process {
        let first = try ConvVizProcess.start(["train", "--data", "samples", "--arch", try tiny, "--epochs", "50", "--batch", "16", "--out", run.path])
        let lockFile = run.appendingPathComponent(".convviz.lock")
        let deadline = Date().addingTimeInterval(20)
        while !((try? String(contentsOf: lockFile, encoding: .utf8))?.contains("pid \(first.processIdentifier)") ?? false), Date() < deadline { usleep(50_000) }
        return first
    }

    func testASecondTrainIntoTheSameFolderIsRefusedWhileTheFirstRuns() throws {
        let run = fresh("concurrent")
        let first = try trainHoldingTheLock(run)
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        let second = try train(run, ["--overwrite"])
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssert(lastLine(second).contains("another convviz (pid \(first.processIdentifier))"), second.stderr)
        XCTAssert(lastLine(second).contains(run.path), second.stderr)
        // Killed: the kernel releases its lock, so the folder is free again.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let third = try train(run, ["--overwrite"])
        XCTAssertEqual(third.status, 0, third.stderr)
    }

    func testLearnFiltersIntoAFolderATrainIsWritingIsRefused() throws {
        let run = fresh("concurrent-learn")
        let first = try trainHoldingTheLock(run)
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        let started = Date()
        let second = try ConvVizProcess.run(["learn-filters", "--steps", "5", "--out", run.path])
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssert(lastLine(second).contains("another convviz (pid \(first.processIdentifier))"), second.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "refused before training")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("conv1-steps.safetensors").path))
    }

    func testAFaultBeforeTheCommitLeavesThePreviousRunWhole() throws {
        let run = fresh("fault")
        XCTAssertEqual(try train(run).status, 0)
        let before = try runFiles(run)
        XCTAssertEqual(Set(before.keys), ["checkpoint.safetensors", "optimizer.safetensors", "metrics.jsonl", "summary.json", "timing.json"])
        // A process that dies between writing its files and committing them (as a kill
        // would), and one whose checkpoint fails between its write and its rename.
        // Replacing: nothing of the new run is visible before it has finished. Resuming:
        // a save that fails keeps the run as it was (a later one would move it on whole).
        let replacing = ["--overwrite", "--seed", "5"], resuming = ["--resume", run.path, "--max-steps", "6"]
        for (fault, mode) in [("before-commit:summary.json:exit", replacing), ("before-rename:checkpoint.safetensors", replacing),
                              ("before-rename:timing.json:exit", replacing), ("before-rename:checkpoint.safetensors", resuming),
                              ("before-commit:metrics.jsonl:exit", resuming), ("before-rename:optimizer.safetensors:exit", resuming)] {
            let r = try train(run, mode, environment: [FaultInjection.variable: fault])
            XCTAssertNotEqual(r.status, 0, "\(fault) \(mode)")
            XCTAssertEqual(try runFiles(run), before, "\(fault) \(mode): the previous run is whole")
        }
        // The next run drops what the dead one staged, and replaces the run as a whole.
        let r = try train(run, ["--overwrite", "--seed", "5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent(".convviz-staging").path))
        let after = try runFiles(run)
        XCTAssertEqual(Set(after.keys), Set(before.keys))
        XCTAssertNotEqual(after["checkpoint.safetensors"], before["checkpoint.safetensors"])
    }

    func testTwoRunsOfOneSeedDifferOnlyInTimingJSON() throws {
        let a = fresh("seed-a"), b = fresh("seed-b")
        XCTAssertEqual(try train(a, ["--seed", "3"]).status, 0)
        XCTAssertEqual(try train(b, ["--seed", "3"]).status, 0)
        let (fa, fb) = (try runFiles(a), try runFiles(b))
        XCTAssertEqual(Set(fa.keys), Set(fb.keys))
        for name in fa.keys.sorted() where name != "timing.json" { XCTAssertEqual(fa[name], fb[name], name) }
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: XCTUnwrap(fa["summary.json"])) as? [String: Any])
        XCTAssertNotNil(summary["openblas"] as? String, "summary.json records OpenBLAS's kernels")
        XCTAssertNil(summary["train_images_per_second"], "speeds are in timing.json")
        let timing = try XCTUnwrap(JSONSerialization.jsonObject(with: XCTUnwrap(fa["timing.json"])) as? [String: Any])
        XCTAssertNotNil(timing["train_images_per_second"])
    }

    func testResumingAFinishedRunGivesOneLineNoFoundationDump() throws {
        let run = fresh("finished")
        XCTAssertEqual(try train(run).status, 0)
        let r = try train(run, ["--resume", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json"))) as? [String: Any]
        XCTAssertNotNil(summary)
    }
}
