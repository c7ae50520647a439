import Foundation

/// Describes any file ConvViz reads, through the same readers every command uses, so a
/// file `inspect` accepts is a file the other commands accept.
public enum FileInspector {
    public enum Kind: String, Sendable { case png, npy, safetensors, idx, cifar, architecture }

    /// The kind, from the extension first and the leading bytes second.
    public static func kind(of url: URL, data: Data) -> Kind? {
        let name = url.lastPathComponent.lowercased()
        if name.hasSuffix(".png") { return .png }
        if name.hasSuffix(".npy") { return .npy }
        if name.hasSuffix(".safetensors") { return .safetensors }
        if name.hasSuffix(".json") { return .architecture }
        if name.hasSuffix(".bin") { return .cifar }
        if name.contains("ubyte") || name.hasSuffix(".idx") || name.hasSuffix(".gz") { return .idx }
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
        if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
        if head.starts(with: [0, 0, 8]) || head.starts(with: [0x1F, 0x8B]) { return .idx }
        if head.first == UInt8(ascii: "{") { return .architecture }
        return nil
    }

    public static func describe(_ url: URL, limits: ReadLimits = .default) throws -> String {
        let data = try FileReading.read(url)
        let file = url.path
        guard let kind = kind(of: url, data: data) else {
            throw ReadError(file, .unsupported, "unknown file type (ConvViz reads .png, .npy, .safetensors, IDX, CIFAR-10 .bin and architecture .json)")
        }
        switch kind {
        case .png:
            let h = try PNGDecoder.header(data, file: file, limits: limits)
            _ = try PNGDecoder.decode(data, file: file, limits: limits)  // the pixels too, not just the header
            return "\(file): PNG \(h.width)x\(h.height), \(h.channels == 3 ? "colour" : "gray")\(h.hasAlpha ? " with alpha" : ""), \(h.sixteenBit ? "16" : "8")-bit; read as [\(h.channels), \(h.height), \(h.width)]"
        case .npy:
            let h = try NPY.header(data, file: file, limits: limits)
            return "\(file): NumPy array \(h.descr) \(h.shape)"
        case .idx:
            let a = try IDXReader.parse(data, file: file, limits: limits)
            return "\(file): IDX unsigned bytes \(a.shape)\(Gzip.isGzip(data) ? " (gzip)" : "")"
        case .cifar:
            let set = try CIFARReader.parse(data, file: file)
            let counts = (0..<10).map { c in set.labels.filter { $0 == c }.count }
            return "\(file): CIFAR-10 batch, \(set.count) images [3, 32, 32], labels per class \(counts)"
        case .safetensors:
            let st = try SafeTensorsFile(data: data, file: file, limits: limits)
            var lines = ["\(file): safetensors, \(st.entries.count) tensors"]
            for e in st.entries { lines.append("  \(e.name)  \(e.dtype.rawValue) \(e.shape)") }
            for (k, v) in st.metadata.sorted(by: { $0.key < $1.key }) where k != "convviz.architecture" {
                lines.append("  metadata \(k) = \(v.count > 160 ? String(v.prefix(160)) + "..." : v)")
            }
            if st.metadata["convviz.architecture"] != nil {
                let ckpt = try Checkpoint(contentsOf: url, limits: limits)
                lines.append("  ConvViz checkpoint of '\(ckpt.architecture.name)', step \(ckpt.step)")
                lines.append(contentsOf: try ShapeTable(ckpt.architecture).render(.table).split(separator: "\n").map { "  " + $0 })
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
}
