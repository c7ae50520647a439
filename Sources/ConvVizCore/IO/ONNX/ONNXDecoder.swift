import Foundation
import SwiftProtobuf

/// The one place that reads the generated protobuf types (`onnx.pb.swift`): converts a
/// `ModelProto` into `ONNXFile`'s plain values, checking what the file claims before
/// allocating for it. Every error is a `ReadError` naming the file.
struct ONNXDecoder {
    let file: String
    let limits: ReadLimits

    struct Decoded {
        var irVersion = 0, opsetVersion = 0
        var producerName = "", producerVersion = "", graphName = ""
        var inputs: [ONNXFile.ValueInfo] = [], outputs: [ONNXFile.ValueInfo] = []
        var nodes: [ONNXFile.Node] = []
        var initializers: [ONNXTensor] = []
    }

    static let minimumOpset = 11

    func decode(_ data: Data) throws -> Decoded {
        var model = try parseModel(data)
        return try decode(model: &model)
    }

    /// The file's format and size checked, then parsed. `ONNXFile(contentsOf:)` lets the
    /// file's bytes go before `decode(model:)` converts the weights.
    func parseModel(_ data: Data) throws -> Onnx_ModelProto {
        let format = ModelFileFormat.detect(head: data.prefix(ModelFileFormat.headLength), fileExtension: URL(fileURLWithPath: file).pathExtension)
        if format.isPyTorch { throw ReadError(file, .unsupportedFormat, ModelFileFormat.pytorchMessage) }
        if format != .onnx && format != .unknown {
            throw ReadError(file, .badMagic, "not an ONNX model: this is a \(format.displayName)")
        }
        guard data.count <= limits.maxModelFileBytes else {
            throw ReadError(file, .tooLarge, "ONNX model is \(data.count) bytes, more than the limit of \(limits.maxModelFileBytes)")
        }
        guard !data.isEmpty else { throw ReadError(file, .truncated, "empty file: not an ONNX model") }
        return try parse(data)
    }

    /// Converts a parsed model, emptying it as it goes: each initializer's `raw_data` is
    /// released once converted, so the weights are in memory about once, not twice
    /// (ResNet-18's 47 MB: peak resident memory of `bench model` 184 -> see README).
    /// `inPlace`: the mapped file whose initializers' `raw_data` the parser skipped; each is
    /// converted from the mapping and its pages given back.
    func decode(model: inout Onnx_ModelProto, inPlace mapped: ONNXMappedModel? = nil) throws -> Decoded {
        guard model.hasIrVersion || model.hasGraph else {
            throw ReadError(file, .badMagic, "not an ONNX model (a protobuf message without ir_version or graph)")
        }
        guard model.hasGraph else { throw ReadError(file, .corrupt, "the ONNX model has no graph") }

        let defaultDomain = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let opset = defaultDomain.map(\.version).max() else {
            throw ReadError(file, .corrupt, "the ONNX model imports no opset of the default (ai.onnx) domain")
        }
        guard opset >= Self.minimumOpset else {
            throw ReadError(file, .unsupported, "opset \(opset): ConvViz reads opsets \(Self.minimumOpset) and up")
        }
        var out = Decoded()
        out.irVersion = Int(clamping: model.irVersion)
        out.opsetVersion = Int(clamping: opset)
        out.producerName = model.producerName
        out.producerVersion = model.producerVersion
        var graph = model.graph
        model = Onnx_ModelProto()  // the graph's only owner is now `graph`
        // torch.onnx.export's default writes large weights beside the model (MODEL.onnx.data).
        graph.initializer = try graph.initializer.map(inlined)
        try checkNoExternalData(graph)
        if let sparse = graph.sparseInitializer.first {
            throw ReadError(file, .unsupported, "sparse initializer '\(sparse.values.name)': ConvViz reads dense tensors only")
        }
        out.graphName = graph.name
        out.initializers.reserveCapacity(graph.initializer.count)
        for i in graph.initializer.indices {
            if graph.initializer[i].rawData.isEmpty, let bytes = mapped?.rawBytes(ofInitializer: i) { graph.initializer[i].rawData = bytes }
            out.initializers.append(try tensor(graph.initializer[i], name: graph.initializer[i].name))
            graph.initializer[i].rawData = Data()
            mapped?.releasePages(ofInitializer: i)
        }
        let initializerNames = Set(graph.initializer.map(\.name))
        out.inputs = graph.input.filter { !initializerNames.contains($0.name) }.map(valueInfo)
        out.outputs = graph.output.map(valueInfo)
        out.nodes = try graph.node.map(node)
        try checkSingleAssignment(out)
        return out
    }

    /// ONNX graphs are in single-assignment form: every value is defined once, as a graph
    /// input, an initializer or one node's output. A second definition would make which
    /// one a reader uses an accident of its order, so it is refused, naming the value.
    /// (Graph inputs may list initializers too: ONNX IR versions before 4 required it.)
    private func checkSingleAssignment(_ decoded: Decoded) throws {
        var definedBy: [String: String] = [:]
        for t in decoded.initializers where !t.name.isEmpty {
            if definedBy.updateValue("an initializer", forKey: t.name) != nil {
                throw ReadError(file, .corrupt, "initializer '\(t.name)' is given twice")
            }
        }
        for input in decoded.inputs where !input.name.isEmpty {
            if definedBy.updateValue("a graph input", forKey: input.name) != nil {
                throw ReadError(file, .corrupt, "graph input '\(input.name)' is given twice")
            }
        }
        for (i, n) in decoded.nodes.enumerated() {
            let label = n.name.isEmpty ? "node \(i) (\(n.opType))" : "node '\(n.name)'"
            for output in n.outputs where !output.isEmpty {
                if let other = definedBy.updateValue(label, forKey: output) {
                    throw ReadError(file, .corrupt, "value '\(output)' is defined twice: by \(other) and by \(label)")
                }
            }
        }
    }

    private func parse(_ data: Data) throws -> Onnx_ModelProto {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        do {
            return try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch BinaryDecodingError.truncated where ModelFileFormat.detect(head: data.prefix(ModelFileFormat.headLength), fileExtension: "") == .onnx {
            // It opens as a ModelProto does, so it was cut short (else it is no protobuf).
            throw ReadError(file, .truncated, "the ONNX model ends inside a protobuf field: the file is cut short")
        } catch BinaryDecodingError.messageDepthLimit {
            throw ReadError(file, .unsupported, "the ONNX model nests messages more than \(options.messageDepthLimit) deep")
        } catch let e as BinaryDecodingError {
            let why = switch e {
            case .truncated: "a field runs past the end of the file"
            case .invalidUTF8: "a string is not UTF-8"
            case .trailingGarbage: "bytes after the message"
            default: "malformed field"
            }
            throw ReadError(file, .badMagic, "not an ONNX model (not a protobuf message: \(why))")
        } catch {
            throw ReadError(file, .badMagic, "not an ONNX model (\(error))")
        }
    }

    // MARK: External data

    /// Files of external data read so far, by path (one mapping for all their tensors).
    private final class ExternalFiles { var data: [String: Data] = [:] }
    private let external = ExternalFiles()

    /// The tensor with its external bytes read in as `raw_data`: the file is named
    /// relative to the model's folder (never outside it), `offset` and `length` must lie
    /// inside the file and match the tensor's shape.
    private func inlined(_ t: Onnx_TensorProto) throws -> Onnx_TensorProto {
        guard t.dataLocation == .external else { return t }
        let entries = Dictionary(t.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let location = entries["location"], !location.isEmpty, !location.hasPrefix("/"),
              !location.split(separator: "/").contains("..") else {
            throw ReadError(file, .unsupported, "tensor '\(t.name)': external data location '\(entries["location"] ?? "")' must be a file beside the model")
        }
        let path = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(location).path
        let bytes: Data
        if let cached = external.data[path] { bytes = cached } else {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ReadError(file, .notFound, "tensor '\(t.name)' is stored in the external file '\(location)', which is missing (looked for \(path))")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            guard size <= limits.maxModelFileBytes else {
                throw ReadError(path, .tooLarge, "external data is \(size) bytes, more than the limit of \(limits.maxModelFileBytes)")
            }
            do { bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
                throw ReadError(path, .notFound, "cannot read external data: \(FileReading.reason(error))")
            }
            external.data[path] = bytes
        }
        guard let offset = Int(entries["offset"] ?? "0"), offset >= 0, offset <= bytes.count else {
            throw ReadError(path, .corrupt, "tensor '\(t.name)': offset \(entries["offset"] ?? "") outside the \(bytes.count)-byte file")
        }
        let length = Int(entries["length"] ?? "") ?? (bytes.count - offset)
        guard length >= 0, length <= bytes.count - offset else {
            throw ReadError(path, .truncated, "tensor '\(t.name)': \(length) bytes at offset \(offset) run past the end of the \(bytes.count)-byte file")
        }
        var copy = t
        copy.rawData = bytes.subdata(in: (bytes.startIndex + offset)..<(bytes.startIndex + offset + length))
        copy.dataLocation = .default
        copy.externalData = []
        return copy
    }

    /// Any tensor stored outside the file, in the graph or in a subgraph or attribute.
    private func checkNoExternalData(_ graph: Onnx_GraphProto) throws {
        for t in graph.initializer { try checkInline(t, name: t.name) }
        for t in graph.sparseInitializer { try checkInline(t.values, name: t.values.name) }
        for n in graph.node {
            for a in n.attribute {
                let label = a.hasT && !a.t.name.isEmpty ? a.t.name : "attribute '\(a.name)' of node '\(n.name)'"
                if a.hasT { try checkInline(a.t, name: label) }
                for t in a.tensors { try checkInline(t, name: t.name.isEmpty ? label : t.name) }
                if a.hasG { try checkNoExternalData(a.g) }
                for g in a.graphs { try checkNoExternalData(g) }
            }
        }
    }

    private func checkInline(_ t: Onnx_TensorProto, name: String) throws {
        guard t.dataLocation == .external || !t.externalData.isEmpty else { return }
        let location = t.externalData.first { $0.key == "location" }?.value ?? "?"
        throw ReadError(file, .unsupported,
                        "tensor '\(name)' is stored in an external file '\(location)'; ConvViz reads self-contained .onnx files: re-export with onnx.save_model(model, path, save_as_external_data=False)")
    }

    // MARK: Graph values

    private func valueInfo(_ v: Onnx_ValueInfoProto) -> ONNXFile.ValueInfo {
        guard case let .tensorType(t)? = v.type.value else { return ONNXFile.ValueInfo(name: v.name, shape: nil, elementType: nil) }
        let shape: [Int?]? = t.hasShape ? t.shape.dim.map { d in
            if case let .dimValue(n)? = d.value, n >= 0, n <= Int64(Int.max) { return Int(n) }
            return nil
        } : nil
        return ONNXFile.ValueInfo(name: v.name, shape: shape, elementType: Self.elementType(t.elemType))
    }

    private func node(_ n: Onnx_NodeProto) throws -> ONNXFile.Node {
        var attributes: [String: ONNXFile.Attribute] = [:]
        for a in n.attribute { attributes[a.name] = try attribute(a, node: n) }
        return ONNXFile.Node(name: n.name, opType: n.opType, domain: n.domain, inputs: n.input, outputs: n.output, attributes: attributes)
    }

    private func attribute(_ a: Onnx_AttributeProto, node n: Onnx_NodeProto) throws -> ONNXFile.Attribute {
        var type = a.type
        if type == .undefined {  // IR version 1 files leave the type out: infer it from the field set
            type = a.hasF ? .float : a.hasI ? .int : a.hasS ? .string : a.hasT ? .tensor : !a.floats.isEmpty ? .floats : !a.ints.isEmpty ? .ints : .undefined
        }
        switch type {
        case .float: return .float(a.f)
        case .int: return .int(a.i)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .floats: return .floats(a.floats)
        case .ints: return .ints(a.ints)
        case .tensor:
            let name = a.t.name.isEmpty ? (n.output.first ?? n.name) : a.t.name
            guard Self.elementType(a.t.dataType) != nil else { return .other("tensor of \(Self.typeName(a.t.dataType))") }
            return .tensor(try tensor(a.t, name: name))
        default: return .other("\(type)")
        }
    }

    // MARK: Tensors

    static func elementType(_ code: Int32) -> ONNXTensor.ElementType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float?: .float
        case .double?: .double
        case .float16?: .float16
        case .int64?: .int64
        case .int32?: .int32
        default: nil
        }
    }

    static func typeName(_ code: Int32) -> String {
        guard let t = Onnx_TensorProto.DataType(rawValue: Int(code)) else { return "type \(code)" }
        return "\(t)".uppercased()
    }

    /// Decodes an inline tensor: shape checked against the limits before anything is
    /// allocated, then the values from `raw_data` (little-endian) or the typed field.
    private func tensor(_ t: Onnx_TensorProto, name: String) throws -> ONNXTensor {
        try checkInline(t, name: name)
        guard let type = Self.elementType(t.dataType) else {
            throw ReadError(file, .unsupported, "tensor '\(name)': element type \(Self.typeName(t.dataType)) is not supported (ConvViz reads FLOAT, DOUBLE, FLOAT16, INT64 and INT32)")
        }
        guard !t.hasSegment else { throw ReadError(file, .unsupported, "tensor '\(name)' is stored in segments") }
        guard t.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }) else {
            throw ReadError(file, .badShape, "tensor '\(name)': shape \(t.dims) has a negative dimension")
        }
        let shape = t.dims.map { Int($0) }
        guard let count = boundedElementCount(shape, limit: limits.maxElements) else {
            throw ReadError(file, .tooLarge, "tensor '\(name)': \(elementLimitReason(shape, limit: limits.maxElements))")
        }
        let typeName = Self.typeName(t.dataType)

        if t.hasRawData {
            let size = type.byteSize
            guard t.rawData.count == count * size else {
                throw ReadError(file, .badShape, "tensor '\(name)': raw_data has \(t.rawData.count) bytes; shape \(shape) of \(typeName) needs \(count * size)")
            }
            switch type {
            case .float, .double, .float16:
                let dtype: DType = type == .float ? .f32 : type == .double ? .f64 : .f16
                let values = t.rawData.withUnsafeBytes { dtype.decode($0, count: count) }
                return ONNXTensor(name: name, elementType: type, shape: shape, values: Tensor(shape: shape, data: values), integers: nil)
            case .int64:
                let ints = t.rawData.withUnsafeBytes { raw in (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } }
                return integerTensor(name, type, shape, ints)
            case .int32:
                let ints = t.rawData.withUnsafeBytes { raw in (0..<count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) } }
                return integerTensor(name, type, shape, ints)
            }
        }

        func checkCount(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw ReadError(file, .badShape, "tensor '\(name)': \(field) has \(n) values; shape \(shape) needs \(count)")
            }
        }
        switch type {
        case .float:
            try checkCount(t.floatData.count, "float_data")
            return ONNXTensor(name: name, elementType: type, shape: shape, values: Tensor(shape: shape, data: t.floatData), integers: nil)
        case .double:
            try checkCount(t.doubleData.count, "double_data")
            return ONNXTensor(name: name, elementType: type, shape: shape, values: Tensor(shape: shape, data: t.doubleData.map { Float($0) }), integers: nil)
        case .float16:
            // FLOAT16 values sit in int32_data, one 16-bit pattern per entry.
            try checkCount(t.int32Data.count, "int32_data")
            let values = t.int32Data.map { Float(halfBits: UInt16(truncatingIfNeeded: $0)) }
            return ONNXTensor(name: name, elementType: type, shape: shape, values: Tensor(shape: shape, data: values), integers: nil)
        case .int64:
            try checkCount(t.int64Data.count, "int64_data")
            return integerTensor(name, type, shape, t.int64Data)
        case .int32:
            try checkCount(t.int32Data.count, "int32_data")
            return integerTensor(name, type, shape, t.int32Data.map { Int64($0) })
        }
    }

    private func integerTensor(_ name: String, _ type: ONNXTensor.ElementType, _ shape: [Int], _ ints: [Int64]) -> ONNXTensor {
        let exact = ints.allSatisfy { $0.magnitude <= 1 << 24 }
        return ONNXTensor(name: name, elementType: type, shape: shape,
                          values: exact ? Tensor(shape: shape, data: ints.map { Float($0) }) : nil, integers: ints)
    }
}

extension ONNXTensor.ElementType {
    /// Bytes per element in `raw_data`.
    var byteSize: Int {
        switch self {
        case .float, .int32: 4
        case .double, .int64: 8
        case .float16: 2
        }
    }
}
