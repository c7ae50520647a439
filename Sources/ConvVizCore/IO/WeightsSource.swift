import Foundation

/// A weight tensor named on the command line: `FILE.npy`, `FILE.safetensors[:TENSOR]`,
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

    /// The tensor and its name. For safetensors: the named tensor, `NAME.weight` for a
    /// layer name, or else the first 4-D tensor.
    public func load(limits: ReadLimits = .default) throws -> (name: String, tensor: Tensor) {
        let url = fileURL
        if url.pathExtension.lowercased() == "npy" {
            return (url.deletingPathExtension().lastPathComponent, try NPY.read(contentsOf: url, limits: limits))
        }
        let file = try SafeTensorsFile(contentsOf: url, limits: limits)
        if let tensorName {
            if file.names.contains(tensorName) { return (tensorName, try file.tensor(tensorName)) }
            if file.names.contains(tensorName + ".weight") { return (tensorName + ".weight", try file.tensor(tensorName + ".weight")) }
            throw ReadError(url.path, .missingTensor, "no tensor or layer '\(tensorName)' (has: \(file.names.joined(separator: ", ")))")
        }
        guard let first = file.entries.first(where: { $0.shape.count == 4 }) else {
            throw ReadError(url.path, .missingTensor, "no 4-D tensor; name one as FILE:TENSOR (has: \(file.names.joined(separator: ", ")))")
        }
        return (first.name, try file.tensor(first.name))
    }
}
