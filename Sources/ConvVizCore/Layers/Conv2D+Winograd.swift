/// 3x3 and 5x5 stride-1 convolutions through Winograd's F(2x2, r x r) (`Winograd`): the
/// forward pass; the input gradient, which is the same kind of convolution (the output
/// gradient with the kernels turned by 180 degrees, inputs and outputs swapped, and
/// padding r - 1 - P); and the weight gradient, the forward algebra run backwards.
///
/// Samples are taken in blocks of whole samples whose transformed tiles fit in cache;
/// the blocks are the same for any number of workers, every output element is one dot
/// product per position over the same channels, and the weight gradient is summed per
/// `BatchPartition` slice: results do not depend on the core count. They do depend, in
/// the last bits, on the batch: its size sets the blocks (and a small batch's split of
/// tile rows), so the GEMMs' shapes, and OpenBLAS's packed kernels may round products of
/// other shapes otherwise. Batches of different sizes agree within float32 rounding.
extension Conv2D {
    /// The transform this geometry runs through, if any: a square 3x3 or 5x5 kernel,
    /// stride 1, no dilation, no groups, padding below the kernel size, and at least 16
    /// channels in and out (with fewer, the transforms cost more than the
    /// multiplications they save, and a first layer's few channels go through the
    /// channel-major matrix).
    func winogradKernel(_ g: Im2Col.Geometry) -> Int? {
        guard usesWinograd && groups == 1 && window.kernel.h == window.kernel.w && window.stride == Pair(1)
                && window.dilation == Pair(1) && g.channels >= 16 && outputChannels >= 16,
              WinogradTransform.forKernel(window.kernel.h) != nil,
              window.padding.h < window.kernel.h && window.padding.w < window.kernel.w else { return nil }
        return window.kernel.h
    }

    func runsWinograd(_ g: Im2Col.Geometry) -> Bool { winogradKernel(g) != nil }

    // Each entry point calls the generic pass with a concrete `WinogradTiles` type, so
    // that the compiler specializes it and inlines the tile arithmetic.

    /// Whether inference takes F(4x4, 3x3): a 3x3 layer whose rows hold at least
    /// `fourByFourWidth` outputs, so that eight tiles of four fill the vector lanes (on
    /// smaller maps the lanes of F(2x2) hold several tile rows). `CONVVIZ_WINOGRAD_F4=0`
    /// turns it off. Training and gradients keep F(2x2): its error is smaller.
    func runsFourByFour(_ g: Im2Col.Geometry) -> Bool {
        Self.fourByFourByDefault && window.kernel == Pair(3) && g.outWidth >= Self.fourByFourWidth
    }

    static let fourByFourWidth = 24

    /// `residual`: added in the output transform, the output written in its storage.
    func forwardWinograd(_ input: Tensor, kernel: Int, fourOutputs: Bool = false, residual: consuming Tensor? = nil) -> Tensor {
        switch kernel {
        case 3 where fourOutputs: forwardWinograd(input, WinogradTiles3x4.self, residual: residual.take())
        case 3: forwardWinograd(input, WinogradTiles3.self, residual: residual.take())
        case 5: forwardWinograd(input, WinogradTiles5.self, residual: residual.take())
        default: preconditionFailure("\(name): no Winograd transform for \(kernel)x\(kernel)")
        }
    }

    /// Adds the weight and bias gradients; returns the input gradient when asked.
    func backwardWinograd(_ gradOutput: Tensor, input: Tensor, kernel: Int, needsInputGradient: Bool) -> Tensor? {
        switch kernel {
        case 3: backwardWinograd(gradOutput, input: input, WinogradTiles3.self, needsInputGradient: needsInputGradient)
        case 5: backwardWinograd(gradOutput, input: input, WinogradTiles5.self, needsInputGradient: needsInputGradient)
        default: preconditionFailure("\(name): no Winograd transform for \(kernel)x\(kernel)")
        }
    }

    /// The input gradient alone (no weight gradient), through the flipped kernels.
    func inputGradientWinograd(_ gradOutput: Tensor, kernel: Int) -> Tensor {
        switch kernel {
        case 3: inputGradientWinograd(gradOutput, WinogradTiles3.self)
        case 5: inputGradientWinograd(gradOutput, WinogradTiles5.self)
        default: preconditionFailure("\(name): no Winograd transform for \(kernel)x\(kernel)")
        }
    }

    private func backwardWinograd<K: WinogradTiles>(_ gradOutput: Tensor, input: Tensor, _ k: K.Type, needsInputGradient: Bool) -> Tensor? {
        let t = K.transform
        // Per slice of the batch: the transformed weight gradient dU and the bias
        // gradient; summed slice by slice, then dU is taken back to the kernels once.
        let transformedCount = t.alpha * t.alpha * outputChannels * inputChannels
        let partition = BatchPartition(samples: input.shape[0], partialsOf: transformedCount, budget: partialSumBudget)
        var partialTransformed = [Float](unsafeUninitializedCapacity: partition.slices * transformedCount) { _, n in n = partition.slices * transformedCount }
        var partialBias = [Float](repeating: 0, count: partition.slices * outputChannels)
        transformedWeightGradient(gradOutput, input: input, k, partition, partialTransformed: &partialTransformed, partialBias: &partialBias)
        var transformed = [Float](repeating: 0, count: transformedCount)
        partition.addSlices(partialTransformed, onto: &transformed)
        transformed.withUnsafeBufferPointer { du in
            weight.grad.data.withUnsafeMutableBufferPointer { dw in
                Winograd.kernelGradient(t, du.baseAddress!, outputs: outputChannels, inputs: inputChannels, into: dw.baseAddress!)
            }
        }
        if let bias { partition.addSlices(partialBias, onto: &bias.grad.data) }
        return needsInputGradient ? inputGradientWinograd(gradOutput, k) : nil
    }

    private func forwardWinograd<K: WinogradTiles>(_ input: Tensor, _ k: K.Type, residual: consuming Tensor?) -> Tensor {
        let u = transformedKernels(K.transform, flipped: false, for: input)
        return Self.winograd(k, input, outputs: outputChannels, padding: window.padding, kernels: u, bias: bias?.value.data, rectify: rectifiesOutput,
                             residual: residual.take())
    }

    /// dL/d(input) for `gradOutput` `[N, C_out, H', W']`: `[N, C_in, H, W]`.
    private func inputGradientWinograd<K: WinogradTiles>(_ gradOutput: Tensor, _ k: K.Type) -> Tensor {
        let r = K.transform.kernel
        let u = transformedKernels(K.transform, flipped: true, for: gradOutput)
        let padding = Pair(r - 1 - window.padding.h, r - 1 - window.padding.w)
        return Self.winograd(k, gradOutput, outputs: inputChannels, padding: padding, kernels: u, bias: nil, rectify: false)
    }

    /// The weight's transformed kernels: `[xi][C_out][C_in]`, or flipped for the input
    /// gradient, `[xi][C_in][C_out]`; outside training, kept until the weight changes
    /// (evaluation at batch 1 and feature visualization's hundreds of passes transformed
    /// them on every call). The same bytes either way: the same function of the same weight.
    /// Kept only for calls of fewer than `winogradCacheTiles` tiles: a kernel's transform
    /// costs about 84 multiply-adds and its products 16 per tile, so past 256 tiles the
    /// transform is under 2% of the call (4% on one core against two), and the kept
    /// kernels (16/9 of a 3x3 weight) would cost more memory than they save time
    /// (ResNet-18 at batch 16: 58 MB of peak memory).
    private func transformedKernels(_ t: WinogradTransform, flipped: Bool, for batch: Tensor) -> [Float] {
        let m = t.alpha - t.kernel + 1
        let tiles = batch.shape[0] * ((batch.shape[2] + m - 1) / m) * ((batch.shape[3] + m - 1) / m)
        let key = Self.winogradCacheKey(t, flipped: flipped)
        guard keepsWinogradKernels && tiles < Self.winogradCacheTiles else {
            winogradKernelCache[key] = nil
            return transformKernels(t, flipped: flipped)
        }
        if let kept = winogradKernelCache[key], kept.version == weight.version { return kept.kernels }
        let kernels = transformKernels(t, flipped: flipped)
        winogradKernelCache[key] = (weight.version, kernels)
        return kernels
    }

    /// The cache's key: the transform (kernel and outputs per tile) and the direction.
    static func winogradCacheKey(_ t: WinogradTransform, flipped: Bool) -> Int { (t.kernel * 8 + t.outputs) * 2 + (flipped ? 1 : 0) }

    private func transformKernels(_ t: WinogradTransform, flipped: Bool) -> [Float] {
        let count = t.alpha * t.alpha * outputChannels * inputChannels
        return [Float](unsafeUninitializedCapacity: count) { u, initialized in
            weight.value.data.withUnsafeBufferPointer { w in
                Winograd.transformKernels(t, w.baseAddress!, outputs: outputChannels, inputs: inputChannels, flipped: flipped, into: u.baseAddress!)
            }
            initialized = count
        }
    }

    /// Samples per block: about 2 MB of transformed tiles and products (an L2 cache), but
    /// at least `minimumWinogradTiles` tiles: OpenBLAS packs a position's `[K, C]`
    /// kernels for every product, which costs too much when few tiles share them (wide
    /// layers on small maps).
    private static func winogradSamplesPerBlock(_ t: WinogradTransform, _ g: Winograd.Geometry, outputs: Int, samples: Int) -> Int {
        let targetTiles = max(minimumWinogradTiles, (1 << 19) / (t.alpha * t.alpha) / (g.channels + outputs))
        return max(1, min(samples, targetTiles / max(1, g.tiles)))
    }

    static let minimumWinogradTiles = 128

    /// The r x r stride-1 convolution of `x` `[N, C, H, W]` with transformed kernels
    /// `kernels` (alpha^2 x outputs x C), plus `bias`, plus `residual` (written in its
    /// storage), rectified when asked.
    private static func winograd<K: WinogradTiles>(_ k: K.Type, _ x: Tensor, outputs: Int, padding: Pair, kernels: [Float], bias: [Float]?,
                                                   rectify: Bool, residual: consuming Tensor? = nil) -> Tensor {
        let t = K.transform, (n, channels, positions) = (x.shape[0], x.shape[1], t.alpha * t.alpha)
        let g = Winograd.Geometry(channels: channels, height: x.shape[2], width: x.shape[3], kernel: t.kernel, padding: padding, step: t.outputs)
        let samplesPerBlock = winogradSamplesPerBlock(t, g, outputs: outputs, samples: n)
        let blocks = (n + samplesPerBlock - 1) / samplesPerBlock
        let stride = samplesPerBlock * g.tiles + 8
        let (inPlane, outSample) = (channels * g.height * g.width, outputs * g.outHeight * g.outWidth)
        let adding = residual != nil
        var y = outputTensor([n, outputs, g.outHeight, g.outWidth], residual: residual.take())
        x.data.withUnsafeBufferPointer { xb in
        kernels.withUnsafeBufferPointer { ub in
        y.data.withUnsafeMutableBufferPointer { yb in
        withOptionalPointer(bias) { b in
            let x = xb.baseAddress!, u = ub.baseAddress!, y = yb.baseAddress!
            if n < smallBatchItems && n * g.tiles <= minimumWinogradTiles {
                smallBatch(k, x, u, y, n: n, outputs: outputs, g, bias: b, rectify: rectify, adding: adding)
                return
            }
            if n < smallBatchItems && g.tilesHigh > g.rowsPerGroup {
                // A small batch, an image at a time in the extreme: each sample's tile rows
                // are cut into parts of whole lane groups, so that the cores share it. The
                // parts depend on the batch and the layer only.
                let groups = (g.tilesHigh + g.rowsPerGroup - 1) / g.rowsPerGroup
                let wanted = min(groups, (smallBatchItems + n - 1) / n)
                let rowsPerPart = (groups + wanted - 1) / wanted * g.rowsPerGroup
                let parts = (g.tilesHigh + rowsPerPart - 1) / rowsPerPart
                let stride = rowsPerPart * g.tilesWide + 8
                Parallel.forEachRange(n * parts) { _, items in
                    let space = Winograd.Workspace(t, g, outputs: outputs, stride: stride)
                    defer { space.free() }
                    var paddedSample = -1
                    for item in items {
                        let (s, part) = (item / parts, item % parts)
                        let rows = part * rowsPerPart..<min(g.tilesHigh, (part + 1) * rowsPerPart)
                        if s != paddedSample { Winograd.pad(x + s * inPlane, g, into: space.padded); paddedSample = s }
                        Winograd.transformInput(k, space.padded, g, tileRows: rows, scratch: space.scratch, into: space.inputTiles, first: 0, stride: stride)
                        multiply(u, space.inputTiles, into: space.products, positions: positions, outputs: outputs, channels: channels,
                                 tiles: rows.count * g.tilesWide, stride: stride)
                        Winograd.transformOutput(k, space.products, g, tileRows: rows, scratch: space.scratch, outputs: outputs, first: 0,
                                                 stride: stride, bias: b, rectify: rectify, adding: adding, into: y + s * outSample)
                    }
                }
                return
            }
            Parallel.forEachRange(blocks) { _, blockRange in
                let space = Winograd.Workspace(t, g, outputs: outputs, stride: stride)
                defer { space.free() }
                let (padded, v, m, scratch) = (space.padded, space.inputTiles, space.products, space.scratch)
                for block in blockRange {
                    let first = block * samplesPerBlock, count = min(samplesPerBlock, n - first)
                    for s in 0..<count {
                        Winograd.pad(x + (first + s) * inPlane, g, into: padded)
                        Winograd.transformInput(k, padded, g, scratch: scratch, into: v, first: s * g.tiles, stride: stride)
                    }
                    multiply(u, v, into: m, positions: positions, outputs: outputs, channels: channels, tiles: count * g.tiles, stride: stride)
                    for s in 0..<count {
                        Winograd.transformOutput(k, m, g, scratch: scratch, outputs: outputs, first: s * g.tiles, stride: stride,
                                                 bias: b, rectify: rectify, adding: adding, into: y + (first + s) * outSample)
                    }
                }
            }
        }}}}
        return y
    }

    /// A small batch of few tiles (at most `minimumWinogradTiles` in all: a 28x28 map at
    /// batch 1 under F(4x4)) in three passes over the whole batch, each shared by the
    /// cores: the input tiles by channel, then one product per position (`alpha^2` of them)
    /// of all the batch's tiles, then the outputs by channel. Why: cutting each sample into
    /// parts of tile rows, each with its own products, made them a few tiles wide (that
    /// map: seven parts, 36 products of 7 tiles each), and OpenBLAS packed each position's
    /// kernels for every one of them: ResNet-18's 28x28 3x3 layers took 2.3-2.4 ms on an
    /// AVX2 machine (OpenBLAS's Zen kernels), here 1.2-1.6 (onnxruntime 1.7). Not for more
    /// tiles: ResNet-18's 56x56 layers (196 tiles, 28 per part) went from 1.2-1.3 to 2.1 ms,
    /// their tiles and products (3.6 MB) out of L2. Each product has the same shape on
    /// any number of cores: the same bytes.
    private static func smallBatch<K: WinogradTiles>(_ k: K.Type, _ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                                     n: Int, outputs: Int, _ g: Winograd.Geometry, bias: UnsafePointer<Float>?,
                                                     rectify: Bool, adding: Bool) {
        let t = K.transform, channels = g.channels, positions = t.alpha * t.alpha
        let (inPlane, outSample) = (channels * g.height * g.width, outputs * g.outHeight * g.outWidth)
        // Samples side by side in each row of V and M, with Winograd's eight floats of slack after the last.
        let stride = n * g.tiles + 8
        let v = UnsafeMutablePointer<Float>.allocate(capacity: positions * channels * stride)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: positions * outputs * stride)
        defer { v.deallocate(); m.deallocate() }
        // Each worker pads its channels into its own buffer (F(4x4)'s loads read a little
        // past a plane), zero border written once; each channel's samples in order, so that
        // a sample's last lanes past its tiles are overwritten by the next sample's
        // (`Winograd.transformInput`).
        Parallel.forEachRange(channels) { _, cs in
            let scratch = Winograd.Scratch(t)
            let count = cs.count * g.paddedPlane + 16
            let planes = UnsafeMutablePointer<Float>.allocate(capacity: count)
            planes.initialize(repeating: 0, count: count)
            defer { scratch.free(); planes.deallocate() }
            let base = planes - cs.lowerBound * g.paddedPlane  // where channel 0's plane would be
            for s in 0..<n {
                Winograd.pad(x + s * inPlane, g, channels: cs, into: base)
                Winograd.transformInput(k, base, g, channels: cs, scratch: scratch, into: v, first: s * g.tiles, stride: stride)
            }
        }
        Parallel.forEachRange(positions) { _, xis in
            for xi in xis {
                BLAS.gemm(m: outputs, n: n * g.tiles, k: channels, a: u + xi * outputs * channels, lda: channels,
                          b: v + xi * channels * stride, ldb: stride, c: m + xi * outputs * stride, ldc: stride)
            }
        }
        Parallel.forEachRange(outputs) { _, ks in
            let scratch = Winograd.Scratch(t)
            defer { scratch.free() }
            for s in 0..<n {
                Winograd.transformOutput(k, m, g, scratch: scratch, outputs: outputs, only: ks, first: s * g.tiles, stride: stride,
                                         bias: bias, rectify: rectify, adding: adding, into: y + s * outSample)
            }
        }
    }

    /// `M[xi] [outputs, tiles] = U[xi] [outputs, C] x V[xi] [C, tiles]` for every position.
    private static func multiply(_ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, into m: UnsafeMutablePointer<Float>,
                                 positions: Int, outputs: Int, channels: Int, tiles: Int, stride: Int) {
        for xi in 0..<positions {
            BLAS.gemm(m: outputs, n: tiles, k: channels, a: u + xi * outputs * channels, lda: channels,
                      b: v + xi * channels * stride, ldb: stride, c: m + xi * outputs * stride, ldc: stride)
        }
    }

    /// Fills `partialTransformed` (per slice of the batch, `dU[xi][C_out][C_in]`) and
    /// `partialBias` with the gradients of each slice's samples.
    private func transformedWeightGradient<K: WinogradTiles>(_ gradOutput: Tensor, input: Tensor, _ k: K.Type, _ partition: BatchPartition,
                                                             partialTransformed: inout [Float], partialBias: inout [Float]) {
        let t = K.transform, (channels, outputs, positions) = (inputChannels, outputChannels, t.alpha * t.alpha)
        let g = Winograd.Geometry(channels: channels, height: input.shape[2], width: input.shape[3], kernel: t.kernel, padding: window.padding)
        // Blocks divide a slice evenly, so that the products are as wide as they can be.
        let perSlice = partition.samplesPerSlice
        let most = Self.winogradSamplesPerBlock(t, g, outputs: outputs, samples: perSlice)
        let blocksPerSlice = (perSlice + most - 1) / most
        let samplesPerBlock = (perSlice + blocksPerSlice - 1) / blocksPerSlice
        let stride = samplesPerBlock * g.tiles + 8
        let (inPlane, outPlane) = (channels * g.height * g.width, g.outHeight * g.outWidth)
        let transformedCount = positions * outputs * channels
        input.data.withUnsafeBufferPointer { xb in
        gradOutput.data.withUnsafeBufferPointer { dyb in
        partialTransformed.withUnsafeMutableBufferPointer { pub in
        partialBias.withUnsafeMutableBufferPointer { pbb in
            let x = xb.baseAddress!, dy = dyb.baseAddress!
            partition.forEachWorker { slices in
                let space = Winograd.Workspace(t, g, outputs: outputs, stride: stride)
                defer { space.free() }
                let (padded, v, dm, scratch) = (space.padded, space.inputTiles, space.products, space.scratch)
                for slice in slices {
                    let samples = partition.range(ofSlice: slice)
                    let du = pub.baseAddress! + slice * transformedCount, db = pbb.baseAddress! + slice * outputs
                    var start = samples.lowerBound
                    while start < samples.upperBound {
                        let count = min(samplesPerBlock, samples.upperBound - start)
                        for s in 0..<count {
                            let sample = start + s
                            Winograd.pad(x + sample * inPlane, g, into: padded)
                            Winograd.transformInput(k, padded, g, scratch: scratch, into: v, first: s * g.tiles, stride: stride)
                            let gy = dy + sample * outputs * outPlane
                            Winograd.transformOutputGradient(k, gy, g, scratch: scratch, outputs: outputs, into: dm, first: s * g.tiles, stride: stride)
                            for c in 0..<outputs { db[c] += Vector.sum(gy + c * outPlane, count: outPlane) }
                        }
                        // dU[xi] [outputs, C] += dM[xi] [outputs, tiles] x V[xi]^T [tiles, C]
                        for xi in 0..<positions {
                            BLAS.gemm(transB: true, m: outputs, n: channels, k: count * g.tiles, a: dm + xi * outputs * stride, lda: stride,
                                      b: v + xi * channels * stride, ldb: stride, beta: start == samples.lowerBound ? 0 : 1,
                                      c: du + xi * outputs * channels, ldc: channels)
                        }
                        start += count
                    }
                }
            }
        }}}}
    }
}

/// Gives `body` the array's storage, or nil when there is no array.
func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress!) }
}
