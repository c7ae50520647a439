import CKernels

/// Inference of a strided stem (a network's first layer on RGB: ResNet's 7x7 stride 2,
/// MobileNet's 3x3 stride 2) at a small batch: each sample's output rows in fixed
/// blocks, each block's channel-major patch matrix `[C*K*K, rows*W']` multiplied by the
/// weight as stored, straight into the NCHW output (no transpose), the blocks shared by
/// the cores.
///
/// Why: the pixel-major path multiplies `[pixels, C*K*K]` by the transposed weight and
/// then transposes the product into NCHW: ResNet-18's stem took 0.93-1.21 ms at batch 1 on
/// 2 cores, onnxruntime's 0.48-0.52. The blocks depend on the layer and the batch only,
/// so the bytes are the same on any number of cores.
extension Conv2D {
    /// Whether a batch of `n` takes `forwardStem`: few input channels, stride 2 along the
    /// width (the vectorized gather), no groups, fewer samples than `smallBatchItems`.
    /// With the panel kernel, which reads the taps straight from the padded input, any
    /// batch (ResNet-18's stem at batch 16: 17.0 -> 12.7 ms; onnxruntime 8.2). Not 1x1
    /// stride-2 shortcuts with many channels: copying their whole input to gather a
    /// quarter of it made them slower (1.51 -> 2.80 ms at batch 16).
    func runsStem(_ g: Im2Col.Geometry, samples n: Int) -> Bool {
        groups == 1 && g.channels <= 4 && window.stride.w == 2 && window.dilation == Pair(1) && (n < Self.smallBatchItems || runsPanelGEMM)
    }

    /// Where each row of the channel-major patch matrix (input channel, kernel row, kernel
    /// column) starts in the planar padded sample, for output pixel (0, 0).
    static func tapOffsets(_ g: Im2Col.Geometry) -> [Int32] {
        var offsets: [Int32] = []
        for c in 0..<g.channels {
            for ky in 0..<g.window.kernel.h {
                for kx in 0..<g.window.kernel.w { offsets.append(Int32((c * g.paddedHeight + ky) * g.paddedWidth + kx)) }
            }
        }
        return offsets
    }

    /// Blocks of output rows per sample: enough for 8 cores at batch 1.
    static let stemRowBlocks = 8

    func forwardStem(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = input.shape[0]
        let (cout, rows, plane, ow) = (outputChannels, g.rows, g.outPlane, g.outWidth)
        // At most `maxColumnElements` per block's matrix (large photos), else eight blocks.
        let blockRows = max(1, min((g.outHeight + Self.stemRowBlocks - 1) / Self.stemRowBlocks, maxColumnElements / max(1, rows * ow)))
        let blocks = (g.outHeight + blockRows - 1) / blockRows
        var output = Tensor(uninitializedShape: [n, cout, g.outHeight, ow])
        // Each sample padded once (a few input channels: small), read by every block.
        let paddedCount = g.paddedCount + Im2Col.slack
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: n * paddedCount)
        defer { padded.deallocate() }
        padded.initialize(repeating: 0, count: n * paddedCount)
        input.data.withUnsafeBufferPointer { xb in
            for s in 0..<n { Im2Col.padPlanar(xb.baseAddress! + s * g.inPlane, g, into: padded + s * paddedCount) }
        }
        output.data.withUnsafeMutableBufferPointer { yb in
        withProductWeight { packed, stored in
            let (y, paddedAll) = (yb.baseAddress!, UncheckedSendable(padded))
            if let packed {
                // The panel kernel reads the taps from the padded sample: no patch matrix.
                let offsets = Self.tapOffsets(g)
                offsets.withUnsafeBufferPointer { ob in
                withBiasValues { bias in
                    let taps = ob.baseAddress!
                    Parallel.forEachRange(n * blocks) { _, items in
                        let scratch = Self.panelScratch(packed, channels: cout, columns: ow)!
                        defer { scratch.deallocate() }
                        for item in items {
                            let s = item / blocks, first = item % blocks * blockRows
                            for row in first..<min(first + blockRows, g.outHeight) {
                                PanelGEMM.multiplyGathered(packed, rows: cout, depth: rows, panels: 0..<PanelGEMM.panels(rows: cout),
                                                           b: paddedAll.value + s * paddedCount + row * g.window.stride.h * g.paddedWidth,
                                                           offsets: taps, columns: ow, y: y + s * cout * plane + row * ow, ldy: plane,
                                                           bias: bias, activation: kernelActivation, scratch: scratch)
                            }
                        }
                    }
                }}
                return
            }
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
}
