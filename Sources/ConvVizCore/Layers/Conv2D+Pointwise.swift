/// 1x1 convolutions with stride 1 and no padding (ResNet's bottlenecks, MobileNet's
/// expansions and projections; in inference with AVX-512, strided ones on a subsampled
/// copy of their input too): a sample's input `[C_in, H*W]` already is its patch
/// matrix, so the output is `W [C_out, C_in] x X [C_in, H*W]` read and written in
/// place, and the input gradient `W^T [C_in, C_out] x dY [C_out, H*W]`: no unrolled
/// copy, no transposed product.
///
/// Why: the pixel-major path copied each input into channels-last patches and
/// transposed each product back to NCHW (6% of MobileNetV2's batch-1 pass in the
/// transpose alone). Work items are (sample, block of pixels), a number fixed by the
/// map's size, not by the cores: the same bytes on any core count. Results differ from
/// other paths' (other GEMM shapes) within float32 rounding.
extension Conv2D {
    /// Whether this layer takes the pointwise path.
    var isPointwise: Bool {
        groups == 1 && window.kernel == Pair(1) && window.stride == Pair(1) && window.padding == Pair(0)
    }

    /// Whether a map of `pixels` takes the row kernel (`PanelGEMM.multiplyRows`): the CPU
    /// has AVX-512 and the rows are long enough that few vector lanes go unused (14x14 and
    /// up; a 7x7 map's 49 pixels fill 49 of 64 lanes, so it stays on the panel kernel).
    /// Strided 1x1 layers without padding (ResNet's downsampling shortcuts) too, on maps
    /// of `rowGEMMStridedPixels` and more: their input, subsampled (`subsampled`), is a
    /// stride-1 layer's. (On 14x14 outputs the small-map path's panel kernel stays faster:
    /// ResNet-50's 28 -> 14 shortcut took 0.66 ms here against its 0.57.) `strided`: the
    /// smallest strided map, `rowGEMMPixels` for a batch too large for small maps (ResNet's
    /// 28 -> 14 shortcuts at batch 16, on OpenBLAS's patch matrix before: ResNet-18's 1.04
    /// -> 0.65-0.68 ms, ResNet-50's 10.6 -> 8.7).
    func runsRowGEMM(pixels: Int, strided: Int = rowGEMMStridedPixels) -> Bool {
        runsPanelGEMM && window.kernel == Pair(1) && window.padding == Pair(0)
            && pixels >= (window.stride == Pair(1) ? Self.rowGEMMPixels : strided)
    }
    static let rowGEMMPixels = 128, rowGEMMStridedPixels = 512

    /// Blocks of pixels a sample's product is cut into: about 256 pixels each, at most 8
    /// (enough for 8 cores at batch 1; more would repack the weight once more per block).
    static func pointwiseBlocks(pixels: Int) -> Int {
        min(8, max(1, (pixels + 255) / 256))
    }

    /// Calls `body(sample, firstPixel, count)` for every block of every sample, the
    /// blocks shared out among the cores.
    static func forEachPixelBlock(samples n: Int, pixels plane: Int, _ body: (Int, Int, Int) -> Void) {
        let blocks = pointwiseBlocks(pixels: plane), blockSize = (plane + blocks - 1) / blocks
        Parallel.forEachRange(n * blocks) { _, items in
            for item in items {
                let s = item / blocks, first = item % blocks * blockSize, count = min(blockSize, plane - first)
                if count > 0 { body(s, first, count) }
            }
        }
    }

    /// The pixels a strided 1x1 layer reads, `[N, C, H', W']`: every `stride`-th row and
    /// column. Why: ResNet-50's 56x56 shortcut (256 -> 512) took 0.77 ms at batch 1 on the
    /// small-map path's strided patch matrix, onnxruntime 0.51; a quarter of the input
    /// copied, then the row kernel. (Copying the whole input with padding to gather its
    /// taps at batch 16 had made them slower: 1.51 -> 2.80 ms.)
    func subsampled(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow, sh, sw) = (g.outHeight, g.outWidth, window.stride.h, window.stride.w)
        var output = Tensor(uninitializedShape: [n, c, oh, ow])
        input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
            let (x, y) = (xb.baseAddress!, yb.baseAddress!)
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
                for plane in planes {
                    for oy in 0..<oh {
                        let (from, to) = (x + (plane * h + oy * sh) * w, y + (plane * oh + oy) * ow)
                        for ox in 0..<ow { to[ox] = from[ox * sw] }
                    }
                }
            }
        }}
        return output
    }

    /// `inference`: the AVX-512 kernels may run (training keeps OpenBLAS); with them, a
    /// strided 1x1 layer's input is given `subsampled`, and a `residual` is added in their
    /// epilogues, the output written in its storage.
    func forwardPointwise(_ input: Tensor, _ g: Im2Col.Geometry, inference: Bool, residual: consuming Tensor? = nil) -> Tensor {
        let n = input.shape[0]
        let (cin, cout, plane) = (inputChannels, outputChannels, g.outPlane)
        let adds = residual != nil
        var output = Self.outputTensor([n, cout, g.outHeight, g.outWidth], residual: residual.take())
        let blocks = Self.pointwiseBlocks(pixels: plane), blockSize = (plane + blocks - 1) / blocks
        // A strided layer comes here from the row-kernel path only (`forwardPath`).
        if inference && (window.stride != Pair(1) || runsRowGEMM(pixels: plane)) {
            // The weight as stored against the input's rows, vectorized along the pixels.
            input.data.withUnsafeBufferPointer { xb in
            weight.value.data.withUnsafeBufferPointer { wb in
            output.data.withUnsafeMutableBufferPointer { yb in
            withBiasValues { bias in
                let (x, w, y, activation) = (xb.baseAddress!, wb.baseAddress!, yb.baseAddress!, kernelActivation(residual: adds))
                // A map of one block (14x14) is shared by output channels too, in blocks of
                // whole six-row tiles: at least four items per sample.
                let rowBlocks = max(1, 4 / blocks), rowsPerBlock = (cout + 6 * rowBlocks - 1) / (6 * rowBlocks) * 6
                Parallel.forEachRange(n * blocks * rowBlocks) { _, items in
                    for item in items {
                        let s = item / (blocks * rowBlocks), first = item / rowBlocks % blocks * blockSize
                        let row0 = item % rowBlocks * rowsPerBlock, rows = min(rowsPerBlock, cout - row0), count = min(blockSize, plane - first)
                        guard rows > 0 && count > 0 else { continue }
                        PanelGEMM.multiplyRows(w + row0 * cin, rows: rows, depth: cin, ldw: cin, x: x + s * cin * plane + first, ldx: plane,
                                               columns: count, y: y + (s * cout + row0) * plane + first, ldy: plane,
                                               bias: bias.map { $0 + row0 }, activation: activation)
                    }
                }
            }}}}
            return output
        }
        input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
        withProductWeight(allowingPanels: inference) { packed, stored in
            let x = xb.baseAddress!, y = yb.baseAddress!
            Parallel.forEachRange(n * blocks) { _, items in
                let scratch = Self.panelScratch(packed, channels: cout, columns: blockSize)
                defer { scratch?.deallocate() }
                for item in items {
                    let s = item / blocks, first = item % blocks * blockSize, count = min(blockSize, plane - first)
                    // W [C_out, C_in] x X[:, first..<first+count] -> Y[:, first..<first+count]
                    if count > 0 {
                        multiplyWeight(0..<cout, packed: packed, stored: stored, b: x + s * cin * plane + first, ldb: plane, columns: count,
                                       y: y + s * cout * plane + first, ldy: plane, scratch: scratch, residual: adds)
                    }
                }
            }
        }}}
        return output
    }

    /// The input gradient alone (no weight gradient), in the forward pass's blocks.
    func inputGradientPointwise(_ gradOutput: Tensor) -> Tensor {
        let (n, plane) = (gradOutput.shape[0], gradOutput.shape[2] * gradOutput.shape[3])
        let (cin, cout) = (inputChannels, outputChannels)
        var gradInput = Tensor(uninitializedShape: [n, cin, gradOutput.shape[2], gradOutput.shape[3]])
        gradOutput.data.withUnsafeBufferPointer { gb in
        weight.value.data.withUnsafeBufferPointer { wb in
        gradInput.data.withUnsafeMutableBufferPointer { xb in
            let dy = gb.baseAddress!, w = wb.baseAddress!, dx = xb.baseAddress!
            Self.forEachPixelBlock(samples: n, pixels: plane) { s, first, count in
                // W^T [C_in, C_out] x dY[:, first..<first+count] -> dX[:, first..<first+count]
                BLAS.gemm(transA: true, m: cin, n: count, k: cout, a: w, lda: cin, b: dy + s * cout * plane + first, ldb: plane,
                          c: dx + s * cin * plane + first, ldc: plane)
            }
        }}}
        return gradInput
    }
}
