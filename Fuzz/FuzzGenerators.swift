// Structured generators for the classes of issue 30, driven by the fuzzer's bytes: the
// bytes choose values (shapes with zero and huge factors, names that repeat under different
// spellings, counters at and around the integer limits) and each target checks the
// readers' verdict against the rule, trapping (a crash the fuzzer reports) when a reader
// accepts what it must refuse or refuses what it must accept.
//   shapes:     .npy, safetensors, IDX and ONNX tensors of one generated shape, and the
//               training data an architecture of that input asks for (DataSource.checkFits)
//   duplicates: safetensors headers, architectures and ONNX graphs whose names may repeat
//   counters:   step plans (epochs x steps per epoch, --max-steps) and checkpoint step/epoch
import Foundation

/// The fuzzer's bytes read as a stream of choices (zeros once they run out).
struct FuzzBytes {
    let bytes: [UInt8]
    var at = 0
    init(_ data: Data) { bytes = [UInt8](data) }
    mutating func byte() -> Int {
        defer { at += 1 }
        return at < bytes.count ? Int(bytes[at]) : 0
    }
    var remaining: Data { Data(bytes[min(at, bytes.count)...]) }

    /// A size as a hostile file gives it: zero, small, a power of two or one off it, the
    /// 32-bit and 64-bit limits.
    mutating func dimension() -> Int {
        switch byte() % 9 {
        case 0: 0
        case 1: byte()
        case 2: 1 << (byte() % 63)
        case 3: (1 << (byte() % 63)) - 1
        case 4: (1 << (byte() % 62)) + 1
        case 5: Int.max
        case 6: Int(UInt32.max)
        case 7: byte() << 8 | byte()
        default: 1
        }
    }

    /// A counter near a limit, or small.
    mutating func counter() -> Int {
        let bases = [0, 1, 2, 7, 128, 1 << 31, 1 << 53, (1 << 53) / 3, 1 << 62, Int.max / 2, Int.max]
        return bases[byte() % bases.count] &+ (byte() % 5 - 2)
    }
}

/// A model of `graph` (IR 8, opset 17), serialized.
func onnxBytes(_ graph: Onnx_GraphProto) throws -> Data {
    var m = Onnx_ModelProto()
    m.irVersion = 8
    m.graph = graph
    var opset = Onnx_OperatorSetIdProto()
    opset.version = 17
    m.opsetImport = [opset]
    return try m.serializedBytes()
}

func nonzeroProduct(_ shape: [Int]) -> Double { shape.filter { $0 != 0 }.reduce(1.0) { $0 * Double($1) } }

enum FuzzShapes {
    static func run(_ data: Data) throws {
        var b = FuzzBytes(data)
        let shape = (0..<(b.byte() % 5 + 1)).map { _ in b.dimension() }
        let allowed = nonzeroProduct(shape) <= Double(fuzzLimits.maxElements)
        let dims = shape.map(String.init).joined(separator: ", ")
        // Each reader: accepted only within the limit, and then with the right count.
        func verdict(_ name: String, _ given: [Int], _ read: () throws -> Int) {
            let ok = nonzeroProduct(given) <= Double(fuzzLimits.maxElements)
            do {
                let count = try read()
                if !ok || count != (given.contains(0) ? 0 : given.reduce(1, *)) { fatalError("\(name) accepted \(given) as \(count) values") }
            } catch let e as ReadError {
                if ok && e.kind == .tooLarge { fatalError("\(name) refused \(given) within the limit: \(e)") }
                if !ok && e.kind != .tooLarge { fatalError("\(name) refused \(given) for the wrong reason: \(e)") }
            } catch {
                fatalError("\(name): not a ReadError: \(error)")
            }
        }
        let header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims),), }\n".utf8)
        verdict("npy", shape) {
            try NPY.read(Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header), file: "f.npy", limits: fuzzLimits).count
        }
        verdict("safetensors", shape) {
            let json = Array(#"{"t": {"dtype": "F32", "shape": [\#(dims)], "data_offsets": [0, 0]}}"#.utf8)
            var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
            bytes += json
            return try SafeTensorsFile(data: Data(bytes), file: "f.safetensors", limits: fuzzLimits).tensor("t").count
        }
        let idxShape = shape.prefix(4).map { min($0, Int(UInt32.max)) }
        verdict("idx", idxShape) {
            let bytes: [UInt8] = [0, 0, 8, UInt8(idxShape.count)] + idxShape.flatMap { withUnsafeBytes(of: UInt32($0).bigEndian) { Array($0) } }
            let a = try IDXReader.parse(Data(bytes), file: "f.idx", limits: fuzzLimits)
            return a.shape.contains(0) ? 0 : a.bytes.count
        }
        let onnxShape = shape.map { min($0, Int(Int64.max)) }
        verdict("onnx", onnxShape) {
            var t = Onnx_TensorProto()
            t.name = "w"
            t.dims = onnxShape.map(Int64.init)
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            t.rawData = Data()
            var g = Onnx_GraphProto()
            g.initializer = [t]
            // Refused for another reason than size (no raw data, no nodes): the size passed.
            do { _ = try ONNXFile(data: try onnxBytes(g), file: "f.onnx", limits: fuzzLimits) } catch let e as ReadError where e.kind != .tooLarge {}
            return onnxShape.contains(0) ? 0 : onnxShape.reduce(1, *)
        }
        // Training data sized from an architecture input of the first three sizes.
        if shape.count >= 3 {
            let input = Array(shape.prefix(3)), count = b.dimension()
            for source in [DataSource.samples, .folder("/nonexistent")] {
                let n = source == .samples ? count : 1
                do {
                    try source.checkFits(input: input, samplePatches: count, limits: fuzzLimits)
                    if nonzeroProduct([n] + input) > Double(fuzzLimits.maxElements) || input.contains(0) || n == 0 {
                        fatalError("\(source): \(n) images of \(input) accepted")
                    }
                } catch is ReadError {} catch is TrainingSession.Mismatch {}
            }
        }
        _ = allowed
    }
}

enum FuzzDuplicates {
    /// A name from a small pool (so that repeats are common), spelled plainly or with its
    /// first character escaped.
    static func name(_ b: inout FuzzBytes) -> (decoded: String, spelled: String) {
        let pool = ["a", "w", "conv1.weight", "层", "q\"", "b\\c"]
        let n = pool[b.byte() % pool.count]
        let plain = n.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        guard b.byte() % 2 == 1, let first = n.unicodeScalars.first, first != "\\", first != "\"" else { return (n, plain) }
        return (n, String(format: "\\u%04x", first.value) + String(plain.dropFirst()))
    }

    static func run(_ data: Data) throws {
        var b = FuzzBytes(data)
        let names = (0..<(b.byte() % 5 + 1)).map { _ in name(&b) }
        let repeated = Set(names.map(\.decoded)).count < names.count
        // safetensors: one F32 scalar per name, tiled.
        let entries = names.enumerated().map { i, n in #""\#(n.spelled)": {"dtype": "F32", "shape": [], "data_offsets": [\#(4 * i), \#(4 * i + 4)]}"# }
        let json = Array(("{" + entries.joined(separator: ", ") + "}").utf8)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        bytes += json + [UInt8](repeating: 0, count: 4 * names.count)
        do {
            let file = try SafeTensorsFile(data: Data(bytes), file: "d.safetensors", limits: fuzzLimits)
            if repeated { fatalError("safetensors accepted \(names.map(\.spelled)) as \(file.names)") }
        } catch let e as ReadError {
            // Without a repeat, a refusal can only be the tiling (JSON order lost), never "twice".
            if repeated != e.message.contains("twice") { fatalError("safetensors: \(names.map(\.spelled)): \(e)") }
        }
        // Architecture: one relu per name.
        let layers = names.map { #"{"type": "relu", "name": "\#($0.spelled)"}"# }
        do {
            _ = try Architecture(json: Data(#"{"name": "d", "input": [1, 4, 4], "layers": [\#(layers.joined(separator: ", "))]}"#.utf8))
            if repeated { fatalError("architecture accepted \(names.map(\.spelled))") }
        } catch let e as ArchitectureError {
            // The first name met a second time is the one named.
            var seen = Set<String>()
            let first = names.first { !seen.insert($0.decoded).inserted }
            if let first, !"\(e)".contains("'\(first.decoded)'") { fatalError("architecture: \(names.map(\.spelled)): \(e)") }
            if first == nil, "\(e)".contains("twice") || "\(e)".contains("two layers") { fatalError("architecture: \(names.map(\.spelled)): \(e)") }
        } catch {}
        // ONNX: the names split between initializers and node outputs.
        var g = Onnx_GraphProto()
        for (i, n) in names.enumerated() {
            if b.byte() % 2 == 0 {
                var t = Onnx_TensorProto()
                t.name = n.decoded
                t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                t.rawData = Data(count: 4)
                g.initializer.append(t)
            } else {
                var node = Onnx_NodeProto()
                node.opType = "Relu"; node.name = "n\(i)"; node.input = ["x"]; node.output = [n.decoded]
                g.node.append(node)
            }
        }
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        g.input = [input]
        do {
            _ = try ONNXFile(data: try onnxBytes(g), file: "d.onnx", limits: fuzzLimits)
            if repeated { fatalError("onnx accepted \(names.map(\.decoded)) defined twice") }
        } catch let e as ReadError {
            if repeated != e.message.contains("twice") { fatalError("onnx: \(names.map(\.decoded)): \(e)") }
        }
        // And the scanner itself on whatever bytes follow.
        _ = JSONDuplicateKeys.first(in: b.remaining)
    }
}

enum FuzzCounters {
    static let checkpoint: (model: Sequential, data: Data) = {
        let arch = try! Architecture(json: Data(#"{"name": "c", "input": [1, 2, 2], "layers": [{"type": "flatten"}, {"type": "linear", "out": 2}]}"#.utf8))
        let model = try! arch.makeModel(seed: 0)
        return (model, Checkpoint(model: model, architecture: arch, standardization: Standardization(mean: [0], std: [1])).encoded(model: model))
    }()

    static func run(_ data: Data) throws {
        var b = FuzzBytes(data)
        var s = TrainingSettings()
        s.epochs = max(1, b.counter())
        s.batchSize = max(1, b.counter())
        s.maxSteps = b.byte() % 2 == 0 ? nil : max(1, b.counter())
        let n = max(1, b.counter())
        let perEpoch = max(1, n / min(s.batchSize, n))
        let end = min(Double(s.maxSteps ?? Int.max), Double(s.epochs) * Double(perEpoch))
        do {
            let plan = try s.stepPlan(trainingImages: n)
            if plan.perEpoch != perEpoch || plan.total > TrainingSettings.stepLimit || abs(Double(plan.total) - end) > end * 1e-15 {
                fatalError("step plan \(plan) for \(s.epochs) epochs, batch \(s.batchSize), max \(String(describing: s.maxSteps)), \(n) images")
            }
        } catch is TrainingSettings.CounterError {
            if end < Double(TrainingSettings.stepLimit) { fatalError("refused \(s.epochs) epochs, batch \(s.batchSize), max \(String(describing: s.maxSteps)), \(n) images") }
        }
        // A checkpoint's step and epoch as text near the limits.
        let texts = ["\(b.counter())", "\(b.counter())", "-\(b.counter())", "9223372036854775808", "1e3", "", " 1", "+5"]
        let stepText = texts[b.byte() % texts.count], epochText = texts[b.byte() % texts.count]
        let file = try SafeTensorsFile(data: checkpoint.data, file: "c.safetensors")
        var metadata = file.metadata
        metadata["convviz.step"] = stepText
        metadata["convviz.epoch"] = epochText
        let rewritten = try SafeTensorsFile(data: SafeTensorsFile.encode(checkpoint.model.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: metadata), file: "c.safetensors")
        let step = Int(stepText), epoch = Int(epochText)
        let valid = step.map { $0 >= 0 && $0 <= TrainingSettings.stepLimit } == true && epoch.map { $0 >= 0 && ($0 <= step! || $0 <= 1) } == true
        do {
            let header = try Checkpoint.header(of: rewritten, file: "c.safetensors")
            if !valid || header.step != step { fatalError("checkpoint step '\(stepText)' epoch '\(epochText)' accepted") }
        } catch let e as ReadError {
            if valid { fatalError("checkpoint step '\(stepText)' epoch '\(epochText)' refused: \(e)") }
        }
    }
}
