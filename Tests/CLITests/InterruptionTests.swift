import ConvVizCore
import Foundation
import XCTest

/// SIGKILL inside the write window: the process is stopped (`CONVVIZ_FAULT=POINT:NAME:stop`)
/// where the new file is complete but not yet in place, and killed there. Afterwards the
/// previous file of the same name is intact, and what the dead process left behind is
/// cleared by the next write.
final class InterruptionTests: XCTestCase {
    /// Runs `args` until it stops at `fault` (at most 60 s), then kills it.
    func killInside(_ args: [String], at fault: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try ConvVizProcess.start(args, environment: [FaultInjection.variable: "\(fault):stop"])
        let deadline = Date() + 60
        while !Self.isStopped(p.processIdentifier) {
            guard p.isRunning, Date() < deadline else {
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                p.waitUntilExit()
                return XCTFail("\(args[0]) never reached \(fault) (status \(p.terminationStatus))", file: file, line: line)
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, fault, file: file, line: line)
        XCTAssertEqual(p.terminationStatus, SIGKILL, fault, file: file, line: line)
    }

    /// Whether the process is stopped (state `T` in `/proc/PID/stat`).
    static func isStopped(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat.distance(from: close, to: stat.endIndex) > 2 else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "T"
    }

    func testKilledWhileWritingAFigureLeavesThePreviousOne() throws {
        let dir = CLIFiles.temporaryDirectory("kill-figure")
        var rng = SeededGenerator(seed: 1)
        let small = dir.appendingPathComponent("small.npy"), other = dir.appendingPathComponent("other.npy")
        try NPY.encode(.normal(shape: [4, 3, 5, 5], using: &rng)).write(to: small)
        try NPY.encode(.normal(shape: [12, 3, 7, 7], using: &rng)).write(to: other)
        for ext in ["png", "svg"] {
            let out = dir.appendingPathComponent("mosaic.\(ext)")
            XCTAssertEqual(try ConvVizProcess.run(["filters", small.path, "-o", out.path]).status, 0)
            let previous = try Data(contentsOf: out)
            let reference = dir.appendingPathComponent("reference.\(ext)")
            XCTAssertEqual(try ConvVizProcess.run(["filters", other.path, "-o", reference.path]).status, 0)
            try killInside(["filters", other.path, "-o", out.path], at: "before-rename:mosaic.\(ext)")
            XCTAssertEqual(try Data(contentsOf: out), previous, "\(ext): the previous figure, whole")
            // The new figure was complete, linked under a temporary name of the dead process.
            let leftovers = { try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.sorted() }
            let left = try leftovers()
            XCTAssertEqual(left.count, 1, "\(left)")
            XCTAssert(left.allSatisfy { $0.hasPrefix(".mosaic.\(ext).tmp-") }, "\(left)")
            // The next write of that name replaces the figure and drops the dead one's file.
            let r = try ConvVizProcess.run(["filters", other.path, "-o", out.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try Data(contentsOf: out), try Data(contentsOf: reference), "\(ext): the new figure, whole")
            XCTAssertEqual(try leftovers(), [], ext)
        }
    }

    func testKilledWhileTrainingKeepsThePreviousRun() throws {
        let dir = CLIFiles.temporaryDirectory("kill-train")
        let arch = dir.appendingPathComponent("a.json")
        try #"{"name": "k", "input": [3, 16, 16], "layers": [{"type": "conv", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#
            .write(to: arch, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let train = ["train", "--data", "samples", "--arch", arch.path, "--max-steps", "4", "--batch", "16", "--out", run.path]
        XCTAssertEqual(try ConvVizProcess.run(train).status, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssert(files.contains("checkpoint.safetensors"), "\(files)")
        let before = try files.map { try Data(contentsOf: run.appendingPathComponent($0)) }
        // Inside the staging of the new checkpoint, and with every file staged and the
        // commit record written but not yet in place, the last moment before the commit
        // point (`RunDirectoryCLITests` injects faults at the others).
        for fault in ["before-rename:checkpoint.safetensors", "before-rename:COMMIT"] {
            try killInside(train + ["--overwrite", "--seed", "9"], at: fault)
            XCTAssertEqual(try files.map { try Data(contentsOf: run.appendingPathComponent($0)) }, before, "\(fault): every file of the previous run")
            XCTAssertNoThrow(try Checkpoint(contentsOf: run.appendingPathComponent("checkpoint.safetensors")))
            let hidden = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix(".") }
            XCTAssert(Set(hidden).isSubset(of: [".convviz.lock", ".convviz-staging"]), "\(fault): \(hidden)")
        }
        // The next run drops what the killed ones staged and replaces the run.
        let r = try ConvVizProcess.run(train + ["--overwrite", "--seed", "9"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent(".convviz-staging").path))
        XCTAssertNotEqual(try Data(contentsOf: run.appendingPathComponent("checkpoint.safetensors")), before[files.firstIndex(of: "checkpoint.safetensors")!])
    }

    /// Same seed, same bytes: figures (PNG and SVG) across two separate runs.
    func testSameSeedSameFigureBytesAcrossRuns() throws {
        let dir = CLIFiles.temporaryDirectory("determinism")
        let image = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/coffee.png").path
        let arch = CLIFiles.repository.appendingPathComponent("Examples/three-3x3.json").path
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
