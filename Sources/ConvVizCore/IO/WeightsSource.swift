import Foundation

/// A weight tensor named on the command line: `FILE.npy`, `FILE.safetensors[:TENSOR]`,
/// `MODEL.onnx[:INITIALIZER]`,
/// or a checkpoint / run directory with a layer (`RUN:conv1`) or tensor name.
public struct WeightsSource: Sendable {
    public let path: String
    public let tensorName: String?

    /// Splits `PATH[:NAME]` (a `:` that is part of an existing path is kept).
    public init(parsing text: String) {
        if FileManager.default.fileExists(atPath: text) { path = text; tensorName = nil; return }
        if let colon = text.lastIndex(of: ":"), colon != text.startIndex {
            path = String(text[..<colon])
            let name = String(text[text.index(after: colon)...])
            tensorName = name.isEmpty ? nil : name
        } else {
            path = text
            tensorName = nil
        }
    }

    /// The file to read: a directory means its `checkpoint.safetensors`.
    public var fileURL: URL {
        var isDir: ObjCBool = false
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return url.appendingPathComponent("checkpoint.safetensors")
        }
        return url
    }

    /// The tensor and its name. For safetensors and ONNX (initializers): the named tensor,
    /// `NAME.weight` for a layer name, or else the first 4-D tensor. The format is
    /// recognised from the file's first bytes, so a PyTorch checkpoint or a file of another
    /// kind is named as such rather than reported as a corrupt safetensors file.
    ///
    /// A tensor with a zero dimension is refused: it holds no filter, and a figure laid
    /// out by its other dimensions (2^29 mosaic cells of no channel) never ends.
    public func load(limits: ReadLimits = .default) throws -> (name: String, tensor: Tensor) {
        let loaded = try loadAnyShape(limits: limits)
        guard loaded.tensor.shape.allSatisfy({ $0 >= 1 }) else {
            throw ReadError(fileURL.path, .badShape, "tensor '\(loaded.name)' has shape \(loaded.tensor.shape), with a zero dimension: it holds no weights")
        }
        return loaded
    }

    private func loadAnyShape(limits: ReadLimits) throws -> (name: String, tensor: Tensor) {
        let url = fileURL
        var format = try ModelFileFormat.detect(url)
        // A .npy without NumPy's magic is reported by the NPY reader ("bad magic"); any
        // other unrecognised file is called unknown, never a corrupt safetensors file.
        if format == .unknown, url.pathExtension.lowercased() == "npy" { format = .npy }
        switch format {
        case .npy:
            return (url.deletingPathExtension().lastPathComponent, try NPY.read(contentsOf: url, limits: limits))
        case .safetensors:
            let file = try SafeTensorsFile(contentsOf: url, limits: limits)
            return try pick(from: file.entries.map { ($0.name, $0.shape) }, in: url) { try file.tensor($0) }
        case .onnx:
            let model = try ONNXFile(contentsOf: url, limits: limits)
            let tensors = model.initializerTensors.filter { $0.values != nil }
            return try pick(from: tensors.map { ($0.name, $0.shape) }, in: url) { name in
                guard let t = tensors.first(where: { $0.name == name })?.values else { throw ReadError(url.path, .missingTensor, "no initializer '\(name)'") }
                return t
            }
        case .pytorchZip, .pytorchLegacyPickle:
            throw ReadError(url.path, .unsupportedFormat, ModelFileFormat.pytorchMessage)
        case let format:
            throw ReadError(url.path, .unsupported, "unknown file format (expected weights in .safetensors, .npy or .onnx; this is \(format == .unknown ? "none of them" : "a \(format.displayName)"))")
        }
    }

    /// The named tensor, `NAME.weight`, or the first 4-D one, of `entries` (name, shape).
    private func pick(from entries: [(name: String, shape: [Int])], in url: URL, _ tensor: (String) throws -> Tensor) throws -> (name: String, tensor: Tensor) {
        let names = entries.map(\.name)
        if let tensorName {
            if names.contains(tensorName) { return (tensorName, try tensor(tensorName)) }
            if names.contains(tensorName + ".weight") { return (tensorName + ".weight", try tensor(tensorName + ".weight")) }
            throw ReadError(url.path, .missingTensor, "no tensor or layer '\(tensorName)' (has: \(NameListing.abbreviated(names)))")
        }
        guard let first = entries.first(where: { $0.shape.count == 4 }) else {
            throw ReadError(url.path, .missingTensor, "no 4-D tensor; name one as FILE:TENSOR (has: \(NameListing.abbreviated(names)))")
        }
        return (first.name, try tensor(first.name))
    }
}
