import CZlib
import Foundation

/// Inflating gzip (or zlib) streams with zlib, bounded by a byte limit so that a
/// decompression bomb is refused rather than allocated.
public enum Gzip {
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    /// The whole stream, refused as soon as it passes `limit` bytes (never more than
    /// `limit` plus one 1 MB chunk is held).
    public static func inflate(_ data: Data, file: String, limit: Int) throws -> Data {
        let stream = try Inflater(data, file: file)
        var output = Data()
        while true {
            let chunk = try stream.read(upTo: 1 << 20)
            if chunk.isEmpty { return output }
            guard output.count + chunk.count <= limit else {
                throw ReadError(file, .tooLarge, "compressed data inflates past the limit of \(limit) bytes")
            }
            output.append(contentsOf: chunk)
        }
    }
}

/// A gzip/zlib stream read a piece at a time, so a reader can inflate a header, check
/// the sizes it declares against its limits, and only then inflate exactly the data.
public final class Inflater {
    private var stream = z_stream()
    private let input: Data
    private let file: String
    private var ended = false

    public init(_ data: Data, file: String) throws {
        input = data
        self.file = file
        // 15 + 32: accept gzip or zlib headers, detected automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ReadError(file, .corrupt, "zlib could not start")
        }
    }

    deinit { inflateEnd(&stream) }

    /// Up to `count` inflated bytes; fewer only at the end of the stream (empty after it).
    public func read(upTo count: Int) throws -> [UInt8] {
        guard count > 0, !ended else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        var produced = 0
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.bindMemory(to: Bytef.self).baseAddress
            try out.withUnsafeMutableBufferPointer { buffer in
                while produced < count, !ended {
                    let consumed = Int(stream.total_in)
                    stream.next_in = UnsafeMutablePointer(mutating: base.map { $0 + consumed })
                    let available = raw.count - consumed
                    stream.avail_in = uInt(min(available, Int(UInt32.max)))
                    let want = min(count - produced, Int(UInt32.max))
                    stream.next_out = buffer.baseAddress! + produced
                    stream.avail_out = uInt(want)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let made = want - Int(stream.avail_out)
                    produced += made
                    switch status {
                    case Z_STREAM_END:
                        ended = true
                    case Z_OK:
                        if made == 0 && stream.avail_in == 0 { throw ReadError(file, .truncated, "compressed stream ends early (truncated file)") }
                    case Z_BUF_ERROR:
                        if stream.avail_in == 0 { throw ReadError(file, .truncated, "compressed stream ends early (truncated file)") }
                    default:
                        let msg = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                        throw ReadError(file, .corrupt, "bad compressed data: \(msg)")
                    }
                }
            }
        }
        if produced < count { out.removeLast(count - produced) }
        return out
    }
}
