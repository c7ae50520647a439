import Foundation

/// NumPy's `.npy` format: `\x93NUMPY`, a version, a header length, a Python-literal
/// header `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, then the data.
public enum NPY {
    public struct Header: Equatable, Sendable {
        public let dtype: DType
        public let descr: String
        public let shape: [Int]
        public let dataOffset: Int
    }

    public static func header(_ data: Data, file: String, limits: ReadLimits = .default) throws -> Header {
        let b = [UInt8](data.prefix(min(data.count, 65_536 + 12)))
        guard b.count >= 10 else { throw ReadError(file, .truncated, ".npy file is \(data.count) bytes, shorter than its header") }
        guard b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else { throw ReadError(file, .badMagic, "not a .npy file (bad magic)") }
        let major = b[6]
        let (length, start): (Int, Int)
        switch major {
        case 1: (length, start) = (Int(b[8]) | Int(b[9]) << 8, 10)
        case 2, 3:
            guard b.count >= 12 else { throw ReadError(file, .truncated, ".npy header is cut short") }
            (length, start) = (Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24, 12)
        default: throw ReadError(file, .unsupported, ".npy version \(major) is not supported")
        }
        guard length <= 65_536 else { throw ReadError(file, .tooLarge, ".npy header of \(length) bytes is too large") }
        guard data.count >= start + length, b.count >= start + length else { throw ReadError(file, .truncated, ".npy header claims \(length) bytes; the file ends first") }
        let text = String(decoding: b[start..<(start + length)], as: UTF8.self)
        guard let descr = field(text, "descr").flatMap({ $0.split(separator: "'").first.map(String.init) }) else {
            throw ReadError(file, .corrupt, ".npy header has no 'descr': \(text)")
        }
        if let fortran = field(text, "fortran_order"), fortran.hasPrefix("True") {
            throw ReadError(file, .unsupported, ".npy array is in Fortran order; save it with numpy.ascontiguousarray first")
        }
        guard let shapeText = field(text, "shape"), shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else {
            throw ReadError(file, .corrupt, ".npy header has no 'shape': \(text)")
        }
        let parts = shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for p in parts {
            guard let v = Int(p.hasSuffix("L") ? String(p.dropLast()) : p), v >= 0 else { throw ReadError(file, .badShape, ".npy shape entry '\(p)' is not a size") }
            shape.append(v)
        }
        let dtypes: [String: DType] = ["<f4": .f32, "<f8": .f64, "<f2": .f16, "<i8": .i64, "<i4": .i32, "<i2": .i16, "|i1": .i8, "|u1": .u8, "|b1": .bool]
        guard let dtype = dtypes[descr] else { throw ReadError(file, .unsupported, ".npy dtype '\(descr)' is not supported (little-endian float or int only)") }
        guard let count = boundedElementCount(shape, limit: limits.maxElements) else {
            throw ReadError(file, .tooLarge, ".npy \(elementLimitReason(shape, limit: limits.maxElements))")
        }
        // Checked: a raised element limit must not let count x size overflow.
        guard let bytes = checkedProduct([count, dtype.size]), data.count - start - length == bytes else {
            let held = data.count - start - length
            throw ReadError(file, checkedProduct([count, dtype.size]).map { held < $0 } ?? true ? .truncated : .badShape,
                            ".npy shape \(shape) of \(descr) needs \(checkedProduct([count, dtype.size]).map(String.init) ?? "more than \(Int.max)") data bytes, file has \(held)")
        }
        return Header(dtype: dtype, descr: descr, shape: shape, dataOffset: start + length)
    }

    /// The value text after `'key':` in the header dictionary.
    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        return header[r.upperBound...].trimmingCharacters(in: .whitespaces)
    }

    public static func read(_ data: Data, file: String, limits: ReadLimits = .default) throws -> Tensor {
        let h = try header(data, file: file, limits: limits)
        let count = h.shape.reduce(1, *)
        let values = data.withUnsafeBytes { raw in h.dtype.decode(UnsafeRawBufferPointer(rebasing: raw[h.dataOffset...]), count: count) }
        return Tensor(shape: h.shape, data: values)
    }

    public static func read(contentsOf url: URL, limits: ReadLimits = .default) throws -> Tensor {
        try read(try FileReading.read(url), file: url.path, limits: limits)
    }

    /// Version 1.0, little-endian float32, C order.
    public static func encode(_ t: Tensor) -> Data {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Pad so magic + version + length + header is a multiple of 64, ending in '\n'.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(littleEndianBytes(t.data))
        return out
    }
}
