import Foundation

/// Reads IDX files (the MNIST / Fashion-MNIST format), plain or gzip'd.
///
/// Layout: two zero bytes, a type byte (0x08 = unsigned byte), the number of
/// dimensions, then each dimension as a big-endian UInt32, then the data.
///
/// A gzip'd file is inflated a piece at a time: the header first, whose shape is checked
/// against `ReadLimits.maxElements` and `maxDataBytes`, then exactly the data it declares.
/// A 2 MB file declaring 2.8 GB is refused after inflating 16 bytes.
public enum IDXReader {
    public struct Array: Sendable {
        public let shape: [Int]
        public let bytes: [UInt8]
    }

    public static func read(_ url: URL, limits: ReadLimits = .default) throws -> Array {
        let raw = try FileReading.read(url)
        // A plain file holds its data: refused by size before a byte of it is copied.
        if !Gzip.isGzip(raw), raw.count > limits.maxDataBytes + 20 {
            throw ReadError(url.path, .tooLarge, "IDX file is \(raw.count) bytes, more than the limit of \(limits.maxDataBytes) (ReadLimits.maxDataBytes, --max-data-bytes)")
        }
        return try parse(raw, file: url.path, limits: limits)
    }

    public static func parse(_ raw: Data, file: String, limits: ReadLimits = .default) throws -> Array {
        if Gzip.isGzip(raw) {
            let stream = try Inflater(raw, file: file)
            return try parse(file: file, limits: limits) { try stream.read(upTo: $0) }
        }
        var cursor = raw.startIndex
        return try parse(file: file, limits: limits) { count in
            let end = raw.index(cursor, offsetBy: min(count, raw.endIndex - cursor))
            defer { cursor = end }
            return [UInt8](raw[cursor..<end])
        }
    }

    /// `next(n)`: up to `n` more bytes of the (inflated) file, fewer only at its end.
    private static func parse(file: String, limits: ReadLimits, next: (Int) throws -> [UInt8]) throws -> Array {
        let start = try next(4)
        guard start.count == 4 else { throw ReadError(file, .truncated, "IDX header is \(start.count) bytes, needs at least 4") }
        guard start[0] == 0, start[1] == 0 else { throw ReadError(file, .badMagic, "not an IDX file (magic starts \(start[0]) \(start[1]), expected 0 0)") }
        guard start[2] == 0x08 else { throw ReadError(file, .unsupported, String(format: "IDX element type 0x%02x is not supported (only 0x08, unsigned byte)", start[2])) }
        let rank = Int(start[3])
        guard rank >= 1 && rank <= 4 else { throw ReadError(file, .badShape, "IDX rank \(rank) (expected 1 to 4)") }
        let dims = try next(4 * rank)
        guard dims.count == 4 * rank else { throw ReadError(file, .truncated, "IDX header needs \(4 + 4 * rank) bytes, file has \(4 + dims.count)") }
        let shape = (0..<rank).map { i in (0..<4).reduce(0) { $0 << 8 | Int(dims[4 * i + $1]) } }
        guard let count = boundedElementCount(shape, limit: limits.maxElements) else {
            throw ReadError(file, .tooLarge, "IDX \(elementLimitReason(shape, limit: limits.maxElements))")
        }
        guard count <= limits.maxDataBytes else {
            throw ReadError(file, .tooLarge, "IDX shape \(shape) declares \(count) bytes of data, more than the limit of \(limits.maxDataBytes) (ReadLimits.maxDataBytes, --max-data-bytes)")
        }
        let body = try next(count)
        guard body.count == count else {
            throw ReadError(file, .truncated, "IDX shape \(shape) needs \(count) data bytes, file has \(body.count)")
        }
        let extra = try next(1 << 16)
        guard extra.isEmpty else {
            throw ReadError(file, .badShape, "IDX shape \(shape) needs \(count) data bytes, file has more (at least \(count + extra.count))")
        }
        return Array(shape: shape, bytes: body)
    }
}
