import CZlib
import Foundation

/// Inflating gzip (or zlib) streams with zlib, bounded by a byte limit so that a
/// decompression bomb is refused rather than allocated.
public enum Gzip {
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    public static func inflate(_ data: Data, file: String, limit: Int) throws -> Data {
        var stream = z_stream()
        // 15 + 32: accept gzip or zlib headers, detected automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ReadError(file, .corrupt, "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        return try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) -> Data in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk - Int(stream.avail_out)
                if output.count + produced > limit {
                    throw ReadError(file, .tooLarge, "compressed data inflates past the limit of \(limit) bytes")
                }
                output.append(contentsOf: buffer[0..<produced])
                switch status {
                case Z_STREAM_END:
                    return output
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 {
                        throw ReadError(file, .truncated, "compressed stream ends early (truncated file)")
                    }
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 { throw ReadError(file, .truncated, "compressed stream ends early (truncated file)") }
                default:
                    let msg = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw ReadError(file, .corrupt, "bad compressed data: \(msg)")
                }
            }
        }
    }
}
