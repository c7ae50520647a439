import Foundation

/// 2-D convolution (cross-correlation, as in every deep-learning framework).
///
/// Input `[N, C_in, H, W]`, weight `[C_out, C_in, K_h, K_w]`, bias `[C_out]`,
/// output `[N, C_out, H', W']` with `H' = floor((H + 2P - D(K-1) - 1)/S) + 1`.
/// The fast path splits the batch across cores; each worker unrolls its samples' patches
/// (`Im2Col`) into a cache-sized matrix and multiplies it with single-threaded OpenBLAS.
/// Two layouts: pixel-major patches (here) for inputs with many channels, channel-major
/// (`Conv2D+ChannelMajor`) for few; `Im2Col.prefersChannelMajor` chooses. The backward
/// pass rebuilds the patches rather than keeping them. Grouped and depthwise convolutions
/// (`groups > 1`, weight `[C_out, C_in/groups, K_h, K_w]`) run direct loops instead
/// (`Conv2D+Grouped`). `Conv2D.referenceForward` and `referenceBackward` are the direct
/// loops tests compare with.
public final class Conv2D: ParameterGradientToggle {
    public let name: String
    public let inputChannels: Int
    public let outputChannels: Int
    public let window: Window2D
    /// Channel groups: each output channel sees `inputChannels / groups` input channels.
    public let groups: Int
    /// Inference only: the ReLU that follows runs here, on each block of output while it
    /// is in cache (`Graph.fusingActivations`); never set for training.
    public var rectifiesOutput = false
    /// Inference only: the clip that follows (ReLU6 is `0...6`) runs here, in the same way.
    public var clipsOutput: ClosedRange<Float>?
    /// Inference only, for one call: the residual addition that follows runs here (set by
    /// `Graph.forward` for the additions `Graph.fusingResidualAdditions` chose; the
    /// profile counts its time in this layer's). This value, of the output's shape, is added after the
    /// bias and before the fused activation; the paths with their own epilogues write the
    /// output in its storage (`addsResidualInEpilogue`), the others add it after.
    var residual: Tensor?
    /// Inference only, for one call: the max pool that follows runs here (set by
    /// `Graph.forward` for the pools `Graph.fusingPools` chose), and the call returns the
    /// pooled map. The stem pools each block of its rows while they are in cache; other
    /// paths pool their output after.
    var pooling: MaxPool2D?
    public let weight: Parameter
    public let bias: Parameter?

    /// Whether 3x3 and 5x5 stride-1 layers with 16 or more channels run through Winograd's
    /// F(2x2, r x r) (`Conv2D+Winograd`); tests turn it off to compare, and so does
    /// `CONVVIZ_WINOGRAD=0` in the environment (for side-by-side benchmarks).
    public var usesWinograd = Conv2D.winogradByDefault

    /// Whether `backward` adds the weight and bias gradients (training). Off, it computes
    /// the input gradient alone, about half the work (`Graph.gradients` for attribution).
    public var accumulatesParameterGradients = true

    static let winogradByDefault = ProcessInfo.processInfo.environment["CONVVIZ_WINOGRAD"] != "0"
    /// `CONVVIZ_WINOGRAD_F4=0` keeps inference on F(2x2, 3x3) (`runsFourByFour`).
    static let fourByFourByDefault = ProcessInfo.processInfo.environment["CONVVIZ_WINOGRAD_F4"] != "0"

    /// Most patch-matrix elements a worker unrolls at once (about 2 MB, an L2 cache).
    public var maxColumnElements = 1 << 19
    /// Samples are unrolled together until a GEMM is at least this many pixels wide, so
    /// that small late-layer maps still make OpenBLAS-sized products.
    public var minimumGEMMWidth = 128
    /// Most floats the weight gradient's per-slice partial sums may take together
    /// (`BatchPartition(samples:partialsOf:budget:)`): 16 MiB.
    public var partialSumBudget = 1 << 22

    private var cachedInput: Tensor?

    /// Winograd's transformed kernels kept between calls while the weight does not change,
    /// outside training (`Conv2D+Winograd`): keyed by transform and direction (forward, or
    /// the flipped kernels of the input gradient; `winogradCacheKey`). Each takes
    /// alpha^2/r^2 of the weight's memory: 16/9 for 3x3, 36/25 for 5x5, 36/9 for F(4x4, 3x3).
    /// Released with the layer.
    var winogradKernelCache: [Int: (version: Int, kernels: [Float])] = [:]
    /// Calls of at least this many Winograd tiles transform the kernels without keeping them.
    static let winogradCacheTiles = 256
    /// The weight packed for `PanelGEMM` (`Conv2D+PanelGEMM`), kept as the transforms are.
    var panelWeightCache: (version: Int, panels: [Float])?
    /// Its transpose's panels, for input gradients.
    var transposedPanelCache: (version: Int, panels: [Float])?
    /// Whether small-batch inference products take `PanelGEMM` where the CPU has it; tests
    /// turn it off to compare, and so does `CONVVIZ_PANEL_GEMM=0`.
    public var usesPanelGEMM = true
    /// Whether a pure inference pass on the panel kernel releases the weight as stored
    /// (`Conv2D+PanelGEMM`); set by `forward`.
    var releasesWeightAfterPacking = false
    /// Whether the last forward pass was outside training, so that transforms may be kept.
    var keepsWinogradKernels = false
    /// Whether inference on small batches of small maps takes `forwardSmallMaps`, and input
    /// gradients of small batches `inputGradientSmallMaps` or `inputGradientSmallBatch`;
    /// tests turn it off to compare, and so does `CONVVIZ_SMALL_MAPS=0` (benchmarks).
    public var usesSmallMapPath = ProcessInfo.processInfo.environment["CONVVIZ_SMALL_MAPS"] != "0"
    /// `CONVVIZ_WINOGRAD_CACHE=0` transforms on every call, as before the cache (for
    /// side-by-side benchmarks).
    static let cachesWinogradKernels = ProcessInfo.processInfo.environment["CONVVIZ_WINOGRAD_CACHE"] != "0"

    /// Creates a convolution initialised as PyTorch does: weight and bias uniform in
    /// ±1/sqrt(fan_in) (Kaiming-uniform with a = sqrt(5)).
    public init(name: String, inputChannels: Int, outputChannels: Int, window: Window2D, groups: Int = 1,
                bias: Bool = true, rng: inout SeededGenerator) {
        precondition(groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0, "\(name): groups \(groups)")
        self.name = name
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.window = window
        self.groups = groups
        let fanIn = inputChannels / groups * window.kernel.h * window.kernel.w
        let bound = KaimingUniform.bound(fanIn: fanIn)
        weight = Parameter("weight", .uniform(shape: [outputChannels, inputChannels / groups, window.kernel.h, window.kernel.w], bound: bound, using: &rng))
        self.bias = bias ? Parameter("bias", .uniform(shape: [outputChannels], bound: bound, using: &rng)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3 else { throw ShapeError(layer: name, "expects [C, H, W] input, got \(input)") }
        guard input[0] == inputChannels else {
            throw ShapeError(layer: name, "expects \(inputChannels) input channels, got \(input[0])")
        }
        let out = try window.outputSize(height: input[1], width: input[2], layer: name)
        return [outputChannels, out.h, out.w]
    }

    func geometry(_ shape: [Int]) -> Im2Col.Geometry {
        let out = try! window.outputSize(height: shape[2], width: shape[3], layer: name)
        return Im2Col.Geometry(channels: shape[1], height: shape[2], width: shape[3], window: window,
                               outHeight: out.h, outWidth: out.w)
    }

    /// Samples unrolled per GEMM: enough for `minimumGEMMWidth` pixels, within the budget
    /// times `budgetScale`. The forward pass takes 4: a late layer's 7x7 maps with 4,608
    /// rows then still make 147-pixel GEMMs (measured: ResNet-18's last stage 15% faster).
    /// The chunking depends on the batch, not on the worker count; a forward output is the
    /// same dot product whatever the chunk, but GEMMs of other shapes may round it
    /// otherwise (OpenBLAS promises nothing there), so a sample's output can differ in the
    /// last bits with the batch it is in. The backward pass keeps 1: its weight gradient
    /// sums over the chunk, so the chunking fixes its rounding.
    private func samplesPerChunk(_ g: Im2Col.Geometry, budgetScale: Int = 1) -> Int {
        let wanted = (minimumGEMMWidth + g.outPlane - 1) / max(1, g.outPlane)
        let fits = budgetScale * maxColumnElements / max(1, g.rows * g.outPlane)
        return max(1, min(wanted, fits))
    }

    /// Calls `body(start, count)` for consecutive chunks of `range`.
    private func forEachChunk(_ range: Range<Int>, _ g: Im2Col.Geometry, budgetScale: Int = 1, _ body: (Int, Int) -> Void) {
        let chunk = samplesPerChunk(g, budgetScale: budgetScale)
        var start = range.lowerBound
        while start < range.upperBound {
            let m = min(chunk, range.upperBound - start)
            body(start, m)
            start += m
        }
    }

    /// One worker's buffers: a padded sample whose zero border is written once, and a
    /// chunk's patch matrix; both with `Im2Col.slack` floats to spare.
    struct Workspace {
        let padded: UnsafeMutablePointer<Float>
        let patches: UnsafeMutablePointer<Float>
        init(_ g: Im2Col.Geometry, samples: Int) {
            padded = .allocate(capacity: g.paddedCount + Im2Col.slack)
            padded.initialize(repeating: 0, count: g.paddedCount + Im2Col.slack)
            patches = .allocate(capacity: samples * g.outPlane * g.rows + Im2Col.slack)
        }
        func free() { padded.deallocate(); patches.deallocate() }

        /// Unrolls samples `start..<start+count` of `x` into `patches` (pixel-major).
        func unroll(_ x: UnsafePointer<Float>, start: Int, count: Int, _ g: Im2Col.Geometry) {
            for s in 0..<count {
                Im2Col.pad(x + (start + s) * g.inPlane, g, into: padded)
                Im2Col.unroll(padded, g, into: patches + s * g.outPlane * g.rows)
            }
        }
    }

    /// The weight in patch order, `[C_out, rows]`; `transposed`: `[rows, C_out]`.
    private func patchOrderedWeight(_ g: Im2Col.Geometry, transposed: Bool = false) -> [Float] {
        let rows = g.rows, cout = outputChannels
        var ordered = [Float](repeating: 0, count: weight.value.count)
        weight.value.data.withUnsafeBufferPointer { w in
            ordered.withUnsafeMutableBufferPointer { Im2Col.patchOrder(w.baseAddress!, outputs: cout, g, into: $0.baseAddress!) }
        }
        guard transposed else { return ordered }
        var result = ordered
        ordered.withUnsafeBufferPointer { o in
            result.withUnsafeMutableBufferPointer { t in
                Transpose.transpose(o.baseAddress!, rows: cout, columns: rows, srcStride: rows, into: t.baseAddress!, dstStride: cout)
            }
        }
        return result
    }

    /// The ways a forward pass can run, chosen by `forwardPath`.
    enum ForwardPath: Equatable {
        case rowGEMM, smallMaps, pointwise, stem, stridedRows, depthwise, grouped, channelMajor, pixelMajor
        case winograd(kernel: Int)
    }

    /// The path a batch of `n` takes in `mode`: the AVX-512 kernels' paths for inference
    /// first, then by the layer's shape.
    func forwardPath(_ g: Im2Col.Geometry, samples n: Int, mode: Mode) -> ForwardPath {
        let inference = mode != .training
        if inference && runsRowGEMM(pixels: g.outPlane) { return .rowGEMM }
        if usesSmallMapPath && inference && runsSmallMaps(g, samples: n, forward: true) { return .smallMaps }
        if usesSmallMapPath && inference && runsRowGEMM(pixels: g.outPlane, strided: Self.rowGEMMPixels) { return .rowGEMM }
        if isPointwise { return .pointwise }
        if usesSmallMapPath && inference && runsStem(g, samples: n) { return .stem }
        if inference && runsStridedRows { return .stridedRows }
        if runsDepthwise { return .depthwise }
        if groups > 1 { return .grouped }
        if let kernel = winogradKernel(g) { return .winograd(kernel: kernel) }
        return Im2Col.prefersChannelMajor(g) ? .channelMajor : .pixelMajor
    }

    /// In words, the path an inference batch of `input` (shape `[n, C, H, W]`) takes, as
    /// `convviz bench model --profile` prints it beside the layer's time.
    public func inferencePathDescription(input: [Int]) -> String {
        let g = geometry(input)
        let panel = runsPanelGEMM ? "panel kernel" : "OpenBLAS"
        switch forwardPath(g, samples: input[0], mode: .evaluation) {
        case .rowGEMM: return window.stride == Pair(1) ? "row kernel" : "row kernel, subsampled"
        case .smallMaps: return "small maps, \(panel)"
        case .pointwise: return "1x1, \(panel)"
        case .stem: return runsPanelGEMM ? "stem, taps in place" : "stem, OpenBLAS"
        case .stridedRows: return "row blocks, row kernel"
        case .depthwise: return PanelGEMM.isAvailable && usesPanelGEMM && Self.runsVectorKernel(kernel: window.kernel, stride: window.stride) ? "depthwise, AVX-512" : "depthwise"
        case .grouped: return "grouped"
        case let .winograd(kernel): return runsFourByFour(g) ? "Winograd F(4x4,\(kernel)x\(kernel))" : "Winograd F(2x2,\(kernel)x\(kernel))"
        case .channelMajor: return "im2col, OpenBLAS"
        case .pixelMajor: return "im2col by pixel, OpenBLAS"
        }
    }

    /// Whether `path` adds `residual` in its own epilogue: the AVX-512 kernels' (the panel
    /// and row kernels) and Winograd's output transform. The others add it after.
    func addsResidualInEpilogue(_ path: ForwardPath) -> Bool {
        switch path {
        case .rowGEMM, .winograd, .stridedRows: true
        case .smallMaps, .pointwise: runsPanelGEMM
        case .stem, .depthwise, .grouped, .channelMajor, .pixelMajor: false
        }
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels, "\(name): input \(input.shape)")
        let g = geometry(input.shape)
        precondition(!((rectifiesOutput || clipsOutput != nil || residual != nil || pooling != nil) && mode.recordsForBackward),
                     "\(name): a fused activation, addition or pool has no backward pass")
        if let pool = pooling.take() {
            if residual == nil && runsPanelGEMM && forwardPath(g, samples: input.shape[0], mode: mode) == .stem {
                return forwardStemOnTaps(input, g, pooling: pool)
            }
            return pool.forward(forward(input, mode: mode), mode: mode)
        }
        keepsWinogradKernels = mode != .training && Self.cachesWinogradKernels
        if !keepsWinogradKernels { winogradKernelCache = [:]; panelWeightCache = nil; transposedPanelCache = nil }
        releasesWeightAfterPacking = mode == .evaluation
        if mode.recordsForBackward { cachedInput = input }
        let path = forwardPath(g, samples: input.shape[0], mode: mode)
        // Taken out of the layer so that the output, written in its storage, is its only reference.
        let residual = self.residual.take()
        if let residual, !addsResidualInEpilogue(path) { return forwardThenAdding(residual, input, mode: mode) }
        // The row, small-map, pointwise, stem and depthwise paths apply the fused ReLU and
        // clip in their epilogues.
        switch path {
        case .rowGEMM: return forwardPointwise(window.stride == Pair(1) ? input : subsampled(input, g), g, inference: true, residual: residual)
        case .smallMaps: return forwardSmallMaps(input, g, residual: residual)
        case .pointwise: return forwardPointwise(input, g, inference: mode != .training, residual: residual)
        case .stem: return forwardStem(input, g)
        case .stridedRows: return forwardStridedRows(input, g, residual: residual)
        case .depthwise: return forwardDepthwise(input, g, inference: mode != .training)
        // Winograd and the pixel-major path rectify as they store; the clip runs after.
        case let .winograd(kernel):
            return activated(forwardWinograd(input, kernel: kernel, fourOutputs: mode != .training && runsFourByFour(g), residual: residual), rectified: true)
        case .grouped: return activated(forwardGrouped(input, g), rectified: false)
        case .channelMajor: return activated(forwardChannelMajor(input, g), rectified: false)
        case .pixelMajor: return activated(forwardPixelMajor(input, g), rectified: true)
        }
    }

    /// `output` with the fused ReLU (unless `rectified`: applied already) and clip.
    private func activated(_ output: consuming Tensor, rectified: Bool) -> Tensor {
        output.data.withUnsafeMutableBufferPointer { applyFusedActivation($0.baseAddress!, count: $0.count, rectified: rectified) }
        return output
    }

    /// The output of a forward pass of this `shape`: the residual's storage (its values
    /// added in the path's epilogue), or uninitialized floats.
    static func outputTensor(_ shape: [Int], residual: consuming Tensor?) -> Tensor {
        guard let given = residual.take() else { return Tensor(uninitializedShape: shape) }
        precondition(given.shape == shape, "residual \(given.shape) for an output \(shape)")
        return given
    }

    /// A path without a residual epilogue: the output without the fused activation, then
    /// `residual` added and the activation applied in one pass over it. The same sums as
    /// the convolution, then the addition.
    private func forwardThenAdding(_ residual: Tensor, _ input: Tensor, mode: Mode) -> Tensor {
        let (rectifies, clip) = (rectifiesOutput, clipsOutput)
        (rectifiesOutput, clipsOutput) = (false, nil)
        var output = forward(input, mode: mode)
        (rectifiesOutput, clipsOutput) = (rectifies, clip)
        precondition(output.shape == residual.shape, "\(name): residual \(residual.shape) for an output \(output.shape)")
        output.data.withUnsafeMutableBufferPointer { yb in residual.data.withUnsafeBufferPointer { rb in
            let (y, r) = (yb.baseAddress!, rb.baseAddress!)
            Parallel.forEachRange(yb.count, minimumPerPart: 1 << 14) { _, range in
                for i in range { y[i] += r[i] }
                applyFusedActivation(y + range.lowerBound, count: range.count)
            }
        }}
        return output
    }

    /// The fused ReLU, unless `rectified` (applied already), and the fused clip, in place.
    func applyFusedActivation(_ values: UnsafeMutablePointer<Float>, count: Int, rectified: Bool = false) {
        if rectifiesOutput && !rectified { Vector.rectify(values, count: count) }
        if let clip = clipsOutput { Vector.clip(values, count: count, to: clip) }
    }

    /// The epilogue of a product written as output-channel rows: each of `channels`'
    /// rows (`stride` floats apart from `out`, which is `channels.lowerBound`'s) gets its
    /// bias on `count` floats, then the fused ReLU or clip when there is one.
    func finishChannelRows(_ out: UnsafeMutablePointer<Float>, channels: Range<Int>, count: Int, stride: Int) {
        let biasValues = bias?.value.data
        for (row, c) in channels.enumerated() {
            let values = out + row * stride
            if let biasValues { Vector.affine(values, count: count, scale: 1, shift: biasValues[c], into: values) }
            applyFusedActivation(values, count: count)
        }
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("\(name): backward without a training forward") }
        let n = input.shape[0]
        let g = geometry(input.shape)
        precondition(gradOutput.shape == [n, outputChannels, g.outHeight, g.outWidth], "\(name): grad \(gradOutput.shape)")
        let weights = accumulatesParameterGradients
        if !weights && !needsInputGradient { return nil }
        if groups > 1 {
            if !weights && runsDepthwiseInputGradient { return inputGradientDepthwise(gradOutput, inputShape: input.shape) }
            return backwardGrouped(gradOutput, input: input, g, needsInputGradient: needsInputGradient)
        }
        if !weights && usesSmallMapPath && runsSmallMaps(g, samples: n) { return inputGradientSmallMaps(gradOutput, g) }
        if !weights && isPointwise { return inputGradientPointwise(gradOutput) }
        if let kernel = winogradKernel(g) {
            if !weights { return inputGradientWinograd(gradOutput, kernel: kernel) }
            return backwardWinograd(gradOutput, input: input, kernel: kernel, needsInputGradient: needsInputGradient)
        }
        if !weights && usesSmallMapPath && runsSmallBatchInputGradient(g, samples: n) { return inputGradientSmallBatch(gradOutput, g) }
        // Each slice of the batch accumulates its own dW and db (its first GEMM
        // overwrites), summed afterwards slice by slice: the same bytes on any core count
        // (on one CPU and OpenBLAS kernel).
        let partition = BatchPartition(samples: n, partialsOf: weight.value.count, budget: partialSumBudget)
        let partials = weights ? partition.slices * weight.value.count : 1
        var partialWeight = [Float](unsafeUninitializedCapacity: partials) { _, k in k = partials }
        var partialBias = [Float](repeating: 0, count: weights ? partition.slices * outputChannels : 1)
        let gradInput = Im2Col.prefersChannelMajor(g)
            ? backwardChannelMajor(gradOutput, input: input, g, partition, needsInputGradient: needsInputGradient,
                                   partialWeight: &partialWeight, partialBias: &partialBias)
            : backwardPixelMajor(gradOutput, input: input, g, partition, needsInputGradient: needsInputGradient,
                                 partialWeight: &partialWeight, partialBias: &partialBias)
        if weights, let bias { partition.addSlices(partialBias, onto: &bias.grad.data) }
        return gradInput
    }

    // Both passes multiply the pixel-major patch matrix with the weight so that OpenBLAS
    // gets its fastest shapes (no transposed operand where K is small); the products are
    // channels-last `[pixels, C_out]`, transposed to NCHW while cache-hot.

    /// Output rows unrolled at once when one sample's patch matrix is larger than the
    /// budget (a 56x56 map with 64 channels unrolls to 7 MB): blocks of rows keep the
    /// matrix in cache, and they share out the work of a small batch among the cores.
    func rowsPerBlock(_ g: Im2Col.Geometry) -> Int {
        max(1, min(g.outHeight, maxColumnElements / max(1, g.rows * g.outWidth)))
    }

    /// Pixel-major forward pass over blocks of output rows, each block one GEMM; work
    /// items are (sample, block) pairs. Every output element is the same dot product as
    /// in the whole-sample GEMM, but the GEMM has another shape: AVX-512's small-matrix
    /// kernel rounds it alike, packed AVX2 kernels (Haswell, Zen) need not, so blocked and
    /// whole-sample results agree within float32 rounding (`InferencePathTests`). The
    /// blocking depends on the batch and the layer only: the same bytes on any core count.
    private func forwardPixelMajorInRowBlocks(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = input.shape[0]
        let (cout, rows, plane, outW) = (outputChannels, g.rows, g.outPlane, g.outWidth)
        var blockRows = rowsPerBlock(g)
        // A small batch: split each sample so that every core has rows. The split is
        // the same for any number of cores, so that every GEMM, and so every output,
        // is too (it does depend on the batch size).
        let items = Self.smallBatchItems
        if n < items { blockRows = min(blockRows, max(1, (g.outHeight * n + items - 1) / items)) }
        let blocks = (g.outHeight + blockRows - 1) / blockRows
        return withForwardPointers(input, g) { x, wt, b, y in
            Parallel.forEachRange(n * blocks) { _, items in
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.paddedCount + Im2Col.slack)
                padded.initialize(repeating: 0, count: g.paddedCount + Im2Col.slack)
                let patches = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * outW * rows + Im2Col.slack)
                let product = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * outW * cout)
                defer { padded.deallocate(); patches.deallocate(); product.deallocate() }
                var paddedSample = -1
                for item in items {
                    let sample = item / blocks, first = item % blocks * blockRows
                    let outRows = first..<min(g.outHeight, first + blockRows)
                    if sample != paddedSample { Im2Col.pad(x + sample * g.inPlane, g, into: padded); paddedSample = sample }
                    Im2Col.unroll(padded, g, outRows: outRows, into: patches)
                    let m = outRows.count * outW
                    BLAS.gemm(m: m, n: cout, k: rows, a: patches, lda: rows, b: wt, ldb: cout, c: product, ldc: cout)
                    Transpose.transpose(product, rows: m, columns: cout, srcStride: cout,
                                        into: y + sample * cout * plane + first * outW, dstStride: plane, adding: b)
                    if rectifiesOutput {
                        for c in 0..<cout { Vector.rectify(y + (sample * cout + c) * plane + first * outW, count: m) }
                    }
                }
            }
        }
    }

    /// The output tensor, and the input, the patch-ordered transposed weight `[rows, C_out]`,
    /// the bias (zeros without one) and the output as pointers for a forward pass.
    private func withForwardPointers(_ input: Tensor, _ g: Im2Col.Geometry,
                                     _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        var output = Tensor(uninitializedShape: [input.shape[0], outputChannels, g.outHeight, g.outWidth])
        let biasValues = bias?.value.data ?? [Float](repeating: 0, count: outputChannels)
        let transposedWeight = patchOrderedWeight(g, transposed: true)
        input.data.withUnsafeBufferPointer { xb in
        transposedWeight.withUnsafeBufferPointer { wb in
        biasValues.withUnsafeBufferPointer { bb in
        output.data.withUnsafeMutableBufferPointer { yb in
            body(xb.baseAddress!, wb.baseAddress!, bb.baseAddress!, yb.baseAddress!)
        }}}}
        return output
    }

    /// Work items a small batch is cut into (blocks of output rows), so that up to
    /// this many cores share it.
    static let smallBatchItems = 8

    private func forwardPixelMajor(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        if rowsPerBlock(g) < g.outHeight || input.shape[0] < Self.smallBatchItems { return forwardPixelMajorInRowBlocks(input, g) }
        let n = input.shape[0]
        let chunk = min(n, samplesPerChunk(g, budgetScale: 4))
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        // Chunks start at multiples of `chunk` whatever the number of workers, so each
        // GEMM has the same shape and operands on any core count.
        let chunks = (n + chunk - 1) / chunk
        return withForwardPointers(input, g) { x, wt, b, y in
            Parallel.forEachRange(chunks) { _, chunkRange in
                let space = Workspace(g, samples: chunk)
                let product = UnsafeMutablePointer<Float>.allocate(capacity: chunk * plane * cout)
                defer { space.free(); product.deallocate() }
                forEachChunk(chunkRange.lowerBound * chunk..<min(n, chunkRange.upperBound * chunk), g, budgetScale: 4) { start, m in
                    space.unroll(x, start: start, count: m, g)
                    // patches [m*plane, rows] x W^T [rows, C_out] -> [m*plane, C_out]
                    BLAS.gemm(m: m * plane, n: cout, k: rows, a: space.patches, lda: rows, b: wt, ldb: cout,
                              c: product, ldc: cout)
                    for s in 0..<m {
                        Transpose.transpose(product + s * plane * cout, rows: plane, columns: cout, srcStride: cout,
                                            into: y + (start + s) * cout * plane, dstStride: plane, adding: b)
                        if rectifiesOutput { Vector.rectify(y + (start + s) * cout * plane, count: cout * plane) }
                    }
                }
            }
        }
    }

    /// Fills `partialWeight` (per slice of the batch, as `[rows, C_out]`) and
    /// `partialBias`; adds the weight gradient; returns the input gradient when asked.
    private func backwardPixelMajor(_ gradOutput: Tensor, input: Tensor, _ g: Im2Col.Geometry, _ partition: BatchPartition, needsInputGradient: Bool,
                                    partialWeight: inout [Float], partialBias: inout [Float]) -> Tensor? {
        let weightGradient = accumulatesParameterGradients
        let n = input.shape[0]
        var gradInput = needsInputGradient ? Tensor(uninitializedShape: input.shape) : nil
        let chunk = min(n, samplesPerChunk(g))
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        let ordered = patchOrderedWeight(g)
        let weightCount = weight.value.count
        input.data.withUnsafeBufferPointer { xb in
        gradOutput.data.withUnsafeBufferPointer { dyb in
        ordered.withUnsafeBufferPointer { wb in
        partialWeight.withUnsafeMutableBufferPointer { pwb in
        partialBias.withUnsafeMutableBufferPointer { pbb in
        withOptionalMutablePointer(&gradInput) { dx in
            let x = xb.baseAddress!, dy = dyb.baseAddress!, w = wb.baseAddress!
            let pw = pwb.baseAddress!, pb = pbb.baseAddress!
            partition.forEachWorker { slices in
                // The patches are unrolled again rather than kept from the forward pass:
                // a cache-sized chunk rebuilt from the input is cheaper than reading a
                // 25x-input-sized matrix back from memory.
                let space = Workspace(g, samples: chunk)
                let gradPixels = UnsafeMutablePointer<Float>.allocate(capacity: chunk * plane * cout)
                let dpatches = dx == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: chunk * plane * rows)
                let dpadded = dx == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.paddedCount)
                defer { space.free(); gradPixels.deallocate(); dpatches?.deallocate(); dpadded?.deallocate() }
                for slice in slices {
                let dw = pw + slice * weightCount, db = pb + slice * cout
                var first = true
                forEachChunk(partition.range(ofSlice: slice), g) { start, m in
                    // dY of the chunk channels-last, [m*plane, C_out]; db is its column sum.
                    for s in 0..<m {
                        let src = dy + (start + s) * cout * plane, dst = gradPixels + s * plane * cout
                        Transpose.transpose(src, rows: cout, columns: plane, srcStride: plane, into: dst, dstStride: cout)
                        if weightGradient { for c in 0..<cout { db[c] += Vector.sum(src + c * plane, count: plane) } }
                    }
                    if weightGradient {
                        // dW^T [rows, C_out] += patches^T [rows, m*plane] x dY [m*plane, C_out]
                        space.unroll(x, start: start, count: m, g)
                        BLAS.gemm(transA: true, m: rows, n: cout, k: m * plane, a: space.patches, lda: rows,
                                  b: gradPixels, ldb: cout, beta: first ? 0 : 1, c: dw, ldc: cout)
                    }
                    first = false
                    if let dx, let dpatches, let dpadded {
                        // dPatches [m*plane, rows] = dY [m*plane, C_out] x W [C_out, rows], folded back.
                        BLAS.gemm(m: m * plane, n: rows, k: cout, a: gradPixels, lda: cout, b: w, ldb: rows,
                                  c: dpatches, ldc: rows)
                        for s in 0..<m {
                            dpadded.update(repeating: 0, count: g.paddedCount)
                            Im2Col.fold(dpatches + s * plane * rows, g, into: dpadded)
                            Im2Col.unpad(dpadded, g, into: dx + (start + s) * g.inPlane)
                        }
                    }
                }
                }
            }
        }}}}}}
        guard weightGradient else { return gradInput }
        // Sum the slices' [rows, C_out] partials, then add them in weight order.
        var total = [Float](repeating: 0, count: weightCount), patchOrdered = total
        partition.addSlices(partialWeight, onto: &total)
        total.withUnsafeBufferPointer { t in
        patchOrdered.withUnsafeMutableBufferPointer { p in
        weight.grad.data.withUnsafeMutableBufferPointer { grad in
            Transpose.transpose(t.baseAddress!, rows: rows, columns: cout, srcStride: cout, into: p.baseAddress!, dstStride: rows)
            Im2Col.addInWeightOrder(p.baseAddress!, outputs: cout, g, onto: grad.baseAddress!)
        }}}
        return gradInput
    }
}

/// Gives `body` the tensor's storage, or nil when there is no tensor.
func withOptionalMutablePointer<R>(_ t: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    if t == nil { return body(nil) }
    return t!.data.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
