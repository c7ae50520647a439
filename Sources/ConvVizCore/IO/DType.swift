import Foundation

/// Element types ConvViz reads from weight files; every one is converted to Float32.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// Little-endian elements at `raw` converted to Float.
    func decode(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = i * size
            switch self {
            case .f32: out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian)
            case .f64: out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian))
            case .f16: out[i] = Float(halfBits: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian)
            case .bf16: out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian) << 16)
            case .i64: out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
            case .i32: out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
            case .i16: out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
            case .i8: out[i] = Float(raw.load(fromByteOffset: o, as: Int8.self))
            case .u8: out[i] = Float(raw.load(fromByteOffset: o, as: UInt8.self))
            case .bool: out[i] = raw.load(fromByteOffset: o, as: UInt8.self) != 0 ? 1 : 0
            }
        }
        return out
    }
}

extension Float {
    /// IEEE half precision bits to Float (portable: no Float16 on every platform).
    init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F), frac = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(frac) / 1024 / 16384  // subnormal: frac * 2^-24
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (frac << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
        }
    }
}

/// Little-endian Float32 bytes of a tensor.
func littleEndianBytes(_ values: [Float]) -> Data {
    var data = Data(count: values.count * 4)
    data.withUnsafeMutableBytes { out in
        for (i, v) in values.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
    }
    return data
}
