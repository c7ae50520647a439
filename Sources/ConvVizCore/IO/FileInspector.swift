import Foundation

/// Describes any file ConvViz reads, through the same readers every command uses, so a
/// file `inspect` accepts is a file the other commands accept.
public enum FileInspector {
    public enum Kind: String, Sendable { case png, npy, safetensors, idx, cifar, architecture, onnx }

    /// The kind, from the extension first and the leading bytes second.
    public static func kind(of url: URL, data: Data) -> Kind? {
        let name = url.lastPathComponent.lowercased()
        if name.hasSuffix(".png") { return .png }
        if name.hasSuffix(".npy") { return .npy }
        if name.hasSuffix(".safetensors") { return .safetensors }
        if name.hasSuffix(".onnx") { return .onnx }
        if name.hasSuffix(".json") { return .architecture }
        if name.hasSuffix(".bin") { return .cifar }
        if name.contains("ubyte") || name.hasSuffix(".idx") || name.hasSuffix(".gz") { return .idx }
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
        if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
        if head.starts(with: [0, 0, 8]) || head.starts(with: [0x1F, 0x8B]) { return .idx }
        if head.first == UInt8(ascii: "{") { return .architecture }
        switch ModelFileFormat.detect(head: data.prefix(ModelFileFormat.headLength), fileExtension: url.pathExtension) {
        case .onnx: return .onnx
        case .safetensors: return .safetensors
        default: return nil
        }
    }

    /// The largest file of a kind that `describe` reads: training data by the data limit,
    /// an architecture by 16 MiB, weights by the model file limit.
    static func maxBytes(_ kind: Kind, _ limits: ReadLimits) -> Int {
        switch kind {
        case .cifar, .idx: limits.maxDataBytes + 64
        case .architecture: 16 << 20
        case .png, .npy, .safetensors, .onnx: limits.maxModelFileBytes
        }
    }

    /// What `describe` reads, for messages.
    static let knownFormats = ".png, .npy, .safetensors, .onnx, IDX, CIFAR-10 .bin or architecture .json"

    public static func describe(_ url: URL, limits: ReadLimits = .default) throws -> String {
        let file = url.path
        // The leading bytes first: a PyTorch checkpoint is named as one, whatever its name.
        let format = try ModelFileFormat.detect(url)
        if format.isPyTorch { throw ReadError(file, .unsupportedFormat, ModelFileFormat.pytorchMessage) }
        if format == .onnx { return describe(try ONNXFile(contentsOf: url, limits: limits)) }
        // The kind from the leading bytes, then the file measured against that kind's
        // budget before it is read (a sparse 614 MB "CIFAR" file is refused unread).
        guard let kind = kind(of: url, data: try FileReading.head(url, count: ModelFileFormat.headLength)) else {
            throw ReadError(file, .unsupported, "unknown file format (expected \(knownFormats))")
        }
        let data = try FileReading.read(url, maxBytes: maxBytes(kind, limits), what: "\(kind.rawValue) file")
        switch kind {
        case .onnx:
            return describe(try ONNXFile(data: data, file: file, limits: limits))
        case .png:
            let h = try PNGDecoder.header(data, file: file, limits: limits)
            _ = try PNGDecoder.decode(data, file: file, limits: limits)  // the pixels too, not just the header
            return "\(file): PNG \(h.width)x\(h.height), \(h.channels == 3 ? "colour" : "gray")\(h.hasAlpha ? " with alpha" : ""), \(h.sixteenBit ? "16" : "8")-bit; read as [\(h.channels), \(h.height), \(h.width)]"
        case .npy:
            let h = try NPY.header(data, file: file, limits: limits)
            return "\(file): NumPy array \(h.descr) \(h.shape)"
        case .idx:
            let a = try IDXReader.parse(data, file: file, limits: limits)
            // [N, H, W] images (or [N, C, H, W]) must have area; labels ([N]) may be none.
            if a.shape.count >= 3, a.shape.dropFirst().contains(0) {
                throw ReadError(file, .badShape, "IDX images \(a.shape) have a zero dimension; an image needs at least one pixel")
            }
            return "\(file): IDX unsigned bytes \(a.shape)\(Gzip.isGzip(data) ? " (gzip)" : "")"
        case .cifar:
            let set = try CIFARReader.parse(data, file: file, limits: limits)
            let counts = (0..<10).map { c in set.labels.filter { $0 == c }.count }
            return "\(file): CIFAR-10 batch, \(set.count) images [3, 32, 32], labels per class \(counts)"
        case .safetensors:
            guard format == .safetensors else {
                throw ReadError(file, .unsupported, "unknown file format (expected \(knownFormats)); this is not a safetensors file")
            }
            let st = try SafeTensorsFile(data: data, file: file, limits: limits)
            var lines = ["\(file): safetensors, \(st.entries.count) tensors"]
            for e in st.entries { lines.append("  \(e.name)  \(e.dtype.rawValue) \(e.shape)") }
            for (k, v) in st.metadata.sorted(by: { $0.key < $1.key }) where k != "convviz.architecture" {
                lines.append("  metadata \(k) = \(v.count > 160 ? String(v.prefix(160)) + "..." : v)")
            }
            if st.metadata["convviz.architecture"] != nil {
                // The header alone: inspect never builds the network or decodes its weights.
                let ckpt = try Checkpoint.header(of: st, file: file)
                let table: ShapeTable
                do { table = try ShapeTable(ckpt.architecture) } catch let e as ShapeError { throw ReadError(file, .badShape, "architecture metadata: \(e.description)") }
                lines.append("  ConvViz checkpoint of '\(ckpt.architecture.name)', step \(ckpt.step)")
                lines.append(contentsOf: table.render(.table).split(separator: "\n").map { "  " + $0 })
            }
            return lines.joined(separator: "\n")
        case .architecture:
            let arch: Architecture
            do { arch = try Architecture(json: data) } catch let e as ArchitectureError { throw ReadError(file, .corrupt, e.description) }
            let table: ShapeTable
            do { table = try ShapeTable(arch) } catch let e as ShapeError { throw ReadError(file, .badShape, e.description) }
            return "\(file): architecture '\(arch.name)', input \(arch.input), \(arch.layers.count) layers\n" + table.render(.table)
        }
    }

    /// An ONNX model: producer, opset, inputs and outputs, op types with counts,
    /// initializers and parameters; then ConvViz's import of it (its shape table), or why
    /// it cannot be imported.
    public static func describe(_ model: ONNXFile) -> String {
        func shape(_ s: [Int?]?) -> String { s.map { "[" + $0.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]" } ?? "(no shape)" }
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        var lines = ["\(model.file): ONNX model\(producer.isEmpty ? "" : " from \(producer)"), opset \(model.opsetVersion), IR version \(model.irVersion)"]
        for v in model.inputs { lines.append("  input '\(v.name)' \(shape(v.shape))") }
        for v in model.outputs { lines.append("  output '\(v.name)' \(shape(v.shape))") }
        lines.append("  \(model.nodes.count) nodes: " + model.opTypeCounts.map { "\($0.opType) \($0.count)" }.joined(separator: ", "))
        let statistics = model.runningStatisticCount
        // Exporters store identical tensors once (a zero bias shared by several layers):
        // the stored count can be below the network's, which the shape table gives.
        lines.append("  \(model.initializerTensors.count) initializers holding \(model.parameterCount) stored parameter values"
                     + (statistics > 0 ? " (and \(statistics) BatchNorm running statistics)" : "")
                     + "; the network's parameter count is the shape table's total")
        do {
            let imported = try ONNXImport(model)
            let arch = imported.architecture
            lines.append("  ConvViz architecture: input \(arch.input), \(arch.layers.count) layers"
                         + (imported.droppedOutputOperation.map { "; the final \($0) is left out (ConvViz works on the logits before it)" } ?? ""))
            do {
                lines.append(contentsOf: try ShapeTable(arch).render(.table).split(separator: "\n").map { "  " + $0 })
            } catch {
                lines.append("  (no shape table: \(error))")
            }
        } catch let e as ONNXImportError {
            lines.append("  not importable: \(e.message)")
        } catch {
            lines.append("  not importable: \(error)")
        }
        return lines.joined(separator: "\n")
    }
}
