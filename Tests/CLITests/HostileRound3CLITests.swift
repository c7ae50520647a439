import ConvVizCore
import Foundation
import XCTest

/// Issue 30 through the binary: each class of hostile input exits 1 with one line naming
/// the file or option and the culprit, quickly, never a trap or an allocation failure.
final class HostileRound3CLITests: XCTestCase {
    let temp = CLIFiles.temporaryDirectory("hostile3")

    func refused(_ args: [String], mentioning texts: [String], within seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line) throws {
        let started = Date()
        let r = try ConvVizProcess.run(args)
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("failed to allocate"), r.stderr, file: file, line: line)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr, file: file, line: line)
        let message = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssert(message.hasPrefix("Error: "), "one line: \(r.stderr)", file: file, line: line)
        for t in texts { XCTAssert(message.contains(t), "'\(t)' in \(message)", file: file, line: line) }
        XCTAssertLessThan(Date().timeIntervalSince(started), seconds, "\(args)", file: file, line: line)
    }

    func architecture(_ name: String, input: String, layers: String = #"[{"type": "conv", "name": "conv1", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "maxpool", "kernel": 4}, {"type": "flatten"}, {"type": "linear", "out": 7}]"#) throws -> String {
        let url = temp.appendingPathComponent("\(name).json")
        try #"{"name": "\#(name)", "input": \#(input), "layers": \#(layers)}"#.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func fresh(_ name: String) -> String {
        let url = temp.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        return url.path
    }

    /// `folder:DIR` data of three photographs in two classes (quicker to load than the
    /// 20,000 sample patches).
    var photos: String {
        get throws {
            let root = temp.appendingPathComponent("photos")
            for (label, name) in [("cat", "astronaut"), ("cat", "coffee"), ("dog", "chelsea")] {
                let folder = root.appendingPathComponent(label), file = folder.appendingPathComponent("\(name).png")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                if !FileManager.default.fileExists(atPath: file.path) {
                    try FileManager.default.copyItem(at: CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/\(name).png"), to: file)
                }
            }
            return "folder:\(root.path)"
        }
    }

    /// 2 or 4 input channels on photographs: a preconditionFailure at ImageFolder.swift:71 before.
    func testInputChannelsPhotographsCannotGiveAreOneLine() throws {
        for channels in [2, 4] {
            let arch = try architecture("c\(channels)", input: "[\(channels), 16, 16]")
            for data in ["samples", try photos] {
                try refused(["train", "--data", data, "--arch", arch, "--max-steps", "1", "--out", fresh("c\(channels)")], mentioning: ["\(channels)-channel", "[3, 16, 16]"])
            }
        }
    }

    /// `--data samples` from a declared input of 20,000 x 3 x 4096 x 4096: refused before allocating.
    func testSamplePatchesAreBoundedBeforeAllocation() throws {
        let arch = try architecture("big", input: "[3, 4096, 4096]")
        try refused(["train", "--data", "samples", "--arch", arch, "--max-steps", "1", "--out", fresh("big")], mentioning: ["samples", "--max-elements"], within: 10)
        let wide = try architecture("wide", input: "[3, 400, 400]")
        try refused(["train", "--data", "samples", "--arch", wide, "--max-steps", "1", "--max-elements", "1000000000000", "--out", fresh("wide")],
                    mentioning: ["samples", "300"], within: 10)
    }

    /// --epochs whose step count overflows, without --max-steps: refused, not a run that never ends.
    func testEpochsOverflowingTheStepCountAreRefused() throws {
        let arch = try architecture("tiny", input: "[3, 16, 16]")
        // Two training images, one step an epoch: 10^16 epochs are past 2^53 steps without overflowing.
        for epochs in ["4611686018427387904", "9223372036854775807", "10000000000000000"] {
            let out = fresh("epochs")
            try refused(["train", "--data", try photos, "--arch", arch, "--batch", "16", "--epochs", epochs, "--out", out], mentioning: ["--epochs \(epochs)", "--max-steps"], within: 60)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no run folder left")
        }
    }

    /// A checkpoint at step Int.max (or past the run's end) is refused on resume, naming the file.
    func testResumingAtACounterLimitIsRefused() throws {
        let arch = try architecture("tiny", input: "[3, 16, 16]")
        let run = fresh("limits")
        let first = try ConvVizProcess.run(["train", "--data", try photos, "--arch", arch, "--max-steps", "3", "--batch", "1", "--out", run])
        XCTAssertEqual(first.status, 0, first.stderr)
        let ckpt = URL(fileURLWithPath: run).appendingPathComponent("checkpoint.safetensors")
        var checkpoint = try Checkpoint(contentsOf: ckpt)
        let model = try checkpoint.makeModel()
        for step in [Int.max, (1 << 53) + 1] {
            checkpoint.step = step
            try checkpoint.write(to: ckpt, model: model)
            try refused(["train", "--resume", run, "--data", try photos, "--batch", "1", "--out", run], mentioning: [ckpt.path, "step \(step)", "limit"])
            try refused(["inspect", ckpt.path], mentioning: [ckpt.path, "step \(step)"])
        }
        checkpoint.step = 50
        try checkpoint.write(to: ckpt, model: model)
        try refused(["train", "--resume", run, "--data", try photos, "--batch", "1", "--epochs", "100", "--max-steps", "10", "--out", run], mentioning: [ckpt.path, "step 50", "--max-steps 10"])
    }

    /// Duplicates named: a safetensors header naming a tensor twice, an architecture
    /// giving a key twice.
    func testDuplicatesAreRefusedNamingThem() throws {
        let header = #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(Data(count: 8))
        let url = temp.appendingPathComponent("twice.safetensors")
        try data.write(to: url)
        try refused(["inspect", url.path], mentioning: [url.path, "'w' twice"])
        let arch = try architecture("keys", input: "[3, 16, 16]", layers: #"[{"type": "conv", "out": 4, "out": 8, "kernel": 3}]"#)
        try refused(["shapes", arch], mentioning: [arch, "'out' is given twice"])
    }

    /// Within the element limit, a zero dimension beside large ones reads, but no figure
    /// is laid out from it: `filters` hung (2^29 mosaic cells of no channel) or trapped
    /// (--view grid of [1, 0, 16384, 16384]).
    func testWeightsWithAZeroDimensionAreRefusedBeforeLayout() throws {
        let out = temp.appendingPathComponent("zw.svg").path
        for (name, shape) in [("a", "(536870912, 0, 1, 1)"), ("c", "(1, 0, 16384, 16384)")] {
            let text = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }\n"
            var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0])
            npy.append(Data(text.utf8))
            let url = temp.appendingPathComponent("zero-\(name).npy")
            try npy.write(to: url)
            for view in ["mosaic", "grid", "pca"] {
                try refused(["filters", url.path, "--view", view, "-o", out], mentioning: [url.path, "zero dimension"], within: 10)
            }
            try refused(["taxonomy", url.path], mentioning: [url.path, "zero dimension"], within: 10)
        }
    }

    /// A .npy with a zero dimension beside 2^40: refused by the reader for every command that reads arrays.
    func testZeroDimensionBesideHugeOnesIsRefusedByEveryCommand() throws {
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1099511627776, 2), }\n"
        var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count), 0])
        npy.append(Data(text.utf8))
        let url = temp.appendingPathComponent("zero-huge.npy")
        try npy.write(to: url)
        let out = temp.appendingPathComponent("z.svg").path
        for args in [["inspect", url.path], ["filters", url.path, "-o", out], ["norms", "--tensor", url.path, "-o", out], ["pooling", "--input", url.path, "-o", out],
                     ["taxonomy", url.path]] {
            try refused(args, mentioning: [url.path, "zero dimension does not make the others free"], within: 10)
        }
    }
}
