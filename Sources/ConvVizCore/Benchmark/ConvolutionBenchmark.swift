import Foundation

/// Measures convolution throughput against this machine's own SGEMM rate, in one run,
/// so the ratio says how close the im2col + GEMM path gets to what OpenBLAS can do.
///
/// The workloads are timed in interleaved rounds (SGEMM, conv1, conv2, SGEMM, ...)
/// and each keeps its best round: on a shared machine whose speed drifts from second to
/// second, every workload then gets the same chances, and the ratio is not an artefact
/// of which one happened to run in a fast moment.
public enum ConvolutionBenchmark {
    public struct Measurement: Sendable {
        public let label: String
        public let flops: Double
        public let seconds: Double
        public var gflops: Double { flops / seconds / 1e9 }
    }

    /// A named piece of work and the floating-point operations it performs.
    struct Workload {
        let label: String
        let flops: Double
        let run: () -> Void
        /// Untimed, after each run.
        var settle: () -> Void = {}
    }

    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Square single-precision GEMM of size `n`, OpenBLAS on every core: the machine's
    /// own rate, the yardstick for our convolutions.
    static func sgemm(size n: Int) -> Workload {
        var rng = SeededGenerator(seed: 1)
        let a = Tensor.uniform(shape: [n, n], bound: 1, using: &rng)
        let b = Tensor.uniform(shape: [n, n], bound: 1, using: &rng)
        var c = Tensor(shape: [n, n])
        return Workload(label: "sgemm \(n)x\(n)x\(n) (all cores)", flops: 2 * pow(Double(n), 3), run: {
            BLAS.withAllCores {
                a.data.withUnsafeBufferPointer { a in b.data.withUnsafeBufferPointer { b in c.data.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
                }}}
            }
        }, settle: {
            // OpenBLAS's threads spin for about 2^28 cycles after a multi-threaded call
            // before they sleep; let them, so they do not steal the next workload's cores.
            Thread.sleep(forTimeInterval: 0.2)
        })
    }

    /// Forward plus backward of one convolution on a batch; the input gradient is
    /// computed only when `inputGradient` (a first layer does not need it).
    static func convolution(label: String, batch: Int, inputChannels: Int, outputChannels: Int, size: Int,
                            window: Window2D, inputGradient: Bool, columnBudget: Int?) -> Workload {
        var rng = SeededGenerator(seed: 2)
        let conv = Conv2D(name: label, inputChannels: inputChannels, outputChannels: outputChannels, window: window, rng: &rng)
        if let columnBudget { conv.maxColumnElements = columnBudget }
        let x = Tensor.uniform(shape: [batch, inputChannels, size, size], bound: 1, using: &rng)
        let out = try! conv.outputShape(for: [inputChannels, size, size])
        let dy = Tensor.uniform(shape: [batch] + out, bound: 1, using: &rng)
        let macs = Double(batch * out[0] * out[1] * out[2] * inputChannels * window.kernel.h * window.kernel.w)
        let passes = inputGradient ? 3.0 : 2.0
        return Workload(label: label, flops: 2 * macs * passes) {
            _ = conv.forward(x, mode: .training)
            _ = conv.backward(dy, needsInputGradient: inputGradient)
        }
    }

    /// This machine's SGEMM rate alone (1024^3 on every core), best of `rounds`: the
    /// yardstick the benchmark scripts divide by.
    public static func sgemmRate(size: Int = 1024, rounds: Int = 11) -> Measurement {
        let w = sgemm(size: size)
        w.run(); w.settle()
        var best = Double.infinity
        for _ in 0..<max(1, rounds) { best = min(best, seconds(w.run)); w.settle() }
        return Measurement(label: w.label, flops: w.flops, seconds: best)
    }

    /// SmallConvNet's two convolutions at batch 128, and SGEMM, interleaved in `rounds`
    /// rounds after a warm-up; best round of each.
    public static func smallConvNet(batch: Int = 128, rounds: Int = 11, columnBudget: Int? = nil) -> (sgemm: Measurement, convolutions: [Measurement]) {
        let window = Window2D(kernel: Pair(5), padding: Pair(2))
        let workloads = [
            sgemm(size: 1024),
            convolution(label: "conv1 1->32 5x5 pad 2 on 28x28 (fwd + dW)", batch: batch, inputChannels: 1, outputChannels: 32,
                        size: 28, window: window, inputGradient: false, columnBudget: columnBudget),
            convolution(label: "conv2 32->64 5x5 pad 2 on 14x14 (fwd + dW + dX)", batch: batch, inputChannels: 32, outputChannels: 64,
                        size: 14, window: window, inputGradient: true, columnBudget: columnBudget),
        ]
        for w in workloads { w.run(); w.settle() }
        var best = [Double](repeating: .infinity, count: workloads.count)
        for _ in 0..<max(1, rounds) {
            for (i, w) in workloads.enumerated() {
                best[i] = min(best[i], seconds(w.run))
                w.settle()
            }
        }
        let measured = zip(workloads, best).map { Measurement(label: $0.label, flops: $0.flops, seconds: $1) }
        return (measured[0], Array(measured.dropFirst()))
    }
}
