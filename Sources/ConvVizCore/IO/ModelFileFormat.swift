import Foundation

/// What a weights or model file is, recognised from its first bytes, with the file name's
/// extension deciding only where the bytes do not: so that a reader can say "this is a
/// PyTorch pickle" instead of "corrupt safetensors header".
public enum ModelFileFormat: String, Sendable, CaseIterable {
    case onnx, safetensors, npy, pytorchZip, pytorchLegacyPickle, json, png, unknown

    /// How many leading bytes `detect` looks at.
    public static let headLength = 512

    /// A name for messages.
    public var displayName: String {
        switch self {
        case .onnx: "ONNX model"
        case .safetensors: "safetensors file"
        case .npy: "NumPy .npy array"
        case .pytorchZip: "PyTorch zip checkpoint"
        case .pytorchLegacyPickle: "PyTorch pickle checkpoint"
        case .json: "JSON file"
        case .png: "PNG image"
        case .unknown: "file of unknown format"
        }
    }

    public var isPyTorch: Bool { self == .pytorchZip || self == .pytorchLegacyPickle }

    /// What ConvViz says of a PyTorch checkpoint.
    public static let pytorchMessage =
        "PyTorch pickle checkpoints are not read; save a state dict with safetensors.torch.save_file or export with torch.onnx.export"

    /// The format of a file whose leading bytes are `head` (at least `headLength` of them
    /// where the file has that many) and whose name ends in `.fileExtension`.
    public static func detect(head: Data, fileExtension: String) -> ModelFileFormat {
        let b = [UInt8](head.prefix(headLength))
        let ext = fileExtension.lowercased()
        let torchExtensions: Set<String> = ["pt", "pth", "bin", "ckpt", "pkl"]

        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
        if b.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
        if b.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            // torch.save writes a zip whose first entry is `<archive>/data.pkl`.
            if let name = firstZipEntryName(b), name.hasSuffix("/data.pkl") || name == "data.pkl" { return .pytorchZip }
            return torchExtensions.contains(ext) ? .pytorchZip : .unknown
        }
        // Pickle protocol 2-5 (torch's legacy format opens with a pickled magic number).
        if b.count >= 2, b[0] == 0x80, (2...5).contains(b[1]) { return .pytorchLegacyPickle }
        if isSafeTensors(b) { return .safetensors }
        if isONNX(b) { return .onnx }
        if let first = b.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            return .json
        }
        // The extension decides only where the bytes cannot: a protobuf has no magic, and
        // a file too short for its magic is left to its reader to call truncated.
        switch ext {
        case "onnx": return .onnx
        case "safetensors" where b.count < 9: return .safetensors
        case "npy" where b.count < 6: return .npy
        case "png" where b.count < 4: return .png
        case "json": return .json
        default: return .unknown
        }
    }

    /// The format of the file at `url`, reading only its first bytes.
    public static func detect(_ url: URL) throws -> ModelFileFormat {
        detect(head: try FileReading.head(url, count: headLength), fileExtension: url.pathExtension)
    }

    /// An 8-byte little-endian header length, then a JSON object.
    private static func isSafeTensors(_ b: [UInt8]) -> Bool {
        guard b.count >= 9, b[8] == UInt8(ascii: "{") else { return false }
        let length = b[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return length >= 2 && length < 1 << 40
    }

    /// A protobuf `ModelProto` opening with `ir_version` (field 1, varint: tag 0x08), a
    /// small version, then another ModelProto field's tag.
    private static func isONNX(_ b: [UInt8]) -> Bool {
        guard b.count >= 3, b[0] == 0x08, (1...64).contains(b[1]) else { return false }
        // producer_name, producer_version, domain (2-4, strings), model_version (5, varint),
        // doc_string (6), graph (7), opset_import (8), metadata_props (14), ...
        return [0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0xA2].contains(b[2])
    }

    /// The name in the zip's first local file header.
    private static func firstZipEntryName(_ b: [UInt8]) -> String? {
        guard b.count >= 30 else { return nil }
        let length = Int(b[26]) | Int(b[27]) << 8
        guard length > 0, 30 + length <= b.count else { return nil }
        return String(decoding: b[30..<(30 + length)], as: UTF8.self)
    }
}
