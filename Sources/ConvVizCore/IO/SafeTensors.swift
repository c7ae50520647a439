import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON
/// header `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
/// {...}}`, then the tensors' bytes. Offsets are relative to the end of the header and
/// must tile the data exactly: no gaps, no overlaps.
public struct SafeTensorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let range: Range<Int>
    }

    public let file: String
    public let entries: [Entry]
    public let metadata: [String: String]
    private let payload: Data

    /// Parses and validates the header (the tensors are decoded on demand).
    public init(data: Data, file: String, limits: ReadLimits = .default) throws {
        self.file = file
        guard data.count >= 8 else { throw ReadError(file, .truncated, "safetensors file is \(data.count) bytes, shorter than its 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(limits.maxHeaderBytes) else {
            throw ReadError(file, .tooLarge, "safetensors header claims \(headerLength) bytes, more than the limit of \(limits.maxHeaderBytes)")
        }
        guard Int(headerLength) <= data.count - 8 else {
            throw ReadError(file, .truncated, "safetensors header claims \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerLength)))
        // Parsing JSON takes tens of times its size: count the entries in the bytes first.
        let declared = Self.occurrences(of: Array("\"data_offsets\"".utf8), in: headerData)
        guard declared <= limits.maxTensorCount else {
            throw ReadError(file, .tooLarge, "safetensors header declares \(declared) tensors, more than the limit of \(limits.maxTensorCount) (ReadLimits.maxTensorCount)")
        }
        // JSONSerialization keeps one of two equal keys silently: which tensor would win is an accident.
        if let duplicate = JSONDuplicateKeys.first(in: headerData) {
            switch duplicate.path.count {
            case 0: throw ReadError(file, .corrupt, "safetensors header names tensor '\(duplicate.key)' twice")
            case 1 where duplicate.path[0] == "__metadata__": throw ReadError(file, .corrupt, "safetensors __metadata__ gives key '\(duplicate.key)' twice")
            default: throw ReadError(file, .corrupt, "safetensors header gives '\(duplicate.key)' twice in \(duplicate.location)")
            }
        }
        guard let root = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw ReadError(file, .corrupt, "safetensors header is not a JSON object")
        }
        payload = data.subdata(in: (data.startIndex + 8 + Int(headerLength))..<data.endIndex)
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in root {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw ReadError(file, .corrupt, "__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw ReadError(file, .corrupt, "__metadata__ value '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let d = value as? [String: Any], let dtypeName = d["dtype"] as? String,
                  let shapeValues = d["shape"] as? [Any], let offsets = d["data_offsets"] as? [Any], offsets.count == 2 else {
                throw ReadError(file, .corrupt, "tensor '\(name)': header entry needs dtype, shape and data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw ReadError(file, .unsupported, "tensor '\(name)': unknown dtype '\(dtypeName)'") }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw ReadError(file, .badShape, "tensor '\(name)': shape must be non-negative integers")
            }
            guard let count = boundedElementCount(shape, limit: limits.maxElements) else {
                throw ReadError(file, .tooLarge, "tensor '\(name)': \(elementLimitReason(shape, limit: limits.maxElements))")
            }
            guard let begin = (offsets[0] as? NSNumber)?.int64Value, let end = (offsets[1] as? NSNumber)?.int64Value,
                  begin >= 0, end >= begin, end <= Int64(payload.count) else {
                throw ReadError(file, .corrupt, "tensor '\(name)': data_offsets \(offsets) outside the \(payload.count)-byte data")
            }
            // Checked: a raised element limit must not let count x size overflow.
            guard let bytes = checkedProduct([count, dtype.size]), Int(end - begin) == bytes else {
                throw ReadError(file, .badShape, "tensor '\(name)': shape \(shape) of \(dtypeName) needs \(checkedProduct([count, dtype.size]).map(String.init) ?? "more than \(Int.max)") bytes, offsets give \(end - begin)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: Int(begin)..<Int(end)))
        }
        // The ranges must tile the data: sorted by start, each begins where the last ended.
        let sorted = entries.sorted { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        var cursor = 0
        for e in sorted {
            if e.range.lowerBound < cursor { throw ReadError(file, .corrupt, "tensor '\(e.name)': its data overlaps another tensor's") }
            if e.range.lowerBound > cursor { throw ReadError(file, .corrupt, "tensor '\(e.name)': gap in the data before it") }
            cursor = e.range.upperBound
        }
        guard cursor == payload.count else { throw ReadError(file, .corrupt, "\(payload.count - cursor) bytes after the last tensor") }
        self.entries = sorted
        self.metadata = metadata
    }

    /// How many times `needle` occurs in `haystack` (without overlaps).
    static func occurrences(of needle: [UInt8], in haystack: Data) -> Int {
        haystack.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in
            guard let base = raw.baseAddress, let first = needle.first else { return 0 }
            var count = 0, offset = 0
            // memchr to each candidate first byte, memcmp for the rest: C speed in a debug build too.
            while offset + needle.count <= raw.count, let hit = memchr(base + offset, Int32(first), raw.count - offset - needle.count + 1) {
                let at = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, needle, needle.count) == 0 { count += 1; offset = at + needle.count } else { offset = at + 1 }
            }
            return count
        }
    }

    public init(contentsOf url: URL, limits: ReadLimits = .default) throws {
        try self.init(data: try FileReading.read(url), file: url.path, limits: limits)
    }

    public var names: [String] { entries.map(\.name) }

    /// The named tensor, converted to Float32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ReadError(file, .missingTensor, "no tensor named '\(name)' (has: \(names.sorted().joined(separator: ", ")))")
        }
        let count = e.shape.reduce(1, *)
        let values = payload.withUnsafeBytes { raw in
            e.dtype.decode(UnsafeRawBufferPointer(rebasing: raw[e.range]), count: count)
        }
        return Tensor(shape: e.shape, data: values)
    }

    /// Serializes Float32 tensors (in the order given) and string metadata.
    /// Extra entries with another dtype (such as BatchNorm's `num_batches_tracked`, an
    /// int64 scalar that PyTorch expects) go in `int64Scalars`.
    public static func encode(_ tensors: [(String, Tensor)], int64Scalars: [(String, Int64)] = [],
                              metadata: [String: String] = [:]) -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        var payload = Data()
        for (name, t) in tensors {
            let bytes = littleEndianBytes(t.data)
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes.count]] as [String: Any]
            payload.append(bytes)
            offset += bytes.count
        }
        for (name, v) in int64Scalars {
            header[name] = ["dtype": "I64", "shape": [Int](), "data_offsets": [offset, offset + 8]] as [String: Any]
            withUnsafeBytes(of: v.littleEndian) { payload.append(contentsOf: $0) }
            offset += 8
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        // Strings, numbers and arrays of them: always serializable.
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(payload)
        return out
    }
}
