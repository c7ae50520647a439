import ConvVizCore
import Foundation
import XCTest

/// Hostile input and faults through the binary (issue 17): every case exits 1 with one
/// line naming the file or option, never a runtime trap, and loses nothing written before.
final class HostileCLITests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("hostile")

    /// Runs convviz; asserts it did not trap (a trap is a signal, or "Fatal error" on stderr).
    func convviz(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ConvVizProcess.Run {
        let r = try ConvVizProcess.run(args)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
        XCTAssert(r.status == 0 || r.status == 1, "status \(r.status): \(r.stderr)", file: file, line: line)
        return r
    }

    func refused(_ args: [String], mentioning texts: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try convviz(args, file: file, line: line)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr, file: file, line: line)
        // Progress notes may come first; the error is one line, the last.
        let message = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssert(message.hasPrefix("Error: "), "one line: \(r.stderr)", file: file, line: line)
        for t in texts { XCTAssert(message.contains(t), "'\(t)' in \(message)", file: file, line: line) }
    }

    func architecture(_ name: String, _ layers: String, input: String = "[3, 16, 16]") throws -> String {
        let url = temp.appendingPathComponent("\(name).json")
        try #"{"name": "\#(name)", "input": \#(input), "layers": \#(layers)}"#.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    var tiny: String {
        get throws { try architecture("tiny", #"[{"type": "conv", "name": "conv1", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "maxpool", "kernel": 4}, {"type": "flatten"}, {"type": "linear", "out": 7}]"#) }
    }

    func fresh(_ name: String) -> String {
        let url = temp.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        return url.path
    }

    func trainTiny(_ out: String, _ extra: [String] = []) throws -> ConvVizProcess.Run {
        try convviz(["train", "--data", "samples", "--arch", try tiny, "--max-steps", "3", "--batch", "16", "--out", out] + extra)
    }

    // MARK: traps reachable from input

    func testArchitectureThatDoesNotFitTheDataIsRefusedNamingTheFile() throws {
        let fewClasses = try architecture("three", #"[{"type": "conv", "out": 4, "kernel": 3}, {"type": "flatten"}, {"type": "linear", "out": 3}]"#)
        try refused(["train", "--data", "samples", "--arch", fewClasses, "--max-steps", "2", "--out", fresh("few")], mentioning: [fewClasses, "3 classes", "7"])
        let spatial = try architecture("maps", #"[{"type": "conv", "out": 7, "kernel": 3}]"#)
        try refused(["train", "--data", "samples", "--arch", spatial, "--max-steps", "2", "--out", fresh("maps")], mentioning: [spatial, "flat"])
        let gray = try architecture("gray", #"[{"type": "conv", "out": 4, "kernel": 3}, {"type": "flatten"}, {"type": "linear", "out": 10}]"#, input: "[1, 28, 28]")
        let folder = temp.appendingPathComponent("rgb/cat")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/brick.png"), to: folder.appendingPathComponent("only.png"))
        // One image: an empty split (and NaN statistics) before; now one line.
        try refused(["train", "--data", "folder:\(temp.appendingPathComponent("rgb").path)", "--arch", gray, "--max-steps", "2", "--out", fresh("one")],
                    mentioning: ["folder:", "at least 2 images"])
    }

    func testHugeEpochsAndDivergingLearningRateDoNotTrap() throws {
        let huge = fresh("huge-epochs")
        let r = try trainTiny(huge, ["--epochs", "4611686018427387904"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let diverged = fresh("diverged")
        let d = try convviz(["train", "--data", "samples", "--arch", try tiny, "--max-steps", "4", "--batch", "16", "--lr", "1e30", "--out", diverged])
        XCTAssertEqual(d.status, 1, d.stderr)
        XCTAssert(d.stderr.contains("loss became"), d.stderr)
        XCTAssertFalse(d.stderr.contains("NSCocoaErrorDomain"), d.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: diverged), "no empty run folder is left")
    }

    func testResumeFromAnAbsurdStepDoesNotTrap() throws {
        let run = fresh("resume-steps")
        XCTAssertEqual(try trainTiny(run).status, 0)
        let ckpt = URL(fileURLWithPath: run).appendingPathComponent("checkpoint.safetensors")
        var checkpoint = try Checkpoint(contentsOf: ckpt)
        let model = try checkpoint.makeModel()
        // A counter at its limit is refused in one line (issue 30; it used to "resume at step 9223372036854775807").
        checkpoint.step = Int.max
        try checkpoint.write(to: ckpt, model: model)
        try refused(["train", "--resume", run, "--data", "samples", "--batch", "16", "--out", run], mentioning: [ckpt.path, "step \(Int.max)"])
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run).appendingPathComponent("summary.json"))))
        checkpoint.step = -5
        try checkpoint.write(to: ckpt, model: model)
        try refused(["train", "--resume", run, "--data", "samples", "--out", run], mentioning: [ckpt.path, "non-negative"])
    }

    func testEmptyOrZeroSizedArraysAreRefused() throws {
        for shape in [[0, 2, 4, 4], [2, 0, 4, 4], [2, 2, 0, 4]] {
            let url = temp.appendingPathComponent("zero-\(shape.map(String.init).joined(separator: "x")).npy")
            try NPY.encode(Tensor(shape: shape)).write(to: url)
            try refused(["norms", "--tensor", url.path, "-o", temp.appendingPathComponent("n.svg").path], mentioning: [url.path, "at least 1"])
        }
    }

    // MARK: unbounded work

    func testCurvesOfExtremeOrIndistinguishableLossesEnd() throws {
        for (name, losses) in [("big", [1e308, 1.7e308]), ("spacing", [1e300, 1e300.nextUp]), ("span", [-1.7e308, 1.7e308]), ("same", [2.5, 2.5])] {
            let run = temp.appendingPathComponent("curves-\(name)")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            let lines = losses.enumerated().map { #"{"step": \#($0.offset + 1), "loss": \#($0.element)}"# }
            try (lines.joined(separator: "\n") + "\n").write(to: run.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
            let started = Date()
            let r = try convviz(["curves", run.path, "-o", temp.appendingPathComponent("curves-\(name).svg").path])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 20, name)
        }
    }

    func testTaxonomyRefusesHugeKernelsAndZeroDimensions() throws {
        let big = temp.appendingPathComponent("k512.npy")
        try NPY.encode(Tensor(shape: [1, 1, 512, 512])).write(to: big)
        let started = Date()
        try refused(["taxonomy", big.path], mentioning: [big.path, "512x512", "64x64"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        let empty = temp.appendingPathComponent("empty.npy")
        try NPY.encode(Tensor(shape: [0, 3, 5, 5])).write(to: empty)
        try refused(["taxonomy", empty.path], mentioning: [empty.path, "zero dimension"])
        // A million 1x1 "filters" in 4 MB: refused by count (was 81 s in a release build).
        let many = temp.appendingPathComponent("million.npy")
        try NPY.encode(Tensor(shape: [1_000_000, 1, 1, 1])).write(to: many)
        let t0 = Date()
        try refused(["taxonomy", many.path], mentioning: [many.path, "1000000 filters", "--max-filters"])
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
    }

    // MARK: allocation before validation

    func testTinyCheckpointAskingForAHugeNetworkIsRefusedBeforeAllocating() throws {
        for (name, out) in [("absurd", 100_000_000), ("large", 1_000_000)] {
            let arch = #"{"name": "\#(name)", "input": [3, 32, 32], "layers": [{"type": "conv", "name": "conv1", "out": \#(out), "kernel": 3}]}"#
            let url = temp.appendingPathComponent("\(name).safetensors")
            try SafeTensorsFile.encode([("conv1.weight", Tensor(shape: [1, 3, 3, 3]))], metadata: ["convviz.architecture": arch]).write(to: url)
            for command in [["inspect", url.path], ["shapes", url.path]] {
                let started = Date()
                let r = try convviz(command)
                if command[0] == "inspect" { XCTAssertEqual(r.status, 1, "\(command): \(r.stdout)") }
                if r.status == 1 { XCTAssert(r.stderr.contains(url.path), r.stderr) }
                XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(command)")
            }
        }
    }

    func testReceptiveFieldOnAHugeInputIsRefusedBeforeResizing() throws {
        let huge = try architecture("huge", #"[{"type": "conv", "name": "conv1", "out": 1, "kernel": 3}]"#, input: "[3, 20000, 20000]")
        let image = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/brick.png").path
        let started = Date()
        try refused(["receptive-field", "--arch", huge, "--image", image, "--layer", "conv1", "-o", temp.appendingPathComponent("rf.png").path], mentioning: ["huge.json", "input"])
        let wide = try architecture("wide", #"[{"type": "conv", "name": "conv1", "out": 1, "kernel": 3}]"#, input: "[3, 4096, 4096]")
        try refused(["receptive-field", "--arch", wide, "--image", image, "--layer", "conv1", "--samples", "256", "-o", temp.appendingPathComponent("rf.png").path], mentioning: [wide, "--samples"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    // MARK: lost data

    func testExportAndFoldRefuseToReplaceTheirInput() throws {
        let run = fresh("export-self")
        XCTAssertEqual(try trainTiny(run).status, 0)
        let ckpt = URL(fileURLWithPath: run).appendingPathComponent("checkpoint.safetensors").path
        let before = try Data(contentsOf: URL(fileURLWithPath: ckpt))
        try refused(["export", ckpt, "conv1.weight", "-o", ckpt], mentioning: [ckpt, "input"])
        try refused(["export", run, "conv1.weight", "-o", "\(run)/./checkpoint.safetensors"], mentioning: ["input"])
        try refused(["fold-bn", run, "-o", ckpt], mentioning: ["input"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: ckpt)), before)
    }

    func testTrainingIntoAnExistingRunIsRefusedUnlessResumingOrOverwriting() throws {
        let run = fresh("existing")
        XCTAssertEqual(try trainTiny(run).status, 0)
        let metrics = URL(fileURLWithPath: run).appendingPathComponent("metrics.jsonl")
        let before = try Data(contentsOf: metrics)
        try refused(["train", "--data", "samples", "--arch", try tiny, "--max-steps", "5", "--batch", "16", "--seed", "9", "--out", run], mentioning: [run, "--overwrite", "--resume"])
        XCTAssertEqual(try Data(contentsOf: metrics), before)
        XCTAssertEqual(try trainTiny(run, ["--overwrite", "--seed", "9"]).status, 0)
        XCTAssertNotEqual(try Data(contentsOf: metrics), before)
    }

    // MARK: messages and same-file outputs

    func testSpecialFilesAndControlCharactersGiveOneLineNamingTheFile() throws {
        let fifo = temp.appendingPathComponent("pipe")
        unlink(fifo.path)
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        defer { unlink(fifo.path) }
        try refused(["inspect", fifo.path], mentioning: [fifo.path, "FIFO"])
        try refused(["inspect", "/dev/zero"], mentioning: ["/dev/zero", "device"])
        try refused(["shapes", "/dev/zero"], mentioning: ["/dev/zero", "device"])
        let odd = temp.appendingPathComponent("two\nlines.npy")
        try Data("junk".utf8).write(to: odd)
        let r = try convviz(["inspect", odd.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssert(r.stderr.contains("two\\nlines.npy"), r.stderr)
    }

    func testArchitectureErrorsNameTheFile() throws {
        let bigKernel = try architecture("big-kernel", #"[{"type": "conv", "out": 4, "kernel": 40}]"#)
        try refused(["shapes", bigKernel], mentioning: [bigKernel])
        try refused(["volumes", bigKernel, "-o", temp.appendingPathComponent("v.svg").path], mentioning: [bigKernel])
        try refused(["train", "--data", "samples", "--arch", bigKernel, "--out", fresh("big-kernel-run")], mentioning: [bigKernel])
        let notJSON = temp.appendingPathComponent("broken.json")
        try Data("{\"name\": ".utf8).write(to: notJSON)
        try refused(["shapes", notJSON.path], mentioning: [notJSON.path])
    }

    func testNoCommandWritesOverAFileItRead() throws {
        let image = temp.appendingPathComponent("own-input.png")
        try? FileManager.default.removeItem(at: image)
        try FileManager.default.copyItem(at: CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/brick.png"), to: image)
        let before = try Data(contentsOf: image)
        try refused(["receptive-field", "--arch", try tiny, "--image", image.path, "--layer", "conv1", "-o", image.path], mentioning: [image.path, "input"])
        XCTAssertEqual(try Data(contentsOf: image), before)
        let weights = temp.appendingPathComponent("w.npy")
        try NPY.encode(Tensor(shape: [4, 3, 3, 3])).write(to: weights)
        try refused(["export", weights.path, "x", "-o", weights.path], mentioning: [weights.path])
    }

    func testNonFiniteHyperparametersAreRefusedByName() throws {
        for (option, value) in [("--lr", "nan"), ("--momentum", "inf"), ("--weight-decay", "-inf")] {
            let r = try ConvVizProcess.run(["train", "--data", "samples", "--arch", try tiny, "\(option)=\(value)", "--out", fresh("nan-\(option)")])
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssert(r.stderr.contains(option), r.stderr)
        }
    }

    /// Values whose range overflows Float (±3e38: max - min is infinite, then inf/inf is
    /// NaN) or that are NaN or infinite: every figure of them draws or refuses, no trap.
    func testFiguresOfExtremeValuesDoNotTrap() throws {
        let cases: [(String, Float)] = [("huge", 3e38), ("nan", .nan), ("inf", .infinity)]
        for (name, value) in cases {
            let filters = temp.appendingPathComponent("extreme-\(name).npy"), plane = temp.appendingPathComponent("extreme-\(name)-2d.npy")
            try NPY.encode(Tensor(shape: [2, 3, 5, 5], data: (0..<150).map { $0 % 2 == 0 ? value : -value })).write(to: filters)
            try NPY.encode(Tensor(shape: [8, 8], data: (0..<64).map { $0 % 3 == 0 ? value : -value })).write(to: plane)
            for args in [["filters", filters.path], ["filters", filters.path, "--view", "grid"], ["filters", filters.path, "--view", "pca"],
                         ["pooling", "--input", plane.path], ["norms", "--tensor", filters.path, "--groups", "3"]] {
                _ = try convviz(args + ["-o", temp.appendingPathComponent("extreme.png").path])
            }
            _ = try convviz(["taxonomy", filters.path, "-o", temp.appendingPathComponent("extreme.json").path])
        }
    }

    /// A Foundation failure (a folder that cannot be created, a file that is a folder) is
    /// one line with the path and the system's reason, never an NSError dump.
    func testFoundationFailuresAreOneLineWithoutErrorDumps() throws {
        let blocker = temp.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocker)
        let under = blocker.appendingPathComponent("run").path
        try refused(["train", "--data", "samples", "--arch", try tiny, "--max-steps", "2", "--out", under], mentioning: [under])
        let weights = temp.appendingPathComponent("blocked-weights.npy")
        try NPY.encode(Tensor(shape: [2, 3, 3, 3])).write(to: weights)
        try refused(["filters", weights.path, "-o", blocker.appendingPathComponent("f.png").path], mentioning: ["a-file"])
        let run = temp.appendingPathComponent("metrics-is-a-folder")
        try FileManager.default.createDirectory(at: run.appendingPathComponent("metrics.jsonl"), withIntermediateDirectories: true)
        try refused(["curves", run.path, "-o", temp.appendingPathComponent("c.svg").path], mentioning: ["metrics.jsonl", "directory"])
        for args in [["train", "--data", "samples", "--arch", try tiny, "--out", under], ["curves", run.path, "-o", temp.appendingPathComponent("c.svg").path]] {
            let r = try convviz(args)
            XCTAssertFalse(r.stderr.contains("Domain") || r.stderr.contains("Code=") || r.stderr.contains("operation could not"), r.stderr)
        }
    }

    /// The one-line error wrapper leaves ArgumentParser's own exits alone: a subcommand's
    /// --help (which arrives from run() as a parser error) still prints its help.
    func testSubcommandHelpIsNotAnError() throws {
        for command in ["train", "activations", "inspect"] {
            let r = try convviz([command, "--help"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssert(r.stdout.contains("OVERVIEW"), r.stdout)
            XCTAssertFalse(r.stderr.contains("CommandError"), r.stderr)
        }
    }
}
