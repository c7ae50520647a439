import Foundation
import XCTest
@testable import ConvVizCore

/// Run directories under faults (issue 17): one writer at a time, a run's files replaced
/// together, a fault injected exactly between writing and renaming loses nothing.
final class RunDirectoryFaultTests: XCTestCase {
    var folder: URL!

    override func setUp() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-faults-\(getpid())-\(name.filter(\.isLetter))")
        try? FileManager.default.removeItem(at: folder)
    }

    override func tearDown() {
        unsetenv(FaultInjection.variable)
        try? FileManager.default.removeItem(at: folder)
    }

    let arch = Architecture(name: "toy", input: [1, 4, 4], layers: [
        LayerSpec(.conv, out: 2, kernel: Pair(3)), LayerSpec(.relu), LayerSpec(.flatten), LayerSpec(.linear, out: 2),
    ])

    /// A trainer after `steps` steps of a seeded toy problem.
    func trainer(seed: UInt64) throws -> Trainer {
        var settings = TrainingSettings()
        settings.epochs = 1
        settings.batchSize = 4
        settings.seed = seed
        let t = try Trainer(model: try arch.makeModel(seed: seed), architecture: arch, settings: settings,
                            standardization: Standardization(mean: [0], std: [1]))
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(shape: [8, 1, 4, 4], data: (0..<128).map { _ in rng.uniform(0, 1) })
        _ = try t.train(LabeledImages(images: x, labels: (0..<8).map { $0 % 2 }, classes: ["a", "b"]), test: nil) { _ in }
        return t
    }

    func summary(_ t: Trainer) -> Trainer.Summary {
        Trainer.Summary(steps: t.step, epochs: 1, finalLoss: 0.5, testLoss: nil, testAccuracy: nil, trainImagesPerSecond: 123)
    }

    /// Bytes of every run file in the folder, by name.
    func files() throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where RunDirectory.isRunFile(name) {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return out
    }

    /// A finished run of seed 1 in `folder`.
    func previousRun() throws -> [String: Data] {
        let t = try trainer(seed: 1)
        let run = try RunDirectory(folder, mode: .new)
        try run.record(.step(step: 1, totalSteps: 2, epoch: 0, loss: 0.7, accuracy: 0.5, learningRate: 0.1, imagesPerSecond: 99))
        try run.save(trainer: t, epoch: 1)
        try run.writeSummary(summary(t), settings: t.settings, data: "toy", architecture: arch)
        return try files()
    }

    func testAFaultBetweenWriteAndRenameLeavesTheFilePrevious() throws {
        let url = folder.appendingPathComponent("target.bin")
        try AtomicFile.write(Data("old".utf8), to: url)
        setenv(FaultInjection.variable, "before-rename:target.bin", 1)
        XCTAssertThrowsError(try AtomicFile.write(Data("new".utf8), to: url)) { XCTAssert("\($0)".contains("injected fault"), "\($0)") }
        unsetenv(FaultInjection.variable)
        XCTAssertEqual(try Data(contentsOf: url), Data("old".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["target.bin"], "no temporary file left")
    }

    func testStaleTemporaryFilesOfDeadProcessesAreRemoved() throws {
        let url = folder.appendingPathComponent("figure.png")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run(); dead.waitUntilExit()
        let stale = ".figure.png.tmp-\(dead.processIdentifier)-17", live = ".figure.png.tmp-\(getppid())-18"
        for name in [stale, live] { try Data("x".utf8).write(to: folder.appendingPathComponent(name)) }
        try AtomicFile.write(Data("png".utf8), to: url)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(left, [live, "figure.png"].sorted(), "a dead writer's file is removed, a live one's kept")
    }

    func testASecondWriterIsRefusedAndAStaleLockIsNot() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A lock file left by a killed process: no flock is held on it.
        try Data("pid 999999\n".utf8).write(to: folder.appendingPathComponent(".convviz.lock"))
        var first: RunDirectory? = try RunDirectory(folder, mode: .new)
        XCTAssertThrowsError(try RunDirectory(folder, mode: .resume)) { e in
            XCTAssert("\(e)".contains("another convviz (pid \(getpid()))"), "\(e)")
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try RunDirectory(folder, mode: .resume), "the lock ends with its holder")
    }

    func testANewRunRefusesAFolderThatHoldsFiles() throws {
        _ = try previousRun()
        XCTAssertThrowsError(try RunDirectory(folder, mode: .new)) { e in
            XCTAssert("\(e)".contains("already holds a run"), "\(e)")
        }
    }

    func testAFailedSaveLeavesThePreviousRunWhole() throws {
        let before = try previousRun()
        XCTAssertEqual(Set(before.keys), Set(RunDirectory.runFileNames))
        let t = try trainer(seed: 2)
        // The checkpoint fails after the metrics were written: the old writer had already
        // replaced metrics.jsonl by then.
        for fault in ["before-rename:checkpoint.safetensors", "before-rename:optimizer.safetensors", "before-commit:metrics.jsonl"] {
            let run = try RunDirectory(folder, mode: .resume)
            try run.record(.step(step: 9, totalSteps: 9, epoch: 0, loss: 0.1, accuracy: 1, learningRate: 0.1, imagesPerSecond: 1))
            setenv(FaultInjection.variable, fault, 1)
            XCTAssertThrowsError(try run.save(trainer: t, epoch: 1), fault)
            unsetenv(FaultInjection.variable)
            XCTAssertEqual(try files(), before, fault)
        }
    }

    func testReplacingKeepsThePreviousRunUntilTheNewOneFinishes() throws {
        let before = try previousRun()
        let t = try trainer(seed: 3)
        do {
            let run = try RunDirectory(folder, mode: .replace)
            try run.save(trainer: t, epoch: 1)
            XCTAssertEqual(try files(), before, "saves are staged, not visible")
        }
        // Killed before finishing: the next writer drops what was staged.
        _ = try RunDirectory(folder, mode: .resume)
        XCTAssertEqual(try files(), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".convviz-staging").path))
        let run = try RunDirectory(folder, mode: .replace)
        try run.save(trainer: t, epoch: 1)
        try run.writeSummary(summary(t), settings: t.settings, data: "toy", architecture: arch)
        let after = try files()
        XCTAssertEqual(Set(after.keys), Set(RunDirectory.runFileNames))
        for name in RunDirectory.runFileNames where name != RunDirectory.timingFileName { XCTAssertNotEqual(after[name], before[name], name) }
    }

    func testACommitInterruptedAfterItsCommitPointIsFinished() throws {
        _ = try previousRun()
        let staging = folder.appendingPathComponent(".convviz-staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        try Data("new metrics\n".utf8).write(to: staging.appendingPathComponent("metrics.jsonl"))
        try Data(#"{"move": ["metrics.jsonl", "checkpoint.safetensors"], "remove": ["summary.json"]}"#.utf8).write(to: staging.appendingPathComponent("COMMIT"))
        // checkpoint.safetensors had already moved when the process died.
        _ = try RunDirectory(folder, mode: .resume)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("metrics.jsonl")), Data("new metrics\n".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("summary.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging.path))
    }

    func testTimingsAreTheOnlyFileThatDiffersBetweenTwoRunsOfOneSeed() throws {
        let first = try previousRun()
        try FileManager.default.removeItem(at: folder)
        let t = try trainer(seed: 1)
        let run = try RunDirectory(folder, mode: .new)
        try run.record(.step(step: 1, totalSteps: 2, epoch: 0, loss: 0.7, accuracy: 0.5, learningRate: 0.1, imagesPerSecond: 7))
        try run.save(trainer: t, epoch: 1)
        var other = summary(t); other.trainImagesPerSecond = 456
        try run.writeSummary(other, settings: t.settings, data: "toy", architecture: arch)
        let second = try files()
        for name in RunDirectory.runFileNames where name != RunDirectory.timingFileName { XCTAssertEqual(first[name], second[name], name) }
        XCTAssertNotEqual(first[RunDirectory.timingFileName], second[RunDirectory.timingFileName])
        let summaryObject = try XCTUnwrap(JSONSerialization.jsonObject(with: XCTUnwrap(second["summary.json"])) as? [String: Any])
        XCTAssertEqual(summaryObject["openblas"] as? String, BLAS.configuration)
    }

    func testNonFiniteNumbersBecomeNullAtAnyDepth() throws {
        let data = try RunDirectory.json(["a": [Double.nan, 1.0], "b": ["c": Double.infinity]], file: folder)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"{"a":[null,1],"b":{"c":null}}"#)
    }
}
