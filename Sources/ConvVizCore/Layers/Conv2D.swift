/// 2-D convolution (cross-correlation, as in every deep-learning framework).
///
/// Input `[N, C_in, H, W]`, weight `[C_out, C_in, K_h, K_w]`, bias `[C_out]`,
/// output `[N, C_out, H', W']` with `H' = floor((H + 2P - D(K-1) - 1)/S) + 1`.
/// The fast path splits the batch across cores; each worker unrolls a few samples at a
/// time (`Im2Col`) into a cache-sized buffer and multiplies with single-threaded
/// OpenBLAS. `Conv2D.referenceForward`/`referenceBackward` are the direct loops tests
/// compare with.
public final class Conv2D: Layer {
    public let name: String
    public var kind: String { "conv" }
    public let inputChannels: Int
    public let outputChannels: Int
    public let window: Window2D
    public let weight: Parameter
    public let bias: Parameter?

    /// Most column-matrix elements a worker unrolls at once (about 2 MB, an L2 cache):
    /// enough samples side by side for a wide GEMM, few enough to stay in cache.
    public var maxColumnElements = 1 << 19

    private var cachedInput: Tensor?
    /// The unrolled patches of the last training forward pass, so the backward pass need
    /// not unroll them again: one `[rows, count * plane]` matrix per worker's range of
    /// samples, starting at offset `range.lowerBound * rows * plane`.
    private var cachedColumns: [Float] = []

    /// Creates a convolution initialised as PyTorch does: weight and bias uniform in
    /// ±1/sqrt(fan_in) (Kaiming-uniform with a = sqrt(5)).
    public init(name: String, inputChannels: Int, outputChannels: Int, window: Window2D,
                bias: Bool = true, rng: inout SeededGenerator) {
        self.name = name
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.window = window
        let fanIn = inputChannels * window.kernel.h * window.kernel.w
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Parameter("weight", .uniform(shape: [outputChannels, inputChannels, window.kernel.h, window.kernel.w], bound: bound, using: &rng))
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

    private func geometry(_ shape: [Int]) -> Im2Col.Geometry {
        let out = try! window.outputSize(height: shape[2], width: shape[3], layer: name)
        return Im2Col.Geometry(channels: shape[1], height: shape[2], width: shape[3], window: window,
                               outHeight: out.h, outWidth: out.w)
    }

    /// Samples whose unrolled patches fit the column budget (at least one).
    private func samplesPerChunk(_ g: Im2Col.Geometry) -> Int {
        max(1, maxColumnElements / max(1, g.rows * g.outPlane))
    }

    /// Calls `body(start, count)` for consecutive sub-chunks of `range` that fit the
    /// column budget.
    private func forEachChunk(_ range: Range<Int>, _ g: Im2Col.Geometry, _ body: (Int, Int) -> Void) {
        let chunk = samplesPerChunk(g)
        var start = range.lowerBound
        while start < range.upperBound {
            let m = min(chunk, range.upperBound - start)
            body(start, m)
            start += m
        }
    }

    private func chunkCapacity(_ g: Im2Col.Geometry, batch: Int) -> Int {
        min(batch, samplesPerChunk(g)) * g.outPlane
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels, "\(name): input \(input.shape)")
        let n = input.shape[0]
        let g = geometry(input.shape)
        var output = Tensor(uninitializedShape: [n, outputChannels, g.outHeight, g.outWidth])
        let inPlane = inputChannels * g.height * g.width
        let capacity = chunkCapacity(g, batch: n)
        let biasValues = bias?.value.data
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        let caching = mode.recordsForBackward
        // The buffer is kept from step to step: a fresh one would page-fault on every step.
        var cache = caching ? cachedColumns : []
        cachedColumns = []
        if caching && cache.count != n * rows * plane {
            cache = [Float](unsafeUninitializedCapacity: n * rows * plane) { _, c in c = n * rows * plane }
        }
        input.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        output.data.withUnsafeMutableBufferPointer { yb in
        cache.withUnsafeMutableBufferPointer { cb in
            let x = xb.baseAddress!, w = wb.baseAddress!, y = yb.baseAddress!, cacheBase = cb.baseAddress
            Parallel.forEachRange(n) { _, range in
                let scratch = caching ? nil : UnsafeMutablePointer<Float>.allocate(capacity: rows * capacity)
                let prod = UnsafeMutablePointer<Float>.allocate(capacity: cout * capacity)
                defer { scratch?.deallocate(); prod.deallocate() }
                let full = range.count * plane
                forEachChunk(range, g) { start, m in
                    let width = m * plane
                    // Cached: a column block of this worker's matrix; otherwise a scratch chunk.
                    let (cols, ld) = scratch.map { ($0, width) }
                        ?? (cacheBase! + range.lowerBound * rows * plane + (start - range.lowerBound) * plane, full)
                    Im2Col.unroll(x + start * inPlane, samples: m, g, into: cols, ld: ld)
                    // [C_out, rows] x [rows, m*plane] -> [C_out, m*plane]
                    BLAS.gemm(m: cout, n: width, k: rows, a: w, lda: rows, b: cols, ldb: ld, c: prod, ldc: width)
                    // Scatter [C_out, sample, plane] into NCHW, adding the bias.
                    for s in 0..<m {
                        for c in 0..<cout {
                            let src = prod + c * width + s * plane
                            let dst = y + ((start + s) * cout + c) * plane
                            let b = biasValues?[c] ?? 0
                            for i in 0..<plane { dst[i] = src[i] + b }
                        }
                    }
                }
            }
        }}}}
        if caching {
            cachedInput = input
            cachedColumns = cache
        }
        return output
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("\(name): backward without a training forward") }
        let n = input.shape[0]
        let g = geometry(input.shape)
        precondition(gradOutput.shape == [n, outputChannels, g.outHeight, g.outWidth], "\(name): grad \(gradOutput.shape)")
        var gradInput = needsInputGradient ? Tensor(shape: input.shape) : nil
        let inPlane = inputChannels * g.height * g.width
        let capacity = chunkCapacity(g, batch: n)
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        let workers = max(1, min(Parallel.workers, n))
        // Each worker accumulates its own dW and db; they are summed at the end, in a
        // fixed order, so results do not depend on scheduling.
        var partialWeight = [Float](repeating: 0, count: workers * weight.value.count)
        var partialBias = [Float](repeating: 0, count: workers * cout)
        let weightCount = weight.value.count
        precondition(cachedColumns.count == n * rows * plane, "\(name): no cached patches")
        cachedColumns.withUnsafeBufferPointer { cb in
        gradOutput.data.withUnsafeBufferPointer { dyb in
        weight.value.data.withUnsafeBufferPointer { wb in
        partialWeight.withUnsafeMutableBufferPointer { pwb in
        partialBias.withUnsafeMutableBufferPointer { pbb in
        withOptionalMutablePointer(&gradInput) { dx in
            let cached = cb.baseAddress!, dy = dyb.baseAddress!, w = wb.baseAddress!
            let pw = pwb.baseAddress!, pb = pbb.baseAddress!
            Parallel.forEachRange(n) { part, range in
                let full = range.count * plane
                let cols = cached + range.lowerBound * rows * plane
                // dY of this worker's samples as one [C_out, count*plane] matrix.
                let gcm = UnsafeMutablePointer<Float>.allocate(capacity: cout * full)
                let dcols = dx == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: rows * capacity)
                defer { dcols?.deallocate(); gcm.deallocate() }
                let dw = pw + part * weightCount, db = pb + part * cout
                for s in 0..<range.count {
                    for c in 0..<cout {
                        let src = dy + ((range.lowerBound + s) * cout + c) * plane
                        (gcm + c * full + s * plane).update(from: src, count: plane)
                        var acc: Float = 0
                        for i in 0..<plane { acc += src[i] }
                        db[c] += acc
                    }
                }
                // dW = dY [C_out, count*plane] x cols^T [count*plane, rows]: one wide GEMM.
                BLAS.gemm(transB: true, m: cout, n: rows, k: full, a: gcm, lda: full, b: cols, ldb: full,
                          c: dw, ldc: rows)
                if let dx, let dcols {
                    forEachChunk(range, g) { start, m in
                        // dCols = W^T [rows, C_out] x dY [C_out, m*plane], folded back onto the input.
                        let width = m * plane, offset = (start - range.lowerBound) * plane
                        BLAS.gemm(transA: true, m: rows, n: width, k: cout, a: w, lda: rows, b: gcm + offset, ldb: full,
                                  c: dcols, ldc: width)
                        Im2Col.fold(dcols, samples: m, g, into: dx + start * inPlane)
                    }
                }
            }
        }}}}}}
        for part in 0..<workers {
            for i in 0..<weightCount { weight.grad.data[i] += partialWeight[part * weightCount + i] }
            if let bias { for c in 0..<cout { bias.grad.data[c] += partialBias[part * cout + c] } }
        }
        return gradInput
    }
}

/// Gives `body` the tensor's storage, or nil when there is no tensor.
func withOptionalMutablePointer<R>(_ t: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    if t == nil { return body(nil) }
    return t!.data.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
