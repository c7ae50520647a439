import Foundation
import XCTest
@testable import ConvVizCore

/// Properties of the readers and the shape arithmetic over generated hostile input
/// (issue 17): every input either reads or throws one of our errors, in one line that
/// names the file; nothing traps, and shapes that read have area where they must.
final class ReaderPropertyTests: XCTestCase {
    var limits: ReadLimits {
        var l = ReadLimits()
        l.maxPixels = 1 << 20; l.maxElements = 1 << 20; l.maxDataBytes = 1 << 20; l.maxHeaderBytes = 1 << 16
        return l
    }

    /// The error is ours, one line, naming `file`.
    func expectOurs(_ error: Error, file: String) throws {
        let text = "\(error)"
        guard error is ReadError || error is ArchitectureError || error is ShapeError else {
            throw Failure("not a typed error: \(type(of: error)): \(text)")
        }
        if error is ReadError, !text.hasPrefix(file) { throw Failure("does not name \(file): \(text)") }
        if text.contains("\n") { throw Failure("more than one line: \(text)") }
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    func read(_ name: String, _ data: Data, _ parse: (Data) throws -> Void) throws {
        do { try parse(data) } catch { try expectOurs(error, file: name) }
    }

    func testCheckedProductIsTheExactProductOrNil() {
        PropertyHarness.check("checkedProduct", count: 2000) { rng, _ in
            let dims = (0..<rng.below(6)).map { _ -> Int in
                switch rng.below(5) {
                case 0: 0
                case 1: -rng.below(3)
                case 2: Int.max >> rng.below(63)
                default: rng.below(1 << 20)
                }
            }
            let exact = dims.reduce(Double(1)) { $0 * Double($1) }
            let nonzero = dims.filter { $0 != 0 }.reduce(Double(1)) { $0 * Double(abs($1)) }
            switch checkedProduct(dims) {
            case nil:
                guard dims.contains(where: { $0 < 0 }) || nonzero > Double(Int.max) / 2 else { throw Failure("nil for \(dims)") }
            case let p?:
                guard !dims.contains(where: { $0 < 0 }), nonzero <= Double(Int.max), Double(p) == exact || abs(Double(p) - exact) <= exact * 1e-12 else {
                    throw Failure("\(p) for \(dims)")
                }
            }
        }
    }

    func testNPYRoundTripsAndMutatedNPYNeverTraps() {
        PropertyHarness.check("npy") { rng, i in
            let shape = (0..<rng.below(4) + 1).map { _ in rng.below(5) }
            let t = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.uniform(-1, 1) })
            let data = NPY.encode(t)
            guard try NPY.read(data, file: "a.npy") == t else { throw Failure("round trip of \(shape)") }
            try read("m\(i).npy", Mutation.mutate(data, &rng)) { _ = try NPY.read($0, file: "m\(i).npy", limits: limits) }
        }
    }

    func testMutatedSafetensorsNeverTrap() {
        PropertyHarness.check("safetensors") { rng, i in
            let tensors = (0..<rng.below(3) + 1).map { k in ("t\(k)", Tensor(shape: [rng.below(3) + 1, rng.below(3)])) }
            let data = SafeTensorsFile.encode(tensors, metadata: ["k": "v"])
            try read("m\(i).safetensors", Mutation.mutate(data, &rng)) { d in
                let file = try SafeTensorsFile(data: d, file: "m\(i).safetensors", limits: limits)
                for name in file.names { _ = try file.tensor(name) }
            }
        }
    }

    func testMutatedIDXPlainAndGzipNeverTrap() {
        PropertyHarness.check("idx", count: 200) { rng, i in
            let shape = (0..<rng.below(3) + 1).map { _ in UInt32(rng.below(6)) }
            let count = shape.reduce(1) { $0 * Int($1) }
            let raw = Data([0, 0, 8, UInt8(shape.count)] + shape.flatMap { withUnsafeBytes(of: $0.bigEndian) { Array($0) } } + [UInt8](repeating: 3, count: count))
            guard try IDXReader.parse(raw, file: "a.idx").shape == shape.map(Int.init) else { throw Failure("round trip") }
            let mutated = Mutation.mutate(raw, &rng)
            try read("m\(i).idx", mutated) { _ = try IDXReader.parse($0, file: "m\(i).idx", limits: limits) }
            let gz = ReaderBudgetTests.gzip(header: mutated, zeros: rng.below(2) == 0 ? 0 : rng.below(64))
            try read("m\(i).idx.gz", Mutation.mutate(gz, &rng)) { _ = try IDXReader.parse($0, file: "m\(i).idx.gz", limits: limits) }
        }
    }

    func testMutatedPNGAndCIFARNeverTrap() {
        PropertyHarness.check("png") { rng, i in
            let png = Data(HandMadePNG.uniform(width: UInt32(rng.below(9) + 1), height: UInt32(rng.below(9) + 1), rgb: rng.below(2) == 0))
            try read("m\(i).png", Mutation.mutate(png, &rng)) { _ = try PNGDecoder.decode($0, file: "m\(i).png", limits: limits) }
            let cifar = Data((0..<CIFARReader.recordSize * (rng.below(2) + 1)).map { _ in UInt8(rng.below(10)) })
            try read("m\(i).bin", Mutation.mutate(cifar, &rng)) { _ = try CIFARReader.parse($0, file: "m\(i).bin", limits: limits) }
        }
    }

    /// Architectures with extreme numbers: a shape table either builds, with every shape
    /// positive, or throws ours; nothing overflows.
    func testMutatedArchitecturesGiveShapesWithAreaOrOurError() {
        let base = #"{"name": "p", "input": [3, 32, 32], "layers": [{"type": "conv", "name": "c1", "out": 8, "kernel": 3, "stride": 1, "padding": 1}, {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel": 2, "stride": 2}, {"type": "conv", "out": 16, "kernel": 5, "groups": 1, "dilation": 1}, {"type": "avgpool", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "out": 10}]}"#
        PropertyHarness.check("architecture", count: 1000) { rng, _ in
            var text = base
            for _ in 0...rng.below(3) { text = Mutation.mutate(text, &rng) }
            do {
                let arch = try Architecture(json: Data(text.utf8))
                let table = try ShapeTable(arch)
                for row in table.rows where row.output.contains(where: { $0 < 1 }) { throw Failure("shape \(row.output) in \(text)") }
                _ = try arch.learnableParameterCount()
            } catch let e as Failure { throw e } catch {
                guard error is ArchitectureError || error is ShapeError else { throw Failure("\(type(of: error)): \(error) for \(text)") }
            }
        }
    }

    /// Checkpoint metadata (architecture, step, epoch, standardization) mutated: read or
    /// refused with the file named, never trapping or allocating a mutated network.
    func testMutatedCheckpointMetadataNeverTraps() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prop-ckpt-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let arch = Architecture(name: "p", input: [1, 6, 6], layers: [LayerSpec(.conv, out: 2, kernel: Pair(3)), LayerSpec(.flatten), LayerSpec(.linear, out: 3)])
        let model = try arch.makeModel(seed: 1)
        let good = Checkpoint(model: model, architecture: arch, standardization: Standardization(mean: [0.5], std: [0.25]), step: 7, epoch: 1)
        let encoded = good.encoded(model: model)
        let meta = try SafeTensorsFile(data: encoded, file: "x").metadata
        PropertyHarness.check("checkpoint", count: 300) { rng, i in
            var m = meta
            let key = ["convviz.architecture", "convviz.step", "convviz.epoch", "convviz.standardization"][rng.below(4)]
            m[key] = Mutation.mutate(m[key] ?? "", &rng)
            let file = try SafeTensorsFile(data: encoded, file: "x")
            let tensors = try file.names.filter { !$0.hasSuffix("num_batches_tracked") }.map { ($0, try file.tensor($0)) }
            let url = dir.appendingPathComponent("m\(i).safetensors")
            try SafeTensorsFile.encode(tensors, metadata: m).write(to: url)
            do {
                let c = try Checkpoint(contentsOf: url)
                guard c.step >= 0, c.epoch >= 0 else { throw Failure("negative step read") }
                _ = try ModelSource.shapeTable(of: url.path)
            } catch let e as Failure { throw e } catch { try expectOurs(error, file: url.path) }
        }
    }

    /// metrics.jsonl lines mutated: curves' reader gives finite points or refuses the file.
    func testMutatedMetricsFilesReadOrRefuse() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prop-metrics-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = [#"{"step": 50, "epoch": 0, "loss": 1.25, "accuracy": 0.5, "lr": 0.02}"#, #"{"epoch": 0, "test_loss": 0.9, "test_accuracy": 0.7}"#]
        PropertyHarness.check("metrics", count: 300) { rng, _ in
            let text = lines.map { Mutation.mutate($0, &rng) }.joined(separator: "\n")
            try Data(text.utf8).write(to: dir.appendingPathComponent("metrics.jsonl"))
            do {
                let m = try RunDirectory.metrics(in: dir)
                for p in m.loss where !p.step.isFinite || !p.value.isFinite { throw Failure("non-finite loss point from \(text)") }
                for p in m.accuracy where !p.epoch.isFinite || !p.value.isFinite { throw Failure("non-finite accuracy point from \(text)") }
            } catch let e as Failure { throw e } catch { try expectOurs(error, file: dir.appendingPathComponent("metrics.jsonl").path) }
        }
    }
}
