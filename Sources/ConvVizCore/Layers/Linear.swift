/// Fully connected layer: `y = x W^T + b`, input `[N, in]`, weight `[out, in]`,
/// bias `[out]`, output `[N, out]` (PyTorch's layout).
public final class Linear: ParameterGradientToggle {
    public let name: String
    public let inputFeatures: Int
    public let outputFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var cachedInput: Tensor?

    /// Initialised as PyTorch does: uniform in ±1/sqrt(in) for weight and bias.
    public init(name: String, inputFeatures: Int, outputFeatures: Int, bias: Bool = true, rng: inout SeededGenerator) {
        self.name = name
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        let bound = KaimingUniform.bound(fanIn: inputFeatures)
        weight = Parameter("weight", .uniform(shape: [outputFeatures, inputFeatures], bound: bound, using: &rng))
        self.bias = bias ? Parameter("bias", .uniform(shape: [outputFeatures], bound: bound, using: &rng)) : nil
    }

    /// Whether `backward` adds the weight and bias gradients (training). Off, it computes
    /// the input gradient alone (`Graph.gradients` for attribution).
    public var accumulatesParameterGradients = true

    /// Layers with at least `blockedWeights` weights run in `outputBlocks` blocks of
    /// outputs (forward) or of inputs (input gradient), at any batch.
    static let blockedWeights = 1 << 16
    static let outputBlocks = 4

    /// The size of the fixed blocks `extent` outputs or inputs are cut into
    /// (`BLAS.gemmInFixedBlocks`): a quarter of them in a large layer, else all.
    private func blockSize(_ extent: Int) -> Int {
        let blocks = outputFeatures * inputFeatures >= Self.blockedWeights ? Self.outputBlocks : 1
        return (extent + blocks - 1) / blocks
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 1 else { throw ShapeError(layer: name, "expects a flat [features] input, got \(input); add a flatten layer") }
        guard input[0] == inputFeatures else {
            throw ShapeError(layer: name, "expects \(inputFeatures) input features, got \(input[0])")
        }
        return [outputFeatures]
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputFeatures, "\(name): input \(input.shape)")
        let n = input.shape[0]
        var y = Tensor(shape: [n, outputFeatures])
        if let bias {
            // Through buffers: element by element through the tensors, the copy took
            // 0.4 ms of ResNet-18's classifier at batch 16.
            bias.value.data.withUnsafeBufferPointer { b in
            y.data.withUnsafeMutableBufferPointer { y in
                for s in 0..<n { (y.baseAddress! + s * outputFeatures).update(from: b.baseAddress!, count: outputFeatures) }
            }}
        }
        // A small batch is a matrix-vector product that reads the whole weight once (5 MB
        // in MobileNetV2's classifier: 0.31 ms on one core at batch 1), and a larger one
        // is a product OpenBLAS runs on one core (ConvViz keeps it single-threaded):
        // ResNet-18's classifier at batch 16 took 0.59 ms against onnxruntime's 0.10. Fixed
        // blocks of outputs let every core take part, with the same bytes on any number of them.
        input.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        y.data.withUnsafeMutableBufferPointer { yb in
            BLAS.gemmInFixedBlocks(split: .columns, blockSize: blockSize(outputFeatures), transB: true, m: n, n: outputFeatures, k: inputFeatures,
                                   a: xb.baseAddress!, lda: inputFeatures, b: wb.baseAddress!, ldb: inputFeatures,
                                   beta: 1, c: yb.baseAddress!, ldc: outputFeatures)
        }}}
        if mode.recordsForBackward { cachedInput = input }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let x = cachedInput else { preconditionFailure("\(name): backward without a training forward") }
        let n = x.shape[0]
        var dx = needsInputGradient ? Tensor(shape: x.shape) : nil
        gradOutput.data.withUnsafeBufferPointer { dy in
            if accumulatesParameterGradients {
                if let bias {
                    bias.grad.data.withUnsafeMutableBufferPointer { db in
                        for s in 0..<n { for o in 0..<outputFeatures { db[o] += dy[s * outputFeatures + o] } }
                    }
                }
                x.data.withUnsafeBufferPointer { x in
                weight.grad.data.withUnsafeMutableBufferPointer { dw in
                    // dW += dY^T [out, N] x X [N, in]
                    BLAS.gemm(transA: true, m: outputFeatures, n: inputFeatures, k: n,
                              a: dy.baseAddress!, lda: outputFeatures, b: x.baseAddress!, ldb: inputFeatures,
                              beta: 1, c: dw.baseAddress!, ldc: inputFeatures)
                }}
            }
            if dx != nil {
                // dX = dY [N, out] x W [out, in], in fixed blocks of input features (columns
                // of W) as the forward pass's blocks of outputs: every core reads part of W.
                weight.value.data.withUnsafeBufferPointer { w in
                dx!.data.withUnsafeMutableBufferPointer { dx in
                    BLAS.gemmInFixedBlocks(split: .columns, blockSize: blockSize(inputFeatures), m: n, n: inputFeatures, k: outputFeatures,
                                           a: dy.baseAddress!, lda: outputFeatures, b: w.baseAddress!, ldb: inputFeatures,
                                           c: dx.baseAddress!, ldc: inputFeatures)
                }}
            }
        }
        return dx
    }
}
