// libFuzzer entry point for ConvViz's readers and the figures drawn from files. Built once
// by Fuzz/run.sh with `swiftc -sanitize=fuzzer,address` (ConvVizCore and ConvVizRender in
// one module); the target is chosen at run time by CONVVIZ_FUZZ_TARGET: png, idx, cifar,
// npy, safetensors, architecture, onnx, checkpoint (metadata and tensors of a ConvViz
// checkpoint), metrics (a metrics.jsonl, then its curves figure) or npyfigure (a .npy
// drawn as filters, kernel grid, principal kernels or a pooling diagram); and the
// generators of FuzzGenerators.swift (issue 30): shapes, duplicates, counters.
// Every input must either be used or throw one of ConvViz's errors: a crash, a hang or an
// unbounded allocation is a bug.
import Foundation

/// Small limits keep the fuzzer from spending its time on legitimately huge inputs.
let fuzzLimits: ReadLimits = {
    var l = ReadLimits()
    l.maxPixels = 1 << 22
    l.maxElements = 1 << 22
    l.maxInflatedBytes = 1 << 24
    l.maxDataBytes = 1 << 22
    l.maxHeaderBytes = 1 << 20
    return l
}()

let fuzzTarget: String = ProcessInfo.processInfo.environment["CONVVIZ_FUZZ_TARGET"] ?? "npy"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    do {
        switch fuzzTarget {
        case "png": _ = try PNGDecoder.decode(data, file: "fuzz.png", limits: fuzzLimits)
        case "idx": _ = try IDXReader.parse(data, file: "fuzz.idx", limits: fuzzLimits)
        case "cifar": _ = try CIFARReader.parse(data, file: "fuzz.bin", limits: fuzzLimits)
        case "npy": _ = try NPY.read(data, file: "fuzz.npy", limits: fuzzLimits)
        case "safetensors":
            let file = try SafeTensorsFile(data: data, file: "fuzz.safetensors", limits: fuzzLimits)
            for name in file.names { _ = try file.tensor(name) }
        case "onnx":
            let model = try ONNXFile(data: data, file: "fuzz.onnx", limits: fuzzLimits)
            _ = FileInspector.describe(model)  // imports the graph too
        case "architecture":
            let arch = try Architecture(json: data)
            if let shapes = try? ArchitectureBudget.check(arch) { _ = shapes }
        case "checkpoint": try FuzzCheckpoint.run(data)
        case "metrics": try FuzzFigures.metrics(data)
        case "npyfigure": try FuzzFigures.npy(data)
        case "shapes": try FuzzShapes.run(data)
        case "duplicates": try FuzzDuplicates.run(data)
        case "counters": try FuzzCounters.run(data)
        default: fatalError("unknown CONVVIZ_FUZZ_TARGET \(fuzzTarget)")
        }
    } catch {}
    return 0
}

/// Building a model allocates its weights: only do it for architectures of sane size.
enum ArchitectureBudget {
    static func check(_ arch: Architecture) throws -> ShapeTable? {
        guard arch.input.reduce(1, *) <= 1 << 16, arch.layers.count <= 64 else { return nil }
        for l in arch.layers where (l.out ?? 1) > 256 || (l.kernel.map { $0.h * $0.w } ?? 1) > 121 { return nil }
        return try ShapeTable(arch)
    }
}

/// A ConvViz checkpoint as `inspect`, `shapes` and `--resume` read it: the header alone,
/// then the whole file (the network built and every tensor checked against it).
enum FuzzCheckpoint {
    static func run(_ data: Data) throws {
        let file = try SafeTensorsFile(data: data, file: "fuzz.safetensors", limits: fuzzLimits)
        let header = try Checkpoint.header(of: file, file: "fuzz.safetensors")
        _ = try? ShapeTable(header.architecture)
        // The header's budget check bounds the network by the values the file holds.
        let checkpoint = try Checkpoint(file)
        _ = checkpoint.encoded(model: try checkpoint.makeModel(file: "fuzz.safetensors"))
    }
}

/// Files that become figures, through the checks the commands make first.
enum FuzzFigures {
    static func metrics(_ data: Data) throws {
        let metrics = try RunDirectory.metrics(parsing: data, file: "fuzz/metrics.jsonl")
        var curves = TrainingCurves(runs: [.init(name: "fuzz", metrics: metrics)])
        _ = try Canvas.render(curves.scene(), format: .svg)
    }

    static func npy(_ data: Data) throws {
        var limits = fuzzLimits
        limits.maxElements = 1 << 14  // a figure of every filter: keep each case fast
        let t = try NPY.read(data, file: "fuzz.npy", limits: limits)
        guard t.shape.allSatisfy({ $0 >= 1 }) else { return }  // WeightsSource refuses zero dimensions
        switch t.rank {
        case 4:
            var mosaic = FilterMosaic(weights: t), grid = KernelGrid(weights: t)
            _ = try Canvas.render(mosaic.scene(), format: .svg)
            _ = grid.scene()
            if t.shape[2] * t.shape[3] <= 64 * 64 { var pca = KernelPCA(weights: t); _ = pca.scene() }
        case 2 where t.shape[0] >= 2 && t.shape[1] >= 2 && t.shape[0] * t.shape[1] <= 4096:
            var pooling = PoolingDiagram(values: t)
            _ = try Canvas.render(pooling.scene(), format: .svg)
        default:
            return
        }
    }
}
