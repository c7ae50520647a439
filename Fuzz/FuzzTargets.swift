// libFuzzer entry point for ConvViz's readers. Built by Fuzz/run.sh with
// `swiftc -sanitize=fuzzer,address`; the target is chosen at compile time with
// -D FUZZ_PNG, FUZZ_IDX, FUZZ_CIFAR, FUZZ_NPY, FUZZ_SAFETENSORS, FUZZ_ARCHITECTURE or FUZZ_ONNX.
// Every input must either parse or throw a ReadError/ArchitectureError/ShapeError:
// a crash, a hang or an unbounded allocation is a bug.
import Foundation

/// Small limits keep the fuzzer from spending its time on legitimately huge inputs.
let fuzzLimits: ReadLimits = {
    var l = ReadLimits()
    l.maxPixels = 1 << 22
    l.maxElements = 1 << 22
    l.maxInflatedBytes = 1 << 24
    l.maxHeaderBytes = 1 << 20
    return l
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    do {
        #if FUZZ_PNG
        _ = try PNGDecoder.decode(data, file: "fuzz.png", limits: fuzzLimits)
        #elseif FUZZ_IDX
        _ = try IDXReader.parse(data, file: "fuzz.idx", limits: fuzzLimits)
        #elseif FUZZ_CIFAR
        _ = try CIFARReader.parse(data, file: "fuzz.bin")
        #elseif FUZZ_NPY
        _ = try NPY.read(data, file: "fuzz.npy", limits: fuzzLimits)
        #elseif FUZZ_SAFETENSORS
        let file = try SafeTensorsFile(data: data, file: "fuzz.safetensors", limits: fuzzLimits)
        for name in file.names { _ = try file.tensor(name) }
        #elseif FUZZ_ONNX
        let model = try ONNXFile(data: data, file: "fuzz.onnx", limits: fuzzLimits)
        _ = FileInspector.describe(model)  // imports the graph too
        #elseif FUZZ_ARCHITECTURE
        let arch = try Architecture(json: data)
        if let shapes = try? ArchitectureBudget.check(arch) { _ = shapes }
        #endif
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
