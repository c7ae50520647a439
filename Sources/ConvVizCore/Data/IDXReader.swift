import Foundation

/// Reads IDX files (the MNIST / Fashion-MNIST format), plain or gzip'd.
///
/// Layout: two zero bytes, a type byte (0x08 = unsigned byte), the number of
/// dimensions, then each dimension as a big-endian UInt32, then the data.
public enum IDXReader {
    public struct Array: Sendable {
        public let shape: [Int]
        public let bytes: [UInt8]
    }

    public static func read(_ url: URL, limits: ReadLimits = .default) throws -> Array {
        try parse(try FileReading.read(url), file: url.path, limits: limits)
    }

    public static func parse(_ raw: Data, file: String, limits: ReadLimits = .default) throws -> Array {
        let data = Gzip.isGzip(raw) ? try Gzip.inflate(raw, file: file, limit: limits.maxInflatedBytes) : raw
        let b = [UInt8](data)
        guard b.count >= 4 else { throw ReadError(file, .truncated, "IDX header is \(b.count) bytes, needs at least 4") }
        guard b[0] == 0, b[1] == 0 else { throw ReadError(file, .badMagic, "not an IDX file (magic starts \(b[0]) \(b[1]), expected 0 0)") }
        guard b[2] == 0x08 else { throw ReadError(file, .unsupported, String(format: "IDX element type 0x%02x is not supported (only 0x08, unsigned byte)", b[2])) }
        let rank = Int(b[3])
        guard rank >= 1 && rank <= 4 else { throw ReadError(file, .badShape, "IDX rank \(rank) (expected 1 to 4)") }
        let headerSize = 4 + 4 * rank
        guard b.count >= headerSize else { throw ReadError(file, .truncated, "IDX header needs \(headerSize) bytes, file has \(b.count)") }
        var shape: [Int] = []
        for i in 0..<rank {
            let o = 4 + 4 * i
            shape.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        guard let count = checkedProduct(shape), count <= limits.maxElements else {
            throw ReadError(file, .tooLarge, "IDX shape \(shape) exceeds the limit of \(limits.maxElements) elements")
        }
        guard b.count - headerSize == count else {
            let kind: ReadError.Kind = b.count - headerSize < count ? .truncated : .badShape
            throw ReadError(file, kind, "IDX shape \(shape) needs \(count) data bytes, file has \(b.count - headerSize)")
        }
        return Array(shape: shape, bytes: Swift.Array(b[headerSize...]))
    }
}
