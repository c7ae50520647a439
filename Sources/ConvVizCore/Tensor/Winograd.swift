/// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016): a 3x3 convolution computed 2x2 outputs at a
/// time from 4x4 input tiles with 16 multiplications instead of 36.
///
/// With `U = G g G^T` (each 3x3 kernel as a 4x4 matrix), `V = B^T d B` (each 4x4 input
/// tile) and `Y = A^T [U ⊙ V] A`, the sum over input channels of the element-wise
/// products is, for each of the 16 positions, one matrix product
/// `M[xi] [C_out, tiles] = U[xi] [C_out, C_in] x V[xi] [C_in, tiles]`: 2.25x fewer
/// multiply-adds than im2col's GEMM, all of them in OpenBLAS.
///
/// Layouts are planar, so the transforms run eight tiles along a row at a time: a padded
/// input plane's row of 8 tiles is two SIMD16 loads (even and odd columns), and the 2x2
/// outputs of 8 tiles are 16 consecutive floats of two output rows.
enum Winograd {
    /// Transformed kernels `u[xi][o][i]` (16 x outputs x inputs) from 3x3 kernels given
    /// by `kernel(o, i, row, column)`.
    static func transformKernels(outputs: Int, inputs: Int, into u: UnsafeMutablePointer<Float>,
                                 _ kernel: (Int, Int, Int, Int) -> Float) {
        let plane = outputs * inputs
        for o in 0..<outputs {
            for i in 0..<inputs {
                var g = [[Float]](repeating: [0, 0, 0], count: 3)
                for r in 0..<3 { for c in 0..<3 { g[r][c] = kernel(o, i, r, c) } }
                // G g: 4x3, with G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]].
                var gg = [[Float]](repeating: [0, 0, 0], count: 4)
                for c in 0..<3 {
                    gg[0][c] = g[0][c]
                    gg[1][c] = 0.5 * (g[0][c] + g[1][c] + g[2][c])
                    gg[2][c] = 0.5 * (g[0][c] - g[1][c] + g[2][c])
                    gg[3][c] = g[2][c]
                }
                for r in 0..<4 {
                    let row = [gg[r][0], 0.5 * (gg[r][0] + gg[r][1] + gg[r][2]), 0.5 * (gg[r][0] - gg[r][1] + gg[r][2]), gg[r][2]]
                    for c in 0..<4 { u[(r * 4 + c) * plane + o * inputs + i] = row[c] }
                }
            }
        }
    }

    /// Where a sample's tiles sit: tile `(i, j)` covers output rows `2i, 2i+1` and
    /// columns `2j, 2j+1`, and reads rows `2i..<2i+4`, columns `2j..<2j+4` of the
    /// padded plane (the convolution's zero padding at the top and left, zeros beyond).
    struct Geometry {
        let channels: Int, height: Int, width: Int
        let padding: Pair
        let outHeight: Int, outWidth: Int
        var tilesHigh: Int { (outHeight + 1) / 2 }
        var tilesWide: Int { (outWidth + 1) / 2 }
        var tiles: Int { tilesHigh * tilesWide }
        /// Tiles in whole groups of eight per tile row: the width a row's SIMD reads cover.
        var groupedTilesWide: Int { (tilesWide + 7) / 8 * 8 }
        var paddedHeight: Int { 2 * tilesHigh + 2 }
        var paddedWidth: Int { 2 * groupedTilesWide + 2 }
        var paddedPlane: Int { paddedHeight * paddedWidth }

        init(channels: Int, height: Int, width: Int, padding: Pair) {
            self.channels = channels; self.height = height; self.width = width; self.padding = padding
            outHeight = height + 2 * padding.h - 2
            outWidth = width + 2 * padding.w - 2
        }
    }

    /// Copies sample `x` (`[C, H, W]`) into the interior of `padded` (`C` planes of the
    /// geometry's padded size). Cells outside the interior are never written, so a
    /// buffer zeroed once stays padded.
    static func pad(_ x: UnsafePointer<Float>, _ g: Geometry, into padded: UnsafeMutablePointer<Float>) {
        // Rows past the padded plane (padding larger than the tiles need) are cut off.
        let rows = min(g.height, g.paddedHeight - g.padding.h), columns = min(g.width, g.paddedWidth - g.padding.w)
        for c in 0..<g.channels {
            for h in 0..<rows {
                (padded + c * g.paddedPlane + (h + g.padding.h) * g.paddedWidth + g.padding.w)
                    .update(from: x + (c * g.height + h) * g.width, count: columns)
            }
        }
    }

    /// `V = B^T d B` of every tile of one padded sample, written to `v[xi][c][first + t]`
    /// (`stride` floats per `[c]` row, `channels` rows per `xi`). Eight tiles per step;
    /// a row's last group writes up to seven lanes past its tiles, which later tiles
    /// overwrite or which fall in the row's slack (`stride` leaves eight floats).
    static func transformInput(_ padded: UnsafePointer<Float>, _ g: Geometry, into v: UnsafeMutablePointer<Float>, first: Int, stride: Int) {
        let matrix = g.channels * stride
        for c in 0..<g.channels {
            let plane = padded + c * g.paddedPlane
            for ti in 0..<g.tilesHigh {
                let row = plane + 2 * ti * g.paddedWidth
                var tj = 0
                while tj < g.tilesWide {
                    // d[r][q]: column q of the 4x4 tile, row r, for 8 tiles.
                    @inline(__always) func columns(_ r: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        let p = row + r * g.paddedWidth + 2 * tj
                        let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
                        let b = UnsafeRawPointer(p + 2).loadUnaligned(as: SIMD16<Float>.self)
                        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                    }
                    // Along each row: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
                    @inline(__always) func across(_ d: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        (d.0 - d.2, d.1 + d.2, d.2 - d.1, d.1 - d.3)
                    }
                    let e0 = across(columns(0)), e1 = across(columns(1)), e2 = across(columns(2)), e3 = across(columns(3))
                    let out = v + c * stride + first + ti * g.tilesWide + tj
                    @inline(__always) func store(_ xi: Int, _ value: SIMD8<Float>) { Vector.store(value, out + xi * matrix) }
                    // Down each column, the same combination of rows.
                    store(0, e0.0 - e2.0); store(1, e0.1 - e2.1); store(2, e0.2 - e2.2); store(3, e0.3 - e2.3)
                    store(4, e1.0 + e2.0); store(5, e1.1 + e2.1); store(6, e1.2 + e2.2); store(7, e1.3 + e2.3)
                    store(8, e2.0 - e1.0); store(9, e2.1 - e1.1); store(10, e2.2 - e1.2); store(11, e2.3 - e1.3)
                    store(12, e1.0 - e3.0); store(13, e1.1 - e3.1); store(14, e1.2 - e3.2); store(15, e1.3 - e3.3)
                    tj += 8
                }
            }
        }
    }

    /// `Y = A^T M A` for every tile of one sample from `m[xi][k][first + t]`, plus
    /// `bias[k]`, rectified when asked, into the sample's output planes `y` (`[K, H', W']`).
    static func transformOutput(_ m: UnsafePointer<Float>, _ g: Geometry, outputs: Int, first: Int, stride: Int,
                                bias: UnsafePointer<Float>?, rectify: Bool, into y: UnsafeMutablePointer<Float>) {
        let matrix = outputs * stride
        let (oh, ow) = (g.outHeight, g.outWidth)
        for k in 0..<outputs {
            let shift = SIMD8<Float>(repeating: bias?[k] ?? 0)
            let plane = y + k * oh * ow
            for ti in 0..<g.tilesHigh {
                var tj = 0
                while tj < g.tilesWide {
                    let src = m + k * stride + first + ti * g.tilesWide + tj
                    @inline(__always) func load(_ xi: Int) -> SIMD8<Float> { Vector.load(src + xi * matrix) }
                    // Down each column: (m0 + m1 + m2, m1 - m2 - m3).
                    let m4 = load(4), m5 = load(5), m6 = load(6), m7 = load(7)
                    let m8 = load(8), m9 = load(9), m10 = load(10), m11 = load(11)
                    let r0 = (load(0) + m4 + m8, load(1) + m5 + m9, load(2) + m6 + m10, load(3) + m7 + m11)
                    let r1 = (m4 - m8 - load(12), m5 - m9 - load(13), m6 - m10 - load(14), m7 - m11 - load(15))
                    // Along each row, the same.
                    var y00 = r0.0 + r0.1 + r0.2 + shift, y01 = r0.1 - r0.2 - r0.3 + shift
                    var y10 = r1.0 + r1.1 + r1.2 + shift, y11 = r1.1 - r1.2 - r1.3 + shift
                    if rectify {
                        // max(0, y) with NaN kept, as ReLU does.
                        let zero = SIMD8<Float>(repeating: 0)
                        y00.replace(with: zero, where: y00 .<= 0); y01.replace(with: zero, where: y01 .<= 0)
                        y10.replace(with: zero, where: y10 .<= 0); y11.replace(with: zero, where: y11 .<= 0)
                    }
                    let top = plane + 2 * ti * ow + 2 * tj
                    let count = min(16, ow - 2 * tj)
                    if count == 16 && 2 * ti + 1 < oh {
                        Vector.store16(interleave(y00, y01), top)
                        Vector.store16(interleave(y10, y11), top + ow)
                    } else {
                        let a = interleave(y00, y01), b = interleave(y10, y11)
                        for q in 0..<count { top[q] = a[q] }
                        if 2 * ti + 1 < oh { for q in 0..<count { top[ow + q] = b[q] } }
                    }
                    tj += 8
                }
            }
        }
    }

    /// `(a0, b0, a1, b1, ...)`.
    @inline(__always)
    static func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
        SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
    }
}
