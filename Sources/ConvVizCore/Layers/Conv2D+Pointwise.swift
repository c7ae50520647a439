/// 1x1 convolutions with stride 1 and no padding (ResNet's bottlenecks, MobileNet's
/// expansions and projections): a sample's input `[C_in, H*W]` already is its patch
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

    func forwardPointwise(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = input.shape[0]
        let (cin, cout, plane) = (inputChannels, outputChannels, g.outPlane)
        var output = Tensor(uninitializedShape: [n, cout, g.outHeight, g.outWidth])
        let blocks = Self.pointwiseBlocks(pixels: plane), blockSize = (plane + blocks - 1) / blocks
        input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
        withProductWeight { packed, stored in
            let x = xb.baseAddress!, y = yb.baseAddress!
            Parallel.forEachRange(n * blocks) { _, items in
                let scratch = Self.panelScratch(packed, channels: cout, columns: blockSize)
                defer { scratch?.deallocate() }
                for item in items {
                    let s = item / blocks, first = item % blocks * blockSize, count = min(blockSize, plane - first)
                    // W [C_out, C_in] x X[:, first..<first+count] -> Y[:, first..<first+count]
                    if count > 0 {
                        multiplyWeight(0..<cout, packed: packed, stored: stored, b: x + s * cin * plane + first, ldb: plane, columns: count,
                                       y: y + s * cout * plane + first, ldy: plane, scratch: scratch)
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
