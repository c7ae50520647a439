/// 2-D convolution (cross-correlation, as in every deep-learning framework).
///
/// Input `[N, C_in, H, W]`, weight `[C_out, C_in, K_h, K_w]`, bias `[C_out]`,
/// output `[N, C_out, H', W']` with `H' = floor((H + 2P - D(K-1) - 1)/S) + 1`.
/// The fast path unrolls patches (`Im2Col`) and multiplies with OpenBLAS;
/// `Conv2D.referenceForward`/`referenceBackward` are the direct loops tests compare with.
public final class Conv2D: Layer {
    public let name: String
    public var kind: String { "conv" }
    public let inputChannels: Int
    public let outputChannels: Int
    public let window: Window2D
    public let weight: Parameter
    public let bias: Parameter?

    /// Most column-matrix elements unrolled at once; larger batches go in chunks, so
    /// memory stays bounded while each GEMM stays wide.
    public var maxColumnElements = 1 << 23

    private var cachedInput: Tensor?

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

    private func chunkSize(_ g: Im2Col.Geometry, batch: Int) -> Int {
        max(1, min(batch, maxColumnElements / max(1, g.rows * g.outPlane)))
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels, "\(name): input \(input.shape)")
        let n = input.shape[0]
        let g = geometry(input.shape)
        var output = Tensor(shape: [n, outputChannels, g.outHeight, g.outWidth])
        let chunk = chunkSize(g, batch: n)
        var cols = [Float](repeating: 0, count: g.rows * chunk * g.outPlane)
        var product = [Float](repeating: 0, count: outputChannels * chunk * g.outPlane)
        let inPlane = inputChannels * g.height * g.width
        input.data.withUnsafeBufferPointer { x in
        weight.value.data.withUnsafeBufferPointer { w in
        output.data.withUnsafeMutableBufferPointer { y in
        cols.withUnsafeMutableBufferPointer { cols in
        product.withUnsafeMutableBufferPointer { prod in
            var start = 0
            while start < n {
                let m = min(chunk, n - start)
                let width = m * g.outPlane
                Im2Col.unroll(x.baseAddress! + start * inPlane, samples: m, g, into: cols.baseAddress!)
                // [C_out, rows] x [rows, m*plane] -> [C_out, m*plane]
                BLAS.gemm(m: outputChannels, n: width, k: g.rows,
                          a: w.baseAddress!, lda: g.rows, b: cols.baseAddress!, ldb: width,
                          c: prod.baseAddress!, ldc: width)
                // Scatter [C_out, sample, plane] into NCHW, adding the bias.
                for s in 0..<m {
                    for c in 0..<outputChannels {
                        let src = prod.baseAddress! + c * width + s * g.outPlane
                        let dst = y.baseAddress! + ((start + s) * outputChannels + c) * g.outPlane
                        let b = bias?.value.data[c] ?? 0
                        for i in 0..<g.outPlane { dst[i] = src[i] + b }
                    }
                }
                start += m
            }
        }}}}}
        if mode == .training { cachedInput = input }
        return output
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("\(name): backward without a training forward") }
        let n = input.shape[0]
        let g = geometry(input.shape)
        precondition(gradOutput.shape == [n, outputChannels, g.outHeight, g.outWidth], "\(name): grad \(gradOutput.shape)")
        let chunk = chunkSize(g, batch: n)
        var cols = [Float](repeating: 0, count: g.rows * chunk * g.outPlane)
        var gradChannelMajor = [Float](repeating: 0, count: outputChannels * chunk * g.outPlane)
        var gradInput = needsInputGradient ? Tensor(shape: input.shape) : nil
        let inPlane = inputChannels * g.height * g.width
        if let bias {
            gradOutput.data.withUnsafeBufferPointer { dy in
                for s in 0..<n {
                    for c in 0..<outputChannels {
                        let p = dy.baseAddress! + (s * outputChannels + c) * g.outPlane
                        var acc: Float = 0
                        for i in 0..<g.outPlane { acc += p[i] }
                        bias.grad.data[c] += acc
                    }
                }
            }
        }
        input.data.withUnsafeBufferPointer { x in
        gradOutput.data.withUnsafeBufferPointer { dy in
        weight.value.data.withUnsafeBufferPointer { w in
        weight.grad.data.withUnsafeMutableBufferPointer { dw in
        cols.withUnsafeMutableBufferPointer { cols in
        gradChannelMajor.withUnsafeMutableBufferPointer { gcm in
            var start = 0
            while start < n {
                let m = min(chunk, n - start)
                let width = m * g.outPlane
                // NCHW gradient -> [C_out, m*plane]
                for s in 0..<m {
                    for c in 0..<outputChannels {
                        (gcm.baseAddress! + c * width + s * g.outPlane)
                            .update(from: dy.baseAddress! + ((start + s) * outputChannels + c) * g.outPlane, count: g.outPlane)
                    }
                }
                // Patches are unrolled again rather than cached: cheap next to the GEMMs,
                // and it keeps the forward pass from holding a copy per layer.
                Im2Col.unroll(x.baseAddress! + start * inPlane, samples: m, g, into: cols.baseAddress!)
                // dW += dY [C_out, m*plane] x cols^T [m*plane, rows]
                BLAS.gemm(transB: true, m: outputChannels, n: g.rows, k: width,
                          a: gcm.baseAddress!, lda: width, b: cols.baseAddress!, ldb: width,
                          beta: 1, c: dw.baseAddress!, ldc: g.rows)
                if gradInput != nil {
                    // dCols = W^T [rows, C_out] x dY [C_out, m*plane], folded back onto the input.
                    BLAS.gemm(transA: true, m: g.rows, n: width, k: outputChannels,
                              a: w.baseAddress!, lda: g.rows, b: gcm.baseAddress!, ldb: width,
                              c: cols.baseAddress!, ldc: width)
                    gradInput!.data.withUnsafeMutableBufferPointer { dx in
                        Im2Col.fold(cols.baseAddress!, samples: m, g, into: dx.baseAddress! + start * inPlane)
                    }
                }
                start += m
            }
        }}}}}}
        return gradInput
    }
}
