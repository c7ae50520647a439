/// Winograd's minimal filtering F(2x2, r x r) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016) for 3x3 and 5x5 kernels: 2x2 outputs at a time
/// from `alpha x alpha` input tiles (`alpha = r + 1`) with `alpha^2` multiplications
/// instead of `4 r^2` (2.25x fewer for 3x3, 2.8x for 5x5). The matrices are in
/// `WinogradTransform`.
///
/// With `U = G g G^T` (each kernel), `V = B^T d B` (each input tile) and
/// `Y = A^T [U ⊙ V] A`, the sum over input channels of the element-wise products is, for
/// each of the `alpha^2` positions, one matrix product
/// `M[xi] [C_out, tiles] = U[xi] [C_out, C_in] x V[xi] [C_in, tiles]`, all in OpenBLAS.
/// The weight gradient is the same algebra run backwards:
/// `dU[xi] [C_out, C_in] = dM[xi] [C_out, tiles] x V[xi]^T` with `dM = A dY A^T` per tile,
/// then `dg = G^T dU G`.
///
/// Layouts are planar, so the transforms (`WinogradTiles`) run eight tiles along a row at
/// a time: column
/// `q` of 8 neighbouring tiles is the even or odd half of one SIMD16 load, and the 2x2
/// outputs of 8 tiles are 16 consecutive floats of two output rows.
enum Winograd {
    typealias Lanes = SIMD8<Float>

    /// Transformed kernels `u[xi][o][i]` (alpha^2 x outputs x inputs) from r x r kernels
    /// given by `kernel(o, i, row, column)`.
    static func transformKernels(_ t: WinogradTransform, outputs: Int, inputs: Int, into u: UnsafeMutablePointer<Float>,
                                 _ kernel: (Int, Int, Int, Int) -> Float) {
        let (r, alpha, plane) = (t.kernel, t.alpha, outputs * inputs)
        var g = [Float](repeating: 0, count: r * r), gg = [Float](repeating: 0, count: alpha * r)
        for o in 0..<outputs {
            for i in 0..<inputs {
                for a in 0..<r { for b in 0..<r { g[a * r + b] = kernel(o, i, a, b) } }
                // G g: [alpha, r]
                for a in 0..<alpha {
                    for b in 0..<r {
                        var s: Float = 0
                        for k in 0..<r { s += t.kernelMatrix[a * r + k] * g[k * r + b] }
                        gg[a * r + b] = s
                    }
                }
                // (G g) G^T: [alpha, alpha]
                for a in 0..<alpha {
                    for b in 0..<alpha {
                        var s: Float = 0
                        for k in 0..<r { s += gg[a * r + k] * t.kernelMatrix[b * r + k] }
                        u[(a * alpha + b) * plane + o * inputs + i] = s
                    }
                }
            }
        }
    }

    /// The adjoint of `transformKernels`: adds `G^T du G` of `du[xi][o][i]` (alpha^2 x
    /// outputs x inputs) to `dw` in weight order `[outputs, inputs, r, r]`.
    static func kernelGradient(_ t: WinogradTransform, _ du: UnsafePointer<Float>, outputs: Int, inputs: Int,
                               into dw: UnsafeMutablePointer<Float>) {
        let (r, alpha, plane) = (t.kernel, t.alpha, outputs * inputs)
        var d = [Float](repeating: 0, count: alpha * alpha), h = [Float](repeating: 0, count: r * alpha)
        for o in 0..<outputs {
            for i in 0..<inputs {
                for xi in 0..<alpha * alpha { d[xi] = du[xi * plane + o * inputs + i] }
                // G^T d: [r, alpha]
                for k in 0..<r {
                    for b in 0..<alpha {
                        var s: Float = 0
                        for a in 0..<alpha { s += t.kernelMatrix[a * r + k] * d[a * alpha + b] }
                        h[k * alpha + b] = s
                    }
                }
                // (G^T d) G: [r, r]
                let out = dw + (o * inputs + i) * r * r
                for k in 0..<r {
                    for l in 0..<r {
                        var s: Float = 0
                        for b in 0..<alpha { s += h[k * alpha + b] * t.kernelMatrix[b * r + l] }
                        out[k * r + l] += s
                    }
                }
            }
        }
    }

    /// Where a sample's tiles sit: tile `(i, j)` covers output rows `2i, 2i+1` and
    /// columns `2j, 2j+1`, and reads rows `2i..<2i+alpha`, columns `2j..<2j+alpha` of the
    /// padded plane (the convolution's zero padding at the top and left, zeros beyond).
    struct Geometry {
        let channels: Int, height: Int, width: Int
        let kernel: Int
        let padding: Pair
        let outHeight: Int, outWidth: Int
        var tilesHigh: Int { (outHeight + 1) / 2 }
        var tilesWide: Int { (outWidth + 1) / 2 }
        var tiles: Int { tilesHigh * tilesWide }
        /// Tiles in whole groups of eight per tile row: the width a row's SIMD reads cover.
        var groupedTilesWide: Int { (tilesWide + 7) / 8 * 8 }
        var paddedHeight: Int { 2 * tilesHigh + kernel - 1 }
        var paddedWidth: Int { 2 * groupedTilesWide + kernel - 1 }
        var paddedPlane: Int { paddedHeight * paddedWidth }

        init(channels: Int, height: Int, width: Int, kernel: Int, padding: Pair) {
            self.channels = channels; self.height = height; self.width = width; self.kernel = kernel; self.padding = padding
            outHeight = height + 2 * padding.h - kernel + 1
            outWidth = width + 2 * padding.w - kernel + 1
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

    /// Scratch for the transforms: three tiles' worth of `SIMD8`, and 16 floats for the
    /// partial rows at a map's right edge.
    struct Scratch {
        let lanes: UnsafeMutablePointer<Lanes>
        let edge: UnsafeMutablePointer<Float>
        init(_ t: WinogradTransform) {
            lanes = .allocate(capacity: 3 * t.alpha * t.alpha)
            edge = .allocate(capacity: 16)
        }
        func free() { lanes.deallocate(); edge.deallocate() }
    }

    /// One worker's buffers for a block of `stride - 8` tiles: a padded sample whose zero
    /// border is written once, the transformed input tiles `V[xi][C][tiles]`, the
    /// products (or output gradients) `M[xi][K][tiles]`, and the transforms' scratch.
    struct Workspace {
        let padded: UnsafeMutablePointer<Float>
        let inputTiles: UnsafeMutablePointer<Float>
        let products: UnsafeMutablePointer<Float>
        let scratch: Scratch

        init(_ t: WinogradTransform, _ g: Geometry, outputs: Int, stride: Int) {
            let paddedCount = g.channels * g.paddedPlane + 16, positions = t.alpha * t.alpha
            padded = .allocate(capacity: paddedCount)
            padded.initialize(repeating: 0, count: paddedCount)
            inputTiles = .allocate(capacity: positions * g.channels * stride)
            products = .allocate(capacity: positions * outputs * stride)
            scratch = Scratch(t)
        }
        func free() { padded.deallocate(); inputTiles.deallocate(); products.deallocate(); scratch.free() }
    }

    /// `V = B^T d B` of every tile of one padded sample, written to `v[xi][c][first + t]`
    /// (`stride` floats per `[c]` row, `channels` rows per `xi`). Eight tiles per step;
    /// a row's last group writes up to seven lanes past its tiles, which later tiles
    /// overwrite or which fall in the row's slack (`stride` leaves eight floats).
    static func transformInput<K: WinogradTiles>(_: K.Type, _ padded: UnsafePointer<Float>, _ g: Geometry, scratch: Scratch,
                                                 into v: UnsafeMutablePointer<Float>, first: Int, stride: Int) {
        let alpha = K.alpha, matrix = g.channels * stride
        let d = scratch.lanes, e = d + alpha * alpha, out = e + alpha * alpha
        for c in 0..<g.channels {
            let plane = padded + c * g.paddedPlane
            for ti in 0..<g.tilesHigh {
                let row = plane + 2 * ti * g.paddedWidth
                var tj = 0
                while tj < g.tilesWide {
                    // d[r][q]: column q of the tile, row r, for 8 tiles.
                    for r in 0..<alpha {
                        let p = row + r * g.paddedWidth + 2 * tj
                        var q = 0
                        while q < alpha {
                            let pair = UnsafeRawPointer(p + q).loadUnaligned(as: SIMD16<Float>.self)
                            d[r * alpha + q] = pair.evenHalf
                            d[r * alpha + q + 1] = pair.oddHalf
                            q += 2
                        }
                    }
                    // Along each row (d B), then down each column (B^T (d B)).
                    for r in 0..<alpha { K.input(d + r * alpha, 1, e + r * alpha, 1) }
                    for q in 0..<alpha { K.input(e + q, alpha, out + q, alpha) }
                    let dst = v + c * stride + first + ti * g.tilesWide + tj
                    for xi in 0..<alpha * alpha { Vector.store(out[xi], dst + xi * matrix) }
                    tj += 8
                }
            }
        }
    }

    /// `Y = A^T M A` for every tile of one sample from `m[xi][k][first + t]`, plus
    /// `bias[k]`, rectified when asked, into the sample's output planes `y` (`[K, H', W']`).
    static func transformOutput<K: WinogradTiles>(_: K.Type, _ m: UnsafePointer<Float>, _ g: Geometry, scratch: Scratch, outputs: Int,
                                                  first: Int, stride: Int, bias: UnsafePointer<Float>?, rectify: Bool,
                                                  into y: UnsafeMutablePointer<Float>) {
        let alpha = K.alpha, matrix = outputs * stride
        let (oh, ow) = (g.outHeight, g.outWidth)
        let tile = scratch.lanes, rows = tile + alpha * alpha, result = rows + 2 * alpha
        let edge = scratch.edge
        for k in 0..<outputs {
            let shift = Lanes(repeating: bias?[k] ?? 0)
            let plane = y + k * oh * ow
            for ti in 0..<g.tilesHigh {
                var tj = 0
                while tj < g.tilesWide {
                    let src = m + k * stride + first + ti * g.tilesWide + tj
                    for xi in 0..<alpha * alpha { tile[xi] = Vector.load(src + xi * matrix) }
                    // Down each column (A^T M, 2 x alpha), then along each row.
                    for q in 0..<alpha { K.output(tile + q, alpha, rows + q, alpha) }
                    for r in 0..<2 { K.output(rows + r * alpha, 1, result + r * 2, 1) }
                    var y00 = result[0] + shift, y01 = result[1] + shift, y10 = result[2] + shift, y11 = result[3] + shift
                    if rectify {
                        // max(0, y) with NaN kept, as ReLU does.
                        let zero = Lanes(repeating: 0)
                        y00.replace(with: zero, where: y00 .<= 0); y01.replace(with: zero, where: y01 .<= 0)
                        y10.replace(with: zero, where: y10 .<= 0); y11.replace(with: zero, where: y11 .<= 0)
                    }
                    let top = plane + 2 * ti * ow + 2 * tj
                    let count = min(16, ow - 2 * tj)
                    if count == 16 && 2 * ti + 1 < oh {
                        Vector.store16(interleave(y00, y01), top)
                        Vector.store16(interleave(y10, y11), top + ow)
                    } else {
                        // A map's last tiles: through the edge buffer, whole vectors in
                        // and `count` floats out.
                        Vector.store16(interleave(y00, y01), edge)
                        top.update(from: edge, count: count)
                        if 2 * ti + 1 < oh {
                            Vector.store16(interleave(y10, y11), edge)
                            (top + ow).update(from: edge, count: count)
                        }
                    }
                    tj += 8
                }
            }
        }
    }

    /// The adjoint of `transformOutput` (without bias and ReLU): `dM = A dY A^T` of every
    /// tile of one sample's output gradient `dy` (`[K, H', W']`), written to
    /// `dm[xi][k][first + t]`. Outputs past the map's edge count as zero.
    static func transformOutputGradient<K: WinogradTiles>(_: K.Type, _ dy: UnsafePointer<Float>, _ g: Geometry, scratch: Scratch, outputs: Int,
                                                          into dm: UnsafeMutablePointer<Float>, first: Int, stride: Int) {
        let alpha = K.alpha, matrix = outputs * stride
        let (oh, ow) = (g.outHeight, g.outWidth)
        let grad = scratch.lanes, rows = grad + 4, out = rows + 2 * alpha
        let edge = scratch.edge
        for k in 0..<outputs {
            let plane = dy + k * oh * ow
            for ti in 0..<g.tilesHigh {
                var tj = 0
                while tj < g.tilesWide {
                    let top = plane + 2 * ti * ow + 2 * tj
                    let count = min(16, ow - 2 * tj), bottomRow = 2 * ti + 1 < oh
                    let a: SIMD16<Float>, b: SIMD16<Float>
                    if count == 16 && bottomRow {
                        a = UnsafeRawPointer(top).loadUnaligned(as: SIMD16<Float>.self)
                        b = UnsafeRawPointer(top + ow).loadUnaligned(as: SIMD16<Float>.self)
                    } else {
                        // A map's last tiles: `count` floats into the zeroed edge buffer,
                        // whole vectors out.
                        Vector.store16(SIMD16(), edge)
                        edge.update(from: top, count: count)
                        a = UnsafeRawPointer(edge).loadUnaligned(as: SIMD16<Float>.self)
                        Vector.store16(SIMD16(), edge)
                        if bottomRow { edge.update(from: top + ow, count: count) }
                        b = UnsafeRawPointer(edge).loadUnaligned(as: SIMD16<Float>.self)
                    }
                    grad[0] = a.evenHalf; grad[1] = a.oddHalf; grad[2] = b.evenHalf; grad[3] = b.oddHalf
                    // Along each row (dY A^T, 2 x alpha), then down each column.
                    for r in 0..<2 { K.outputAdjoint(grad + r * 2, 1, rows + r * alpha, 1) }
                    for q in 0..<alpha { K.outputAdjoint(rows + q, alpha, out + q, alpha) }
                    let dst = dm + k * stride + first + ti * g.tilesWide + tj
                    for xi in 0..<alpha * alpha { Vector.store(out[xi], dst + xi * matrix) }
                    tj += 8
                }
            }
        }
    }

    /// `(a0, b0, a1, b1, ...)`.
    @inline(__always)
    static func interleave(_ a: Lanes, _ b: Lanes) -> SIMD16<Float> {
        SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
    }
}
