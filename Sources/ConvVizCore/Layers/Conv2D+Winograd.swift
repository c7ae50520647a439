/// 3x3 stride-1 convolutions through Winograd's F(2x2, 3x3) (`Winograd`): the forward
/// pass, and the input gradient, which is the same kind of convolution (the output
/// gradient with the kernels turned by 180 degrees, inputs and outputs swapped, and
/// padding 2 - P). The weight gradient keeps the im2col GEMM.
///
/// Samples are taken in blocks of whole samples whose transformed tiles fit in cache;
/// the blocks are the same for any number of workers, and every output element is one
/// dot product per position over the same channels, so results do not depend on the
/// core count.
extension Conv2D {
    /// Whether this geometry runs through Winograd: 3x3, stride 1, no dilation, no
    /// groups, padding up to 2, and at least 16 channels in and out (with fewer, the
    /// transforms cost more than the multiplications they save, and a first layer's
    /// few channels go through the channel-major matrix).
    func runsWinograd(_ g: Im2Col.Geometry) -> Bool {
        usesWinograd && groups == 1 && window.kernel == Pair(3) && window.stride == Pair(1) && window.dilation == Pair(1)
            && window.padding.h <= 2 && window.padding.w <= 2 && g.channels >= 16 && outputChannels >= 16
    }

    func forwardWinograd(_ input: Tensor) -> Tensor {
        let (cin, cout) = (inputChannels, outputChannels)
        var u = [Float](repeating: 0, count: 16 * cout * cin)
        weight.value.data.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { ub in
                Winograd.transformKernels(outputs: cout, inputs: cin, into: ub.baseAddress!) { o, i, r, c in w[((o * cin + i) * 3 + r) * 3 + c] }
            }
        }
        return Self.winograd(input, outputs: cout, padding: window.padding, kernels: u, bias: bias?.value.data, rectify: rectifiesOutput)
    }

    /// dL/d(input) for `gradOutput` `[N, C_out, H', W']`: `[N, C_in, H, W]`.
    func inputGradientWinograd(_ gradOutput: Tensor) -> Tensor {
        let (cin, cout) = (inputChannels, outputChannels)
        var u = [Float](repeating: 0, count: 16 * cout * cin)
        weight.value.data.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { ub in
                Winograd.transformKernels(outputs: cin, inputs: cout, into: ub.baseAddress!) { o, i, r, c in w[((i * cin + o) * 3 + 2 - r) * 3 + 2 - c] }
            }
        }
        let padding = Pair(2 - window.padding.h, 2 - window.padding.w)
        return Self.winograd(gradOutput, outputs: cin, padding: padding, kernels: u, bias: nil, rectify: false)
    }

    /// The 3x3 stride-1 convolution of `x` `[N, C, H, W]` with transformed kernels
    /// `kernels` (16 x outputs x C), plus `bias`, rectified when asked.
    static func winograd(_ x: Tensor, outputs: Int, padding: Pair, kernels: [Float], bias: [Float]?, rectify: Bool) -> Tensor {
        let (n, channels) = (x.shape[0], x.shape[1])
        let g = Winograd.Geometry(channels: channels, height: x.shape[2], width: x.shape[3], padding: padding)
        // About 2 MB of transformed input and products per block (an L2 cache).
        let targetTiles = max(8, 32768 / (channels + outputs))
        let samplesPerBlock = max(1, min(n, targetTiles / max(1, g.tiles)))
        let blocks = (n + samplesPerBlock - 1) / samplesPerBlock
        let stride = samplesPerBlock * g.tiles + 8
        let (inPlane, outSample) = (channels * g.height * g.width, outputs * g.outHeight * g.outWidth)
        var y = Tensor(uninitializedShape: [n, outputs, g.outHeight, g.outWidth])
        x.data.withUnsafeBufferPointer { xb in
        kernels.withUnsafeBufferPointer { ub in
        y.data.withUnsafeMutableBufferPointer { yb in
        withOptionalPointer(bias) { b in
            let x = xb.baseAddress!, u = ub.baseAddress!, y = yb.baseAddress!
            Parallel.forEachRange(blocks) { _, blockRange in
                let paddedCount = channels * g.paddedPlane + 16
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)
                padded.initialize(repeating: 0, count: paddedCount)
                let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * channels * stride)
                let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * outputs * stride)
                defer { padded.deallocate(); v.deallocate(); m.deallocate() }
                for block in blockRange {
                    let first = block * samplesPerBlock, count = min(samplesPerBlock, n - first)
                    for s in 0..<count {
                        Winograd.pad(x + (first + s) * inPlane, g, into: padded)
                        Winograd.transformInput(padded, g, into: v, first: s * g.tiles, stride: stride)
                    }
                    // M[xi] [outputs, tiles] = U[xi] [outputs, C] x V[xi] [C, tiles]
                    for xi in 0..<16 {
                        BLAS.gemm(m: outputs, n: count * g.tiles, k: channels, a: u + xi * outputs * channels, lda: channels,
                                  b: v + xi * channels * stride, ldb: stride, c: m + xi * outputs * stride, ldc: stride)
                    }
                    for s in 0..<count {
                        Winograd.transformOutput(m, g, outputs: outputs, first: s * g.tiles, stride: stride, bias: b, rectify: rectify,
                                                 into: y + (first + s) * outSample)
                    }
                }
            }
        }}}}
        return y
    }
}

/// Gives `body` the array's storage, or nil when there is no array.
func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress!) }
}
