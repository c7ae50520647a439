/// Matrix transposes between channels-last `[pixels, channels]` and planar
/// `[channels, pixels]` blocks, the glue between convolution GEMMs and NCHW tensors.
enum Transpose {
    /// `dst[c * dstStride + p] = src[p * srcStride + c] + offset[c]` for `p < rows`,
    /// `c < columns` (`offset` nil adds nothing).
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, srcStride: Int,
                          into dst: UnsafeMutablePointer<Float>, dstStride: Int, adding offset: UnsafePointer<Float>? = nil) {
        // 8x8 tiles in registers; the ragged edges element by element.
        let fullRows = rows & ~7, fullColumns = columns & ~7
        var p = 0
        while p < fullRows {
            var c = 0
            while c < fullColumns {
                tile(src + (p &* srcStride &+ c), srcStride, dst + (c &* dstStride &+ p), dstStride, offset.map { $0 + c })
                c &+= 8
            }
            p &+= 8
        }
        for c in 0..<columns {
            let add = offset?[c] ?? 0
            let out = dst + c &* dstStride
            let firstRow = c < fullColumns ? fullRows : 0
            for p in firstRow..<rows { out[p] = src[p &* srcStride &+ c] + add }
        }
    }

    /// Transposes one 8x8 tile. Three rounds of "unzip" (even lanes, then odd lanes, of
    /// each pair of rows) rotate the 6 index bits by 3, which swaps row and column.
    @inline(__always)
    private static func tile(_ src: UnsafePointer<Float>, _ srcStride: Int, _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int,
                             _ offset: UnsafePointer<Float>?) {
        @inline(__always) func load(_ r: Int) -> SIMD8<Float> {
            UnsafeRawPointer(src + r &* srcStride).loadUnaligned(as: SIMD8<Float>.self)
        }
        var v = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
        for _ in 0..<3 {
            let a = SIMD16(lowHalf: v.0, highHalf: v.1), b = SIMD16(lowHalf: v.2, highHalf: v.3)
            let c = SIMD16(lowHalf: v.4, highHalf: v.5), d = SIMD16(lowHalf: v.6, highHalf: v.7)
            v = (a.evenHalf, b.evenHalf, c.evenHalf, d.evenHalf, a.oddHalf, b.oddHalf, c.oddHalf, d.oddHalf)
        }
        @inline(__always) func store(_ r: Int, _ x: SIMD8<Float>) {
            let value = offset.map { x + $0[r] } ?? x
            UnsafeMutableRawPointer(dst + r &* dstStride).storeBytes(of: value, as: SIMD8<Float>.self)
        }
        store(0, v.0); store(1, v.1); store(2, v.2); store(3, v.3)
        store(4, v.4); store(5, v.5); store(6, v.6); store(7, v.7)
    }
}
