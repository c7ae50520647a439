import Foundation

/// Measures convolution throughput against this machine's own SGEMM rate, in one run,
/// so the ratio says how close the im2col + GEMM path gets to what OpenBLAS can do.
public enum ConvolutionBenchmark {
    public struct Measurement: Sendable {
        public let label: String
        public let flops: Double
        public let seconds: Double
        public var gflops: Double { flops / seconds / 1e9 }
    }

    /// Best-of-`repeats` time of `body`, after one warm-up call.
    static func time(repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    /// Square single-precision GEMM of size `n`.
    public static func sgemm(size n: Int = 1024, repeats: Int = 5) -> Measurement {
        var rng = SeededGenerator(seed: 1)
        let a = Tensor.uniform(shape: [n, n], bound: 1, using: &rng)
        let b = Tensor.uniform(shape: [n, n], bound: 1, using: &rng)
        var c = Tensor(shape: [n, n])
        // OpenBLAS on every core: the machine's own rate, the yardstick for our convolutions.
        let seconds = BLAS.withAllCores { time(repeats: repeats) {
            a.data.withUnsafeBufferPointer { a in b.data.withUnsafeBufferPointer { b in c.data.withUnsafeMutableBufferPointer { c in
                BLAS.gemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
            }}}
        } }
        return Measurement(label: "sgemm \(n)x\(n)x\(n)", flops: 2 * pow(Double(n), 3), seconds: seconds)
    }

    /// Forward plus backward of one convolution on a batch; the input gradient is
    /// computed only when `inputGradient` (a first layer does not need it).
    public static func convolution(label: String, batch: Int, inputChannels: Int, outputChannels: Int, size: Int,
                                   window: Window2D, inputGradient: Bool, columnBudget: Int? = nil, repeats: Int = 5) -> Measurement {
        var rng = SeededGenerator(seed: 2)
        let conv = Conv2D(name: label, inputChannels: inputChannels, outputChannels: outputChannels, window: window, rng: &rng)
        if let columnBudget { conv.maxColumnElements = columnBudget }
        let x = Tensor.uniform(shape: [batch, inputChannels, size, size], bound: 1, using: &rng)
        let out = try! conv.outputShape(for: [inputChannels, size, size])
        let dy = Tensor.uniform(shape: [batch] + out, bound: 1, using: &rng)
        let seconds = time(repeats: repeats) {
            _ = conv.forward(x, mode: .training)
            _ = conv.backward(dy, needsInputGradient: inputGradient)
        }
        let macs = Double(batch * out[0] * out[1] * out[2] * inputChannels * window.kernel.h * window.kernel.w)
        let passes = inputGradient ? 3.0 : 2.0
        return Measurement(label: label, flops: 2 * macs * passes, seconds: seconds)
    }

    /// SmallConvNet's two convolutions at batch 128, and SGEMM, in one run.
    public static func smallConvNet(batch: Int = 128, columnBudget: Int? = nil) -> (sgemm: Measurement, convolutions: [Measurement]) {
        let s = sgemm()
        let c1 = convolution(label: "conv1 1->32 5x5 pad 2 on 28x28 (fwd + dW)", batch: batch, inputChannels: 1, outputChannels: 32,
                             size: 28, window: Window2D(kernel: Pair(5), padding: Pair(2)), inputGradient: false, columnBudget: columnBudget)
        let c2 = convolution(label: "conv2 32->64 5x5 pad 2 on 14x14 (fwd + dW + dX)", batch: batch, inputChannels: 32, outputChannels: 64,
                             size: 14, window: Window2D(kernel: Pair(5), padding: Pair(2)), inputGradient: true, columnBudget: columnBudget)
        return (s, [c1, c2])
    }
}
