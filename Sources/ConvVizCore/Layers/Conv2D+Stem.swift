import CKernels

/// Inference of a strided stem (a network's first layer on RGB: ResNet's 7x7 stride 2,
/// MobileNet's 3x3 stride 2): each sample's output rows in fixed blocks shared by the
/// cores, each row the weight as stored times its taps, straight into the NCHW output (no
/// transpose). With AVX-512 the taps are read in place from the sample split into its
/// even and odd columns (`forwardStemOnTaps`), at any batch; elsewhere each block's
/// channel-major patch matrix `[C*K*K, rows*W']` goes to OpenBLAS, at small batches.
///
/// Why: the pixel-major path multiplies `[pixels, C*K*K]` by the transposed weight and
/// then transposes the product into NCHW: ResNet-18's stem took 0.93-1.21 ms at batch 1 on
/// 2 cores, onnxruntime's 0.48-0.52. The blocks depend on the layer and the batch only,
/// so the bytes are the same on any number of cores.
extension Conv2D {
    /// Whether a batch of `n` takes `forwardStem`: few input channels, stride 2 along the
    /// width (the vectorized gather), no groups, fewer samples than `smallBatchItems`.
    /// With the AVX-512 kernels, which read the taps in place, any batch (ResNet-18's
    /// stem at batch 16: 17.0 -> 12.7 ms; onnxruntime 8.2). Not 1x1
    /// stride-2 shortcuts with many channels: copying their whole input to gather a
    /// quarter of it made them slower (1.51 -> 2.80 ms at batch 16).
    func runsStem(_ g: Im2Col.Geometry, samples n: Int) -> Bool {
        groups == 1 && g.channels <= 4 && window.stride.w == 2 && window.dilation == Pair(1) && (n < Self.smallBatchItems || runsPanelGEMM)
    }

    /// Blocks of output rows per sample: enough for 8 cores at batch 1.
    static let stemRowBlocks = 8

    func forwardStem(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = input.shape[0]
        if runsPanelGEMM { return forwardStemOnTaps(input, g) }
        let (cout, rows, plane, ow) = (outputChannels, g.rows, g.outPlane, g.outWidth)
        // At most `maxColumnElements` per block's matrix (large photos), else eight blocks.
        let blockRows = max(1, min((g.outHeight + Self.stemRowBlocks - 1) / Self.stemRowBlocks, maxColumnElements / max(1, rows * ow)))
        let blocks = (g.outHeight + blockRows - 1) / blockRows
        // Each sample padded once (a few input channels: small), read by every block.
        let paddedCount = g.paddedCount + Im2Col.slack
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: n * paddedCount)
        defer { padded.deallocate() }
        padded.initialize(repeating: 0, count: n * paddedCount)
        input.data.withUnsafeBufferPointer { xb in
            for s in 0..<n { Im2Col.padPlanar(xb.baseAddress! + s * g.inPlane, g, into: padded + s * paddedCount) }
        }
        var output = Tensor(uninitializedShape: [n, cout, g.outHeight, ow])
        output.data.withUnsafeMutableBufferPointer { yb in
        withProductWeight(allowingPanels: false) { _, stored in
            let (y, paddedAll) = (yb.baseAddress!, UncheckedSendable(padded))
            Parallel.forEachRange(n * blocks) { _, items in
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * blockRows * ow + Im2Col.slack)
                defer { cols.deallocate() }
                for item in items {
                    let s = item / blocks, first = item % blocks * blockRows
                    let count = min(blockRows, g.outHeight - first)
                    // The block's rows as a geometry of `count` output rows, read from the
                    // padded sample `first * stride` rows down.
                    let block = Im2Col.Geometry(channels: g.channels, height: g.height, width: g.width, window: g.window,
                                                outHeight: count, outWidth: ow)
                    Im2Col.unrollChannelMajor(paddedAll.value + s * paddedCount + first * g.window.stride.h * g.paddedWidth, block, into: cols)
                    // W [C_out, rows] x cols [rows, count*W'] -> Y[s, :, first..<first+count, :]
                    let pixels = count * ow
                    multiplyWeight(0..<cout, packed: nil, stored: stored, b: cols, ldb: pixels, columns: pixels,
                                   y: y + s * cout * plane + first * ow, ldy: plane, scratch: nil)
                }
            }
        }}
        return output
    }

    /// Where tap (input channel, kernel row, kernel column) of output pixel (0, 0) lies in
    /// a sample split into its even and odd columns (`splitColumns`): at stride 2 along the
    /// width, output pixel j reads column 2j + kx, that is phase kx % 2 at kx / 2 + j, so
    /// each row of taps is contiguous.
    static func phaseTapOffsets(_ g: Im2Col.Geometry) -> [Int32] {
        let half = (g.paddedWidth + 1) / 2
        var offsets: [Int32] = []
        for c in 0..<g.channels {
            for ky in 0..<g.window.kernel.h {
                for kx in 0..<g.window.kernel.w { offsets.append(Int32(((c * g.paddedHeight + ky) * 2 + kx % 2) * half + kx / 2)) }
            }
        }
        return offsets
    }

    /// Sample `x` (`[C, H, W]`) zero-padded, each padded row split into its even columns,
    /// then its odd ones, each half `(paddedWidth + 1) / 2` floats (an odd width's odd half
    /// ends in a zero): written straight from the input, with no padded copy between.
    /// Channels `channels` only (all by default).
    static func splitColumns(_ x: UnsafePointer<Float>, _ g: Im2Col.Geometry, channels: Range<Int>? = nil,
                             into phases: UnsafeMutablePointer<Float>) {
        let (half, pw, ph) = ((g.paddedWidth + 1) / 2, g.window.padding.w, g.window.padding.h)
        for c in channels ?? 0..<g.channels {
            for py in 0..<g.paddedHeight {
                let to = phases + (c * g.paddedHeight + py) * 2 * half, r = py - ph
                to.update(repeating: 0, count: 2 * half)
                guard r >= 0 && r < g.height else { continue }
                let from = x + (c * g.height + r) * g.width
                // Padded column px goes to slot px / 2 of its parity's half: sixteen input
                // columns from an even one are eight to each half (even input columns go
                // to the half of pw's parity), the rest one by one.
                let (evens, odds) = (to + (pw & 1) * half + pw >> 1, to + ((pw + 1) & 1) * half + (pw + 1) >> 1)
                var ix = 0
                while ix &+ 16 <= g.width {
                    let v = UnsafeRawPointer(from + ix).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(evens + ix >> 1).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(odds + ix >> 1).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
                    ix &+= 16
                }
                while ix < g.width { let px = ix &+ pw; to[(px & 1) &* half &+ px >> 1] = from[ix]; ix &+= 1 }
            }
        }
    }

    /// The stem on `PanelGEMM.multiplyTaps`: each output row is the weight as stored times
    /// its taps, read from the column-split sample as contiguous rows, vectorized along
    /// the row's pixels; the sums land in NCHW rows. Why not the panel kernel: with 147
    /// terms per output its transposing epilogue cost a third of the sums (ResNet-18's
    /// stem 0.85-0.91 ms at batch 1 against onnxruntime's 0.48-0.52).
    ///
    /// With `pool` (the max pool after it, `Graph.fusingPools`) the work items are blocks
    /// of the pool's output rows: each computes the stem rows they read into a scratch
    /// block, the rows two blocks share twice, and pools them while they are in cache.
    /// ResNet's stem map at batch 16 is 51 MB, written and read back by the pool before.
    /// Each row is the same sum either way, and each pooled row the same maximum.
    func forwardStemOnTaps(_ input: Tensor, _ g: Im2Col.Geometry, pooling pool: MaxPool2D? = nil) -> Tensor {
        let n = input.shape[0]
        let (cout, depth, ow) = (outputChannels, g.rows, g.outWidth)
        let out = pool.map { try! $0.window.outputSize(height: g.outHeight, width: ow, layer: $0.name) } ?? Pair(g.outHeight, ow)
        // At most `maxColumnElements` per block's rows (large photos), else eight blocks.
        let rowFloats = pool == nil ? depth * ow : cout * ow * pool!.window.stride.h
        let blockRows = max(1, min((out.h + Self.stemRowBlocks - 1) / Self.stemRowBlocks, maxColumnElements / max(1, rowFloats)))
        let blocks = (out.h + blockRows - 1) / blockRows
        var output = Tensor(uninitializedShape: [n, cout, out.h, out.w])
        let half = (g.paddedWidth + 1) / 2, splitCount = g.channels * g.paddedHeight * 2 * half
        let split = UnsafeMutablePointer<Float>.allocate(capacity: n * splitCount)
        defer { split.deallocate() }
        input.data.withUnsafeBufferPointer { xb in
            let (x, phases) = (xb.baseAddress!, UncheckedSendable(split))
            // A channel of a sample per work item (ResNet-18 at batch 16: 1.0 ms on one core).
            Parallel.forEachRange(n * g.channels) { _, items in
                for item in items {
                    let (s, c) = (item / g.channels, item % g.channels)
                    Self.splitColumns(x + s * g.inPlane, g, channels: c..<c + 1, into: phases.value + s * splitCount)
                }
            }
        }
        let offsets = Self.phaseTapOffsets(g), rowStep = g.window.stride.h * 2 * half
        output.data.withUnsafeMutableBufferPointer { yb in
        weight.value.data.withUnsafeBufferPointer { wb in
        offsets.withUnsafeBufferPointer { ob in
        withBiasValues { bias in
            let (y, w, taps, phases, activation) = (yb.baseAddress!, wb.baseAddress!, ob.baseAddress!, UncheckedSendable(split), kernelActivation())
            // Stem row `row` of sample `s` into `to` (its channels `ldy` apart).
            func stemRow(_ s: Int, _ row: Int, into to: UnsafeMutablePointer<Float>, ldy: Int) {
                PanelGEMM.multiplyTaps(w, rows: cout, depth: depth, ldw: depth, x: phases.value + s * splitCount + row * rowStep,
                                       offsets: taps, columns: ow, y: to, ldy: ldy, bias: bias, activation: activation)
            }
            Parallel.forEachRange(n * blocks) { _, items in
                let stemRows = pool.map { min(g.outHeight, (blockRows - 1) * $0.window.stride.h + $0.window.kernel.h) } ?? 0
                let scratch = pool == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: cout * stemRows * ow)
                let rowBuffer = pool?.rowBuffer(width: ow, outWidth: out.w)
                defer { scratch?.deallocate(); rowBuffer?.deallocate() }
                for item in items {
                    let s = item / blocks, first = item % blocks * blockRows, rows = first..<min(first + blockRows, out.h)
                    guard let pool, let scratch, let rowBuffer else {
                        for row in rows { stemRow(s, row, into: y + (s * cout * out.h + row) * ow, ldy: out.h * ow) }
                        continue
                    }
                    let read = pool.inputRows(of: rows, height: g.outHeight), count = read.count
                    for row in read { stemRow(s, row, into: scratch + (row - read.lowerBound) * ow, ldy: count * ow) }
                    for c in 0..<cout {
                        pool.poolRows(rows, of: scratch + c * count * ow, firstRow: read.lowerBound, height: g.outHeight, width: ow,
                                      outWidth: out.w, buffer: rowBuffer, into: y + (s * cout + c) * out.h * out.w)
                    }
                }
            }
        }}}}
        return output
    }
}
