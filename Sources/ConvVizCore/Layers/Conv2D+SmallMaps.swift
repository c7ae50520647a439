import CKernels

/// Inference on small batches of small maps (a photo at batch 1 through a ResNet's last
/// stages: 14x14 and 7x7 maps with 256 to 512 channels): one channel-major patch matrix
/// per sample, `[C_in*K*K, H'*W']`, and the weight as stored times that matrix, split
/// into blocks of output channels that the cores share.
///
/// Why: with so few pixels every other path makes products a few pixels wide and
/// OpenBLAS packs the whole weight for each (the pixel-major path cut a 7x7 map into
/// seven one-row GEMMs; Winograd a 4x4-tile map into sixteen 16-tile products): ResNet-18's
/// 7x7 layers took 20 to 70 ms each at batch 1. Here each block packs its rows of the
/// weight once. The blocks are the same for any number of cores, so the bytes are too;
/// they differ from a large batch's (other GEMM shapes) within rounding.
extension Conv2D {
    /// Whether a batch of `n` takes this path: no groups and at most `smallMapPixels`
    /// output pixels in the whole batch (any stride: a stride-2 layer's taps are gathered
    /// one by one, which costs little next to the product for so few pixels; ResNet-18's
    /// layer4.0.conv1 took 3.7 ms at batch 1 in seven one-row GEMMs before).
    /// `forward`: inference on the panel kernel takes it up to `smallMapStridedPixels` at
    /// any stride, except where F(4x4, 3x3) runs (rows of 24 outputs and more: ResNet-18's
    /// 28x28 layers at batch 1 took 0.6-1.0 ms here against its 0.4); the input gradient
    /// (OpenBLAS) keeps `smallMapPixels` at stride 1.
    func runsSmallMaps(_ g: Im2Col.Geometry, samples n: Int, forward: Bool = false) -> Bool {
        let widened = g.window.stride.w > 1 || (forward && runsPanelGEMM && !runsFourByFour(g))
        return groups == 1 && n * g.outPlane <= (widened ? Self.smallMapStridedPixels : Self.smallMapPixels)
    }

    /// Output pixels of a batch below which `forwardSmallMaps` is taken: ResNet's 14x14
    /// and 7x7 stages at batch 1, the 7x7 stage up to batch 5.
    static let smallMapPixels = 256
    /// The same for a strided layer, which has no Winograd path: ResNet's first 28x28
    /// layer of a stage and its 1x1 shortcut at batch 1 (0.48 -> 0.39 ms and 0.12 -> 0.08
    /// ms on 2 cores against the pixel-major path); and for any layer on the panel kernel
    /// (ResNet-18's 7x7 stage at batch 16, 784 pixels: 10.4-11.2 -> 9.7-10.0 ms, F(2x2) before).
    static let smallMapStridedPixels = 1024
    /// Blocks of input channels the input gradient's product is cut into: enough for 8 cores.
    static let smallMapChannelBlocks = 8

    /// Output channels per block of the forward product: at most `smallMapBlockChannels`
    /// channels, and at least two blocks, so that two cores share even a 64-channel layer;
    /// whole panels for `PanelGEMM`. A number of the layer's, not of the cores: the same
    /// bytes on any core count. Not more blocks: for OpenBLAS every block repacks the
    /// whole patch matrix, and smaller blocks run its kernel on shorter panels (ResNet-18 at
    /// batch 1, 2 cores: eight blocks took 0.97 ms for a 14x14 3x3 layer with 256 channels
    /// and 0.90 ms for a 7x7 one with 512; two blocks 0.70 and 0.77 ms; one core 1.12 and
    /// 1.43). The panel kernel gives the same bytes for any blocks.
    func forwardBlockChannels(outputs: Int) -> Int {
        let blocks = max(2, (outputs + Self.smallMapBlockChannels - 1) / Self.smallMapBlockChannels)
        let size = (outputs + blocks - 1) / blocks
        guard runsPanelGEMM else { return size }
        return PanelGEMM.panels(rows: size) * PanelGEMM.panelRows
    }
    static let smallMapBlockChannels = 256

    /// `residual` (on the panel kernel): added in the epilogue, the output written in its storage.
    func forwardSmallMaps(_ input: Tensor, _ g: Im2Col.Geometry, residual: consuming Tensor? = nil) -> Tensor {
        let n = input.shape[0]
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        let adds = residual != nil
        var output = Self.outputTensor([n, cout, g.outHeight, g.outWidth], residual: residual.take())
        let blockSize = forwardBlockChannels(outputs: cout)
        let blocks = (cout + blockSize - 1) / blockSize
        let patches = UnsafeMutablePointer<Float>.allocate(capacity: n * rows * plane + Im2Col.slack)
        defer { patches.deallocate() }
        input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
        withProductWeight { packed, stored in
            let x = xb.baseAddress!, y = yb.baseAddress!
            // Unrolled once per sample (small: at most 256 pixels), then shared.
            for s in 0..<n { Im2Col.unrollChannelMajorOnAllCores(x + s * g.inPlane, g, into: patches + s * rows * plane) }
            Parallel.forEachRange(n * blocks) { _, items in
                let scratch = Self.panelScratch(packed, channels: blockSize, columns: plane)
                defer { scratch?.deallocate() }
                for item in items {
                    let s = item / blocks, first = item % blocks * blockSize
                    // W[first..<first+count, rows] x cols[rows, plane] -> Y[first..<first+count, plane]
                    multiplyWeight(first..<min(cout, first + blockSize), packed: packed, stored: stored, b: patches + s * rows * plane, ldb: plane,
                                   columns: plane, y: y + s * cout * plane, ldy: plane, scratch: scratch, residual: adds)
                }
            }
        }}}
        return output
    }

    /// The input gradient alone (no weight gradients: attribution, feature visualization)
    /// of a batch that took `forwardSmallMaps`: `W^T dY` as a channel-major matrix, folded
    /// back onto the input. Work items are (sample, block of input channels), the same for
    /// any number of cores; each block's rows are whole channels, so blocks fold into
    /// disjoint parts of the input. The other paths split such a batch into a few one-row
    /// products or none (ResNet-18's 14x14 and 7x7 stages: 3.6-4.1 ms per layer at batch 1
    /// on the loaded machine).
    func inputGradientSmallMaps(_ gradOutput: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = gradOutput.shape[0]
        let (cout, cin, plane, taps) = (outputChannels, inputChannels, g.outPlane, window.kernel.h * window.kernel.w)
        var gradInput = Tensor(uninitializedShape: [n, cin, g.height, g.width])
        // On the panel kernel each block's rows of W^T start a panel: blocks of whole
        // multiples of 32 channels (taps x 32 rows).
        let panels = runsPanelGEMM
        let wanted = (cin + Self.smallMapChannelBlocks - 1) / Self.smallMapChannelBlocks
        let blockSize = panels ? (wanted + 31) / 32 * 32 : wanted
        let blocks = (cin + blockSize - 1) / blockSize
        gradOutput.data.withUnsafeBufferPointer { gb in
        gradInput.data.withUnsafeMutableBufferPointer { xb in
        withProductWeight(transposed: true) { packed, stored in
            let dy = gb.baseAddress!, dx = xb.baseAddress!
            Parallel.forEachRange(n * blocks) { _, items in
                let block = g.withChannels(blockSize)
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: block.rows * plane + Im2Col.slack)
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: block.paddedCount + Im2Col.slack)
                let scratch = Self.panelScratch(packed, channels: block.rows, columns: plane)
                defer { cols.deallocate(); padded.deallocate(); scratch?.deallocate() }
                for item in items {
                    let s = item / blocks, first = item % blocks * blockSize, count = min(blockSize, cin - first)
                    // W[:, rows of these channels]^T x dY[C_out, plane] -> cols[rows, plane]
                    if let packed, let scratch {
                        let rows = first * taps..<(first + count) * taps, p = PanelGEMM.panelRows
                        PanelGEMM.multiply(packed, rows: cin * taps, depth: cout, panels: rows.lowerBound / p..<PanelGEMM.panels(rows: rows.upperBound),
                                           b: dy + s * cout * plane, ldb: plane, columns: plane, y: cols - rows.lowerBound * plane, ldy: plane,
                                           bias: nil, activation: PanelGEMM.identity, scratch: scratch)
                    } else {
                        BLAS.gemm(transA: true, m: count * taps, n: plane, k: cout, a: stored! + first * taps, lda: cin * taps,
                                  b: dy + s * cout * plane, ldb: plane, c: cols, ldc: plane)
                    }
                    Im2Col.foldChannels(cols, g, count: count, scratch: padded, into: dx + (s * cin + first) * g.height * g.width)
                }
            }
        }}}
        return gradInput
    }
}
