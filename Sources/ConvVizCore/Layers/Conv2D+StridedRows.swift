/// Inference of a strided convolution (ResNet's first 3x3 of each stage) at a batch too
/// large for small maps, on the row kernel: blocks of a sample's output rows whose
/// channel-major patch matrix fits in L2 with the weight, each block's input rows padded
/// and unrolled in cache and multiplied by the weight as stored straight into NCHW rows,
/// with the bias, a residual and the fused activation in the kernel's epilogue.
///
/// Why: the pixel-major path unrolled each sample's whole `[pixels, C*K*K]` matrix (1.8
/// MB for ResNet-18's layer2.0.conv1) and multiplied it by the transposed weight with
/// OpenBLAS, out of L2: that layer took 5.2 ms at batch 16 against onnxruntime's 3.8. The
/// blocks depend on the layer only, so the bytes are the same on any number of cores.
extension Conv2D {
    /// Whether a batch takes `forwardStridedRows`: the AVX-512 kernels, a strided layer
    /// that is not 1x1 (those take the row kernel on a subsampled input) and has more
    /// input channels than a stem (`runsStem`), no groups or dilation.
    var runsStridedRows: Bool {
        runsPanelGEMM && window.stride != Pair(1) && window.kernel != Pair(1) && window.dilation == Pair(1) && inputChannels > 4
    }

    /// Floats of a block's patch matrix: 512 KB, half of this machine's L2 per core.
    static let stridedRowsBlockFloats = 1 << 17

    /// `residual`: added in the epilogue, the output written in its storage.
    func forwardStridedRows(_ input: Tensor, _ g: Im2Col.Geometry, residual: consuming Tensor? = nil) -> Tensor {
        let n = input.shape[0]
        let (cout, rows, plane, ow) = (outputChannels, g.rows, g.outPlane, g.outWidth)
        let (k, s, p) = (window.kernel, window.stride, window.padding)
        let blockRows = max(1, min(g.outHeight, Self.stridedRowsBlockFloats / max(1, rows * ow)))
        let blocks = (g.outHeight + blockRows - 1) / blockRows
        // A block's padded input rows: each block pads only the rows it reads, in cache (a
        // whole padded copy of the batch was 14 MB written and read back at batch 16).
        let paddedRows = (blockRows - 1) * s.h + k.h, paddedWidth = g.paddedWidth
        let adds = residual != nil
        var output = Self.outputTensor([n, cout, g.outHeight, ow], residual: residual.take())
        input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
        weight.value.data.withUnsafeBufferPointer { wb in
        withBiasValues { bias in
            let (x, y, w, activation) = (xb.baseAddress!, yb.baseAddress!, wb.baseAddress!, kernelActivation(residual: adds))
            Parallel.forEachRange(n * blocks) { _, items in
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * blockRows * ow + Im2Col.slack)
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.channels * paddedRows * paddedWidth + Im2Col.slack)
                defer { cols.deallocate(); padded.deallocate() }
                for item in items {
                    let sample = item / blocks, first = item % blocks * blockRows, count = min(blockRows, g.outHeight - first)
                    // Padded rows first*s.h ..< first*s.h + read of the sample, zeros outside it.
                    let top = first * s.h, read = (count - 1) * s.h + k.h
                    padded.update(repeating: 0, count: g.channels * read * paddedWidth + Im2Col.slack)
                    for c in 0..<g.channels {
                        for r in 0..<read {
                            let iy = top + r - p.h
                            guard iy >= 0 && iy < g.height else { continue }
                            (padded + (c * read + r) * paddedWidth + p.w).update(from: x + (sample * g.channels + c) * g.height * g.width + iy * g.width, count: g.width)
                        }
                    }
                    // Those rows as a sample of `read - 2 p.h` rows whose padding they include.
                    let block = Im2Col.Geometry(channels: g.channels, height: read - 2 * p.h, width: g.width, window: g.window,
                                                outHeight: count, outWidth: ow)
                    Im2Col.unrollChannelMajor(padded, block, into: cols)
                    let pixels = count * ow
                    PanelGEMM.multiplyRows(w, rows: cout, depth: rows, ldw: rows, x: cols, ldx: pixels, columns: pixels,
                                           y: y + sample * cout * plane + first * ow, ldy: plane, bias: bias, activation: activation)
                }
            }
        }}}}
        return output
    }
}
