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
/// Layouts are planar, so the transforms (`WinogradTiles`) run eight tiles at a time, one
/// per SIMD lane: eight along a tile row, whose column `q` is the even or odd half of one
/// SIMD16 load and whose 2x2 outputs are 16 consecutive floats of two output rows; or, on
/// a small map with 4, 2 or 1 tiles a row, several whole tile rows (`laneWidth`).
enum Winograd {
    typealias Lanes = SIMD8<Float>

    /// Transformed kernels `u[xi][o][i]` (alpha^2 x outputs x inputs) of `weight`
    /// (`[outputs, inputs, r, r]`), all in one product: `U = (G ⊗ G) W^T`, with each
    /// kernel a column of `W^T`. `flipped`: the kernels of the input gradient instead,
    /// `u[xi][i][o]` from each kernel turned by 180 degrees.
    static func transformKernels(_ t: WinogradTransform, _ weight: UnsafePointer<Float>, outputs: Int, inputs: Int, flipped: Bool,
                                 into u: UnsafeMutablePointer<Float>) {
        let (taps, positions, plane) = (t.kernel * t.kernel, t.alpha * t.alpha, outputs * inputs)
        // Turning a kernel reverses its taps: the same product with G ⊗ G's columns reversed.
        let product = flipped ? (0..<positions).flatMap { xi in (0..<taps).map { t.kernelProduct[xi * taps + taps - 1 - $0] } } : t.kernelProduct
        product.withUnsafeBufferPointer { gg in
            if !flipped {
                BLAS.gemm(transB: true, m: positions, n: plane, k: taps, a: gg.baseAddress!, lda: taps, b: weight, ldb: taps, c: u, ldc: plane)
                return
            }
            // [xi][o][i], then each position's [outputs, inputs] transposed.
            let byOutput = UnsafeMutablePointer<Float>.allocate(capacity: positions * plane)
            defer { byOutput.deallocate() }
            BLAS.gemm(transB: true, m: positions, n: plane, k: taps, a: gg.baseAddress!, lda: taps, b: weight, ldb: taps, c: byOutput, ldc: plane)
            for xi in 0..<positions {
                Transpose.transpose(byOutput + xi * plane, rows: outputs, columns: inputs, srcStride: inputs, into: u + xi * plane, dstStride: outputs)
            }
        }
    }

    /// The adjoint of `transformKernels` (not flipped): adds `(G ⊗ G)^T dU` of
    /// `du[xi][o][i]` to `dw` in weight order `[outputs, inputs, r, r]`, as one product.
    static func kernelGradient(_ t: WinogradTransform, _ du: UnsafePointer<Float>, outputs: Int, inputs: Int,
                               into dw: UnsafeMutablePointer<Float>) {
        let (taps, positions, plane) = (t.kernel * t.kernel, t.alpha * t.alpha, outputs * inputs)
        t.kernelProduct.withUnsafeBufferPointer { gg in
            // dW [plane, taps] += dU^T [plane, positions] x (G ⊗ G) [positions, taps]
            BLAS.gemm(transA: true, m: plane, n: taps, k: positions, a: du, lda: plane, b: gg.baseAddress!, ldb: taps, beta: 1, c: dw, ldc: taps)
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
        /// Outputs per tile side `m` (2, or 4 for F(4x4, 3x3)).
        let step: Int
        var tilesHigh: Int { (outHeight + step - 1) / step }
        var tilesWide: Int { (outWidth + step - 1) / step }
        var tiles: Int { tilesHigh * tilesWide }
        /// Tiles of one tile row in a group of eight lanes: eight, or on a small map whose
        /// rows have 4, 2 or 1 tiles (2x2 outputs only), the whole row, with the next rows
        /// in the other lanes (the group is then 8 consecutive tiles: no lane is wasted on
        /// an 8x8 map).
        var laneWidth: Int { step == 2 && (tilesWide == 4 || tilesWide == 2 || tilesWide == 1) ? tilesWide : 8 }
        /// Tile rows in a group.
        var rowsPerGroup: Int { 8 / laneWidth }
        /// Tiles in whole groups: the width and height the SIMD reads cover.
        var groupedTilesWide: Int { (tilesWide + laneWidth - 1) / laneWidth * laneWidth }
        var groupedTilesHigh: Int { (tilesHigh + rowsPerGroup - 1) / rowsPerGroup * rowsPerGroup }
        var paddedHeight: Int { step * groupedTilesHigh + kernel - 1 }
        var paddedWidth: Int { step * groupedTilesWide + kernel - 1 }
        var paddedPlane: Int { paddedHeight * paddedWidth }

        init(channels: Int, height: Int, width: Int, kernel: Int, padding: Pair, step: Int = 2) {
            self.channels = channels; self.height = height; self.width = width; self.kernel = kernel; self.padding = padding
            self.step = step
            outHeight = height + 2 * padding.h - kernel + 1
            outWidth = width + 2 * padding.w - kernel + 1
        }
    }

    /// Copies sample `x` (`[C, H, W]`) into the interior of `padded` (`C` planes of the
    /// geometry's padded size, which covers the input and its padding: whole tiles cover
    /// the output, `H + 2P - r + 1` rows, and each reads `r - 1` rows further). Cells
    /// outside the interior are never written, so a buffer zeroed once stays padded.
    static func pad(_ x: UnsafePointer<Float>, _ g: Geometry, channels: Range<Int>? = nil, into padded: UnsafeMutablePointer<Float>) {
        precondition(g.paddedHeight >= g.height + g.padding.h && g.paddedWidth >= g.width + g.padding.w)
        for c in channels ?? 0..<g.channels {
            for h in 0..<g.height {
                (padded + c * g.paddedPlane + (h + g.padding.h) * g.paddedWidth + g.padding.w)
                    .update(from: x + (c * g.height + h) * g.width, count: g.width)
            }
        }
    }

    /// Scratch for the transforms: three tiles' worth of `SIMD8`, and 32 floats for the
    /// partial rows at a map's right edge.
    struct Scratch {
        let lanes: UnsafeMutablePointer<Lanes>
        let edge: UnsafeMutablePointer<Float>
        init(_ t: WinogradTransform) {
            lanes = .allocate(capacity: 3 * t.alpha * t.alpha)
            edge = .allocate(capacity: 32)
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

    /// Columns `q` and `q + 1` of a group's tiles, at row `p` of its first tile row: the
    /// even and odd lanes of one load, or on a small map of one load per tile row.
    @inline(__always)
    private static func columnPair(_ p: UnsafePointer<Float>, _ g: Geometry) -> (Lanes, Lanes) {
        let next = 2 * g.paddedWidth  // the next tile row starts two rows down
        @inline(__always) func load<V: SIMD>(_ p: UnsafePointer<Float>, as: V.Type) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        switch g.laneWidth {
        case 8:
            let a = load(p, as: SIMD16<Float>.self)
            return (a.evenHalf, a.oddHalf)
        case 4:
            let a = load(p, as: SIMD8<Float>.self), b = load(p + next, as: SIMD8<Float>.self)
            return (Lanes(lowHalf: a.evenHalf, highHalf: b.evenHalf), Lanes(lowHalf: a.oddHalf, highHalf: b.oddHalf))
        case 2:
            let r0 = load(p, as: SIMD4<Float>.self), r1 = load(p + next, as: SIMD4<Float>.self)
            let r2 = load(p + 2 * next, as: SIMD4<Float>.self), r3 = load(p + 3 * next, as: SIMD4<Float>.self)
            return (Lanes(lowHalf: SIMD4(lowHalf: r0.evenHalf, highHalf: r1.evenHalf), highHalf: SIMD4(lowHalf: r2.evenHalf, highHalf: r3.evenHalf)),
                    Lanes(lowHalf: SIMD4(lowHalf: r0.oddHalf, highHalf: r1.oddHalf), highHalf: SIMD4(lowHalf: r2.oddHalf, highHalf: r3.oddHalf)))
        default:
            var even = Lanes(), odd = Lanes()
            for l in 0..<8 { even[l] = p[l * next]; odd[l] = p[l * next + 1] }
            return (even, odd)
        }
    }

    /// `V = B^T d B` of every tile of one padded sample (or of the tile rows `tileRows`,
    /// which start at a group's first row; of the channels `channels`), written to `v[xi][c][first + t]`
    /// (`stride` floats per `[c]` row, `channels` rows per `xi`). Eight tiles per step;
    /// a row's (or a small map's) last group writes up to seven lanes past its tiles,
    /// which later tiles overwrite or which fall in the slack (`stride` leaves eight
    /// floats).
    static func transformInput<K: WinogradTiles>(_: K.Type, _ padded: UnsafePointer<Float>, _ g: Geometry, tileRows: Range<Int>? = nil,
                                                 channels: Range<Int>? = nil, scratch: Scratch, into v: UnsafeMutablePointer<Float>,
                                                 first: Int, stride: Int) {
        let tileRange = tileRows ?? 0..<g.tilesHigh
        let alpha = K.alpha, matrix = g.channels * stride
        let d = scratch.lanes, e = d + alpha * alpha, out = e + alpha * alpha
        let step = K.outputs
        for c in channels ?? 0..<g.channels {
            let plane = padded + c * g.paddedPlane
            for ti in Swift.stride(from: tileRange.lowerBound, to: tileRange.upperBound, by: g.rowsPerGroup) {
                let row = plane + step * ti * g.paddedWidth
                var tj = 0
                while tj < g.tilesWide {
                    // d[r][q]: column q of the tile, row r, for 8 tiles (alpha is even).
                    for r in 0..<alpha {
                        let p = row + r * g.paddedWidth + step * tj
                        if step == 4 {
                            fourColumns(p, alpha: alpha, into: d + r * alpha)
                            continue
                        }
                        var q = 0
                        while q < alpha {
                            (d[r * alpha + q], d[r * alpha + q + 1]) = columnPair(p + q, g)
                            q += 2
                        }
                    }
                    // Along each row (d B), then down each column (B^T (d B)).
                    for r in 0..<alpha { K.input(d + r * alpha, 1, e + r * alpha, 1) }
                    for q in 0..<alpha { K.input(e + q, alpha, out + q, alpha) }
                    let dst = v + c * stride + first + (ti - tileRange.lowerBound) * g.tilesWide + tj
                    for xi in 0..<alpha * alpha { Vector.store(out[xi], dst + xi * matrix) }
                    tj += g.laneWidth
                }
            }
        }
    }

    /// `Y = A^T M A` for every tile of one sample (or of the tile rows `tileRows`) from
    /// `m[xi][k][first + t]`, plus `bias[k]`, plus the residual `y` holds when `adding`,
    /// rectified when asked, into the sample's output planes `y` (`[K, H', W']`); of every
    /// output channel, or of those in `only`.
    static func transformOutput<K: WinogradTiles>(_: K.Type, _ m: UnsafePointer<Float>, _ g: Geometry, tileRows: Range<Int>? = nil,
                                                  scratch: Scratch, outputs: Int, only: Range<Int>? = nil, first: Int, stride: Int,
                                                  bias: UnsafePointer<Float>?, rectify: Bool, adding: Bool = false,
                                                  into y: UnsafeMutablePointer<Float>) {
        let tileRange = tileRows ?? 0..<g.tilesHigh
        let alpha = K.alpha, matrix = outputs * stride
        let (oh, ow) = (g.outHeight, g.outWidth)
        let tile = scratch.lanes, rows = tile + alpha * alpha, result = rows + K.outputs * alpha
        let edge = scratch.edge
        for k in only ?? 0..<outputs {
            let shift = Lanes(repeating: bias?[k] ?? 0)
            let plane = y + k * oh * ow
            for ti in Swift.stride(from: tileRange.lowerBound, to: tileRange.upperBound, by: g.rowsPerGroup) {
                var tj = 0
                while tj < g.tilesWide {
                    let src = m + k * stride + first + (ti - tileRange.lowerBound) * g.tilesWide + tj
                    for xi in 0..<alpha * alpha { tile[xi] = Vector.load(src + xi * matrix) }
                    // Down each column (A^T M, m x alpha), then along each row.
                    for q in 0..<alpha { K.output(tile + q, alpha, rows + q, alpha) }
                    for r in 0..<K.outputs { K.output(rows + r * alpha, 1, result + r * K.outputs, 1) }
                    if K.outputs == 4 {
                        storeFourByFour(result, shift: shift, rectify: rectify, adding: adding, plane: plane, ti: ti, tj: tj, g, edge: edge)
                        tj += g.laneWidth
                        continue
                    }
                    let y00 = result[0] + shift, y01 = result[1] + shift, y10 = result[2] + shift, y11 = result[3] + shift
                    let top = plane + 2 * ti * ow + 2 * tj
                    let count = min(16, ow - 2 * tj)
                    // The residual, then ReLU, on each output row's 16 floats.
                    func finished(_ row: SIMD16<Float>, _ residual: () -> SIMD16<Float>) -> SIMD16<Float> {
                        let sum = adding ? row + residual() : row
                        return rectify ? rectified(sum) : sum
                    }
                    if count == 16 && 2 * ti + 1 < oh {
                        Vector.store16(finished(interleave(y00, y01)) { Vector.load16(top) }, top)
                        Vector.store16(finished(interleave(y10, y11)) { Vector.load16(top + ow) }, top + ow)
                    } else {
                        // A map's last tiles, or a small map's tile rows: through the edge
                        // buffer, whole vectors in and each output row's floats out (and
                        // the residual's in, the same way).
                        let span = 2 * g.laneWidth, width = min(span, count)
                        func scatter(_ pair: SIMD16<Float>, _ outputRow: Int) {
                            let done = finished(pair) {
                                for sub in 0..<g.rowsPerGroup where 2 * (ti + sub) + outputRow < oh {
                                    (edge + sub * span).update(from: top + (2 * sub + outputRow) * ow, count: width)
                                }
                                return Vector.load16(edge)
                            }
                            Vector.store16(done, edge)
                            for sub in 0..<g.rowsPerGroup where 2 * (ti + sub) + outputRow < oh {
                                (top + (2 * sub + outputRow) * ow).update(from: edge + sub * span, count: width)
                            }
                        }
                        scatter(interleave(y00, y01), 0)
                        scatter(interleave(y10, y11), 1)
                    }
                    tj += g.laneWidth
                }
            }
        }
    }

    /// The adjoint of `transformOutput` (without bias and ReLU): `dM = A dY A^T` of every
    /// tile of one sample's output gradient `dy` (`[K, H', W']`), written to
    /// `dm[xi][k][first + t]`. Outputs past the map's edge count as zero.
    static func transformOutputGradient<K: WinogradTiles>(_: K.Type, _ dy: UnsafePointer<Float>, _ g: Geometry, scratch: Scratch, outputs: Int,
                                                          into dm: UnsafeMutablePointer<Float>, first: Int, stride: Int) {
        precondition(K.outputs == 2, "gradients run through F(2x2, r x r) only")
        let alpha = K.alpha, matrix = outputs * stride
        let (oh, ow) = (g.outHeight, g.outWidth)
        let grad = scratch.lanes, rows = grad + 4, out = rows + 2 * alpha
        let edge = scratch.edge
        for k in 0..<outputs {
            let plane = dy + k * oh * ow
            for ti in Swift.stride(from: 0, to: g.tilesHigh, by: g.rowsPerGroup) {
                var tj = 0
                while tj < g.tilesWide {
                    let top = plane + 2 * ti * ow + 2 * tj
                    let count = min(16, ow - 2 * tj)
                    let a: SIMD16<Float>, b: SIMD16<Float>
                    if count == 16 && 2 * ti + 1 < oh {
                        a = UnsafeRawPointer(top).loadUnaligned(as: SIMD16<Float>.self)
                        b = UnsafeRawPointer(top + ow).loadUnaligned(as: SIMD16<Float>.self)
                    } else {
                        // A map's last tiles, or a small map's tile rows: each output row's
                        // floats into the zeroed edge buffer, whole vectors out.
                        let span = 2 * g.laneWidth, width = min(span, count)
                        func gather(_ outputRow: Int) -> SIMD16<Float> {
                            Vector.store16(SIMD16(), edge)
                            for sub in 0..<g.rowsPerGroup where 2 * (ti + sub) + outputRow < oh {
                                (edge + sub * span).update(from: top + (2 * sub + outputRow) * ow, count: width)
                            }
                            return UnsafeRawPointer(edge).loadUnaligned(as: SIMD16<Float>.self)
                        }
                        a = gather(0)
                        b = gather(1)
                    }
                    grad[0] = a.evenHalf; grad[1] = a.oddHalf; grad[2] = b.evenHalf; grad[3] = b.oddHalf
                    // Along each row (dY A^T, 2 x alpha), then down each column.
                    for r in 0..<2 { K.outputAdjoint(grad + r * 2, 1, rows + r * alpha, 1) }
                    for q in 0..<alpha { K.outputAdjoint(rows + q, alpha, out + q, alpha) }
                    let dst = dm + k * stride + first + ti * g.tilesWide + tj
                    for xi in 0..<alpha * alpha { Vector.store(out[xi], dst + xi * matrix) }
                    tj += g.laneWidth
                }
            }
        }
    }

    /// Columns `0..<alpha` (6) of eight tiles four columns apart, at one row: the lanes
    /// `4j + q` of 32 floats from `p` (q < 4) and from `p + 4` (q = 4, 5).
    @inline(__always)
    private static func fourColumns(_ p: UnsafePointer<Float>, alpha: Int, into d: UnsafeMutablePointer<Lanes>) {
        let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self)
        let (even, odd) = (a.evenHalf, a.oddHalf)
        d[0] = even.evenHalf; d[1] = odd.evenHalf; d[2] = even.oddHalf; d[3] = odd.oddHalf
        let b = UnsafeRawPointer(p + 4).loadUnaligned(as: SIMD32<Float>.self)
        d[4] = b.evenHalf.evenHalf; d[5] = b.oddHalf.evenHalf
    }

    /// Eight tiles' 4x4 outputs (`result[r * 4 + c]`, lane = tile) plus `shift`,
    /// rectified when asked, into output rows `4 ti ..< 4 ti + 4`, columns from `4 tj`:
    /// each output row is the four columns interleaved, 32 floats, whole or through
    /// `edge` at the map's right and bottom edges.
    @inline(__always)
    private static func storeFourByFour(_ result: UnsafeMutablePointer<Lanes>, shift: Lanes, rectify: Bool, adding: Bool,
                                        plane: UnsafeMutablePointer<Float>, ti: Int, tj: Int, _ g: Geometry, edge: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        let width = min(32, ow - 4 * tj)
        for r in 0..<4 where 4 * ti + r < oh {
            var c0 = result[r * 4] + shift, c1 = result[r * 4 + 1] + shift, c2 = result[r * 4 + 2] + shift, c3 = result[r * 4 + 3] + shift
            // Without a residual, ReLU before the interleaving (on eight lanes, cheaper here).
            if rectify && !adding { (c0, c1, c2, c3) = (rectified(c0), rectified(c1), rectified(c2), rectified(c3)) }
            // (c0, c1, c2, c3) per tile: interleave (c0, c2) and (c1, c3), then the two.
            let a = interleave(c0, c2), b = interleave(c1, c3)
            var low = interleave(a.lowHalf, b.lowHalf), high = interleave(a.highHalf, b.highHalf)
            let dst = plane + (4 * ti + r) * ow + 4 * tj
            if adding {
                // The residual's row, whole or through `edge`, then ReLU.
                let from = width == 32 ? UnsafePointer(dst) : UnsafePointer(edge)
                if width < 32 { edge.update(from: dst, count: width) }
                (low, high) = (low + Vector.load16(from), high + Vector.load16(from + 16))
                if rectify { (low, high) = (rectified(low), rectified(high)) }
            }
            if width == 32 {
                Vector.store16(low, dst)
                Vector.store16(high, dst + 16)
            } else {
                Vector.store16(low, edge)
                Vector.store16(high, edge + 16)
                dst.update(from: edge, count: width)
            }
        }
    }

    /// max(0, y) with NaN kept, as ReLU does.
    @inline(__always)
    private static func rectified(_ y: Lanes) -> Lanes {
        var y = y
        y.replace(with: Lanes(repeating: 0), where: y .<= 0)
        return y
    }

    /// The same on sixteen lanes (a residual added after the interleaving).
    @inline(__always)
    private static func rectified(_ y: SIMD16<Float>) -> SIMD16<Float> {
        var y = y
        y.replace(with: SIMD16<Float>(repeating: 0), where: y .<= 0)
        return y
    }

    /// `(a0, b0, a1, b1, ...)`.
    @inline(__always)
    static func interleave(_ a: Lanes, _ b: Lanes) -> SIMD16<Float> {
        SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
    }
}
