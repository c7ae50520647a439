/// The input gradient alone (`accumulatesParameterGradients` off: attribution, feature
/// visualization) of a small batch whose maps are too large for `Conv2D+SmallMaps` and
/// that Winograd does not take: a ResNet's 7x7 stride-2 stem and its stride-2 3x3 layers
/// at batch 1.
///
/// Why: training's backward splits the batch among the cores, so a batch of one ran on one
/// core (ResNet-18's stem: 4.7 ms of a 44 ms backward pass, loaded machine). Here each
/// sample's channel-major gradient matrix `dCols = W^T dY` (`[C_in*K*K, H'*W']`) is
/// computed in fixed blocks of output pixels, then folded back in fixed blocks of input
/// channels (whole channels, so the blocks write disjoint parts of the input), or with
/// fewer channels than blocks in blocks of each channel's rows. The blocks are the same
/// for any number of cores, and so are the bytes.
extension Conv2D {
    /// Whether a batch of `n` takes this path: no groups, fewer samples than
    /// `smallBatchItems`, and a gradient matrix of at most 32 MiB per sample.
    func runsSmallBatchInputGradient(_ g: Im2Col.Geometry, samples n: Int) -> Bool {
        groups == 1 && n < Self.smallBatchItems && g.rows * g.outPlane <= Self.smallBatchGradientElements
    }

    static let smallBatchGradientElements = 1 << 23
    /// Blocks of output pixels (the product) and of input channels (the fold): enough for 8 cores.
    static let smallBatchBlocks = 8

    func inputGradientSmallBatch(_ gradOutput: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = gradOutput.shape[0]
        let (cout, cin, rows, plane, taps) = (outputChannels, inputChannels, g.rows, g.outPlane, window.kernel.h * window.kernel.w)
        var gradInput = Tensor(uninitializedShape: [n, cin, g.height, g.width])
        let pixelBlock = (plane + Self.smallBatchBlocks - 1) / Self.smallBatchBlocks
        let pixelBlocks = (plane + pixelBlock - 1) / pixelBlock
        let channelBlock = (cin + Self.smallBatchBlocks - 1) / Self.smallBatchBlocks
        let channelBlocks = (cin + channelBlock - 1) / channelBlock
        let dcols = UnsafeMutablePointer<Float>.allocate(capacity: rows * plane + Im2Col.slack)
        defer { dcols.deallocate() }
        gradOutput.data.withUnsafeBufferPointer { gb in
        weight.value.data.withUnsafeBufferPointer { wb in
        gradInput.data.withUnsafeMutableBufferPointer { xb in
            let w = wb.baseAddress!
            let (dyAll, dxAll, cols) = (UncheckedSendable(gb.baseAddress!), UncheckedSendable(xb.baseAddress!), UncheckedSendable(dcols))
            for s in 0..<n {
                let dy = dyAll.value + s * cout * plane
                Parallel.forEachRange(pixelBlocks) { _, blocks in
                    for b in blocks {
                        let lo = b * pixelBlock, count = min(pixelBlock, plane - lo)
                        // W^T [rows, C_out] x dY[:, lo..<lo+count] -> dCols[:, lo..<lo+count]
                        BLAS.gemm(transA: true, m: rows, n: count, k: cout, a: w, lda: rows, b: dy + lo, ldb: plane,
                                  c: cols.value + lo, ldc: plane)
                    }
                }
                if cin < Self.smallBatchBlocks {
                    // Few channels (a stem's 3): each channel's fold in blocks of padded rows.
                    let paddedHeight = g.paddedHeight
                    let rowBlocks = (Self.smallBatchBlocks + cin - 1) / cin
                    let rowBlock = (paddedHeight + rowBlocks - 1) / rowBlocks
                    Parallel.forEachRange(cin * rowBlocks) { _, items in
                        let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.withChannels(1).paddedCount + Im2Col.slack)
                        defer { padded.deallocate() }
                        for item in items {
                            let c = item / rowBlocks, lo = item % rowBlocks * rowBlock
                            guard lo < paddedHeight else { continue }
                            Im2Col.foldRows(cols.value + c * taps * plane, g, rows: lo..<min(paddedHeight, lo + rowBlock), scratch: padded,
                                            into: dxAll.value + (s * cin + c) * g.height * g.width)
                        }
                    }
                    continue
                }
                Parallel.forEachRange(channelBlocks) { _, blocks in
                    let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.withChannels(channelBlock).paddedCount + Im2Col.slack)
                    defer { padded.deallocate() }
                    for b in blocks {
                        let first = b * channelBlock, count = min(channelBlock, cin - first)
                        Im2Col.foldChannels(cols.value + first * taps * plane, g, count: count, scratch: padded,
                                            into: dxAll.value + (s * cin + first) * g.height * g.width)
                    }
                }
            }
        }}}
        return gradInput
    }
}
