import CZlib

/// PNG files built chunk by chunk, for reader tests: valid ones, and broken ones on
/// purpose (a header that claims more than the data holds, a bad IDAT).
enum HandMadePNG {
    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        var out = withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + t + body
        let crc = (t + body).withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        out += withUnsafeBytes(of: crc.bigEndian) { Array($0) }
        return out
    }

    /// An 8-bit gray (or, with `rgb`, colour) image with every sample `value`; the
    /// stored rows stop at 64x64, so a larger header makes a file that claims more than
    /// it holds. `idat` replaces the image data.
    static func uniform(width: UInt32, height: UInt32, rgb: Bool = false, value: UInt8 = 7, idat: [UInt8]? = nil) -> [UInt8] {
        var ihdr = withUnsafeBytes(of: width.bigEndian) { Array($0) } + withUnsafeBytes(of: height.bigEndian) { Array($0) }
        ihdr += [8, rgb ? 2 : 0, 0, 0, 0]  // 8-bit gray or RGB
        let row = Int(min(width, 64)) * (rgb ? 3 : 1)
        let raw = (0..<Int(min(height, 64))).flatMap { _ in [UInt8(0)] + [UInt8](repeating: value, count: row) }
        var compressed = [UInt8](repeating: 0, count: raw.count + 64)
        var size = uLongf(compressed.count)
        _ = compress(&compressed, &size, raw, uLong(raw.count))
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat ?? Array(compressed.prefix(Int(size)))) + chunk("IEND", [])
    }
}
