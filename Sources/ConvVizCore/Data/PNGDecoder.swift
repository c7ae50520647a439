import CPNG
import Foundation

/// Reads PNG files through libpng's simplified API (`png_image_*`), which reports errors
/// as status codes rather than by `longjmp` (which Swift cannot catch).
///
/// Any PNG (1-16 bit, gray, gray+alpha, RGB, RGBA, palette, interlaced) becomes a
/// `[C, H, W]` tensor in [0, 1] with C = 1 (gray) or 3 (colour); alpha is composited
/// onto black, which is what a network trained on opaque images sees as "nothing".
public enum PNGDecoder {
    public struct Header: Equatable, Sendable {
        public let width: Int
        public let height: Int
        /// 1 or 3 after decoding (alpha removed).
        public let channels: Int
        public let hasAlpha: Bool
        public let sixteenBit: Bool
    }

    public static func header(_ data: Data, file: String, limits: ReadLimits = .default) throws -> Header {
        try withImage(data, file: file, limits: limits) { image in
            header(of: image)
        }
    }

    public static func decode(_ data: Data, file: String, limits: ReadLimits = .default) throws -> Tensor {
        try withImage(data, file: file, limits: limits) { image -> Result<Tensor, ReadError> in
            let h = header(of: image)
            // 16-bit files are read as 16-bit (libpng's "linear" format: for a file without
            // gAMA/sRGB chunks these are the stored values); 8-bit files as stored bytes.
            let color = h.channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
            image.format = color | (h.sixteenBit ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
            let count = h.width * h.height * h.channels
            let sampleSize = h.sixteenBit ? 2 : 1
            // Zeroed: where alpha is removed, libpng composites onto the buffer (black).
            var raw = [UInt8](repeating: 0, count: count * sampleSize)
            let ok = raw.withUnsafeMutableBytes { buf in png_image_finish_read(&image, nil, buf.baseAddress, 0, nil) }
            if ok == 0 || (image.warning_or_error & 0x03) > 1 {
                let m = message(image)
                let kind: ReadError.Kind = m.lowercased().contains("eof") || m.lowercased().contains("truncat") ? .truncated : .corrupt
                return .failure(ReadError(file, kind, "invalid PNG data: \(m)"))
            }
            // Interleaved HWC samples -> planar CHW floats in [0, 1].
            var t = Tensor(shape: [h.channels, h.height, h.width])
            let plane = h.width * h.height
            t.data.withUnsafeMutableBufferPointer { out in
                raw.withUnsafeBytes { src in
                    if h.sixteenBit {
                        let s16 = src.bindMemory(to: UInt16.self)
                        for i in 0..<plane { for c in 0..<h.channels { out[c * plane + i] = Float(s16[i * h.channels + c]) / 65535 } }
                    } else {
                        for i in 0..<plane { for c in 0..<h.channels { out[c * plane + i] = Float(src[i * h.channels + c]) / 255 } }
                    }
                }
            }
            return .success(t)
        }.get()
    }

    public static func decode(contentsOf url: URL, limits: ReadLimits = .default) throws -> Tensor {
        try decode(try FileReading.read(url), file: url.path, limits: limits)
    }

    private static func header(of image: png_image) -> Header {
        let color = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        return Header(width: Int(image.width), height: Int(image.height), channels: color ? 3 : 1,
                      hasAlpha: image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0,
                      sixteenBit: image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0)
    }

    private static func message(_ image: png_image) -> String {
        var m = image.message
        return withUnsafeBytes(of: &m) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Begins reading, checks the header against the limits, runs `body`, and always
    /// frees libpng's state.
    private static func withImage<T>(_ data: Data, file: String, limits: ReadLimits, _ body: (inout png_image) -> T) throws -> T {
        guard data.count >= 8, data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw ReadError(file, .badMagic, "not a PNG file (bad signature)")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let ok = data.withUnsafeBytes { buf in png_image_begin_read_from_memory(&image, buf.baseAddress, buf.count) }
        if ok == 0 {
            let m = message(image)
            let kind: ReadError.Kind = m.lowercased().contains("eof") || m.lowercased().contains("truncat") ? .truncated : .corrupt
            throw ReadError(file, kind, "invalid PNG: \(m)")
        }
        let pixels = checkedProduct([Int(image.width), Int(image.height)]) ?? Int.max
        guard image.width > 0, image.height > 0 else { throw ReadError(file, .badShape, "PNG has zero width or height") }
        guard pixels <= limits.maxPixels else {
            throw ReadError(file, .tooLarge, "PNG claims \(image.width)x\(image.height) pixels, more than the limit of \(limits.maxPixels)")
        }
        return body(&image)
    }
}
