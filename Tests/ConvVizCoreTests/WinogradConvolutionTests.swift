import XCTest
@testable import ConvVizCore

/// Winograd F(2x2, 3x3) and F(2x2, 5x5) against the direct loops and the im2col path:
/// forward (with bias, and with the fused ReLU), input gradient and weight gradient, for
/// every padding, odd and even maps, tile rows of more and fewer than eight tiles, and
/// several sample blocks and batch slices.
final class WinogradConvolutionTests: XCTestCase {
    /// The 1-D identity every transform rests on: `A^T [(G g) ⊙ (B^T d)]` is the
    /// correlation of `alpha` inputs with `r` taps, for random inputs and taps.
    func testTransformsComputeTwoOutputsOfACorrelation() {
        var rng = SeededGenerator(seed: 40)
        for t in [WinogradTransform.threeByThree, .fiveByFive, .threeByThreeFourOutputs] {
            let (r, alpha) = (t.kernel, t.alpha)
            XCTAssertEqual(WinogradTransform.forKernel(r)?.kernel, r)
            XCTAssertEqual(alpha, r + t.outputs - 1)
            for _ in 0..<20 {
                let d = Tensor.normal(shape: [alpha], using: &rng).data.map(Double.init)
                let g = Tensor.normal(shape: [r], using: &rng).data.map(Double.init)
                let gg = (0..<alpha).map { a in (0..<r).reduce(0.0) { $0 + Double(t.kernelMatrix[a * r + $1]) * g[$1] } }
                let bd = (0..<alpha).map { a in (0..<alpha).reduce(0.0) { $0 + Double(t.inputTransposed[a * alpha + $1]) * d[$1] } }
                for i in 0..<t.outputs {
                    let y = (0..<alpha).reduce(0.0) { $0 + Double(t.outputTransposed[i * alpha + $1]) * gg[$1] * bd[$1] }
                    let direct = (0..<r).reduce(0.0) { $0 + d[i + $1] * g[$1] }
                    XCTAssertEqual(y, direct, accuracy: 1e-5, "F(\(t.outputs), \(r)), output \(i)")
                }
            }
        }
        XCTAssertNil(WinogradTransform.forKernel(7))
    }

    /// The written-out tile arithmetic (`WinogradTiles`) equals the matrices, lane by lane.
    func testTileArithmeticMatchesTheMatrices() {
        check(WinogradTiles3.self)
        check(WinogradTiles5.self)
        check(WinogradTiles3x4.self)
    }

    private func check<K: WinogradTiles>(_ k: K.Type) {
        var rng = SeededGenerator(seed: 39)
        let t = K.transform, alpha = t.alpha
        XCTAssertEqual(K.alpha, alpha)
        XCTAssertEqual(K.outputs, t.outputs)
        let x = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: 2 * alpha), y = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: 2 * alpha)
        defer { x.deallocate(); y.deallocate() }
        // Inputs at stride 2 and outputs at stride 2, so that strides are exercised.
        func run(_ inputs: Int, _ outputs: Int, _ f: (UnsafePointer<SIMD8<Float>>, Int, UnsafeMutablePointer<SIMD8<Float>>, Int) -> Void,
                 _ entry: (Int, Int) -> Float, _ label: String) {
            for i in 0..<inputs { x[2 * i] = SIMD8(Tensor.normal(shape: [8], using: &rng).data) }
            f(x, 2, y, 2)
            for o in 0..<outputs {
                var want = SIMD8<Float>()
                for i in 0..<inputs { want += entry(o, i) * x[2 * i] }
                for lane in 0..<8 { XCTAssertEqual(y[2 * o][lane], want[lane], accuracy: 1e-5 * max(1, abs(want[lane])), "\(label) F(\(t.outputs), \(t.kernel)), output \(o)") }
            }
        }
        run(alpha, alpha, K.input, { t.inputTransposed[$0 * alpha + $1] }, "B^T")
        run(alpha, t.outputs, K.output, { t.outputTransposed[$0 * alpha + $1] }, "A^T")
        run(t.outputs, alpha, K.outputAdjoint, { t.outputTransposed[$1 * alpha + $0] }, "A")
    }

    func testMatchesDirectLoops() {
        // Small cases against the direct loops (slow in a debug build) ...
        var rng = SeededGenerator(seed: 41)
        for (kernel, padding) in [(3, 1), (5, 2)] {
            let window = Window2D(kernel: Pair(kernel), padding: Pair(padding))
            let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 16, window: window, rng: &rng)
            let x = Tensor.normal(shape: [1, 16, 6, 7], using: &rng)
            XCTAssert(conv.runsWinograd(conv.geometry(x.shape)))
            let y = conv.forward(x, mode: .training)
            assertClose(y, Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias!.value, window: window), "forward \(kernel)x\(kernel)")
            let dy = Tensor.normal(shape: y.shape, using: &rng)
            let dx = conv.backward(dy, needsInputGradient: true)!
            let ref = Conv2D.referenceBackward(x, weight: conv.weight.value, gradOutput: dy, window: window)
            assertClose(dx, ref.input, "grad input \(kernel)x\(kernel)")
            assertClose(conv.weight.grad, ref.weight, "grad weight \(kernel)x\(kernel)", tolerance: Self.weightGradientTolerance)
        }
    }

    /// Gradients accumulate over backward passes, and slices larger than eight samples
    /// (a tight partial-sum budget) give the same gradients as the im2col path and the
    /// same bytes on 1 and 3 workers.
    func testLargeSlicesAndAccumulatedGradients() {
        defer { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }
        var rng = SeededGenerator(seed: 44)
        let window = Window2D(kernel: Pair(3), padding: Pair(1))
        let fast = Conv2D(name: "c", inputChannels: 24, outputChannels: 16, window: window, rng: &rng)
        let plain = fast.twin()
        plain.usesWinograd = false
        let x = Tensor.normal(shape: [37, 24, 9, 10], using: &rng)
        let dy = Tensor.normal(shape: [37, 16, 9, 10], using: &rng)
        XCTAssertEqual(BatchPartition(samples: 37, partialsOf: 16 * 16 * 24, budget: 1).samplesPerSlice, 32)
        var byWorkers: [[Float]] = []
        for workers in [1, 3] {
            Parallel.workers = workers
            for conv in [fast, plain] {
                conv.partialSumBudget = 1
                conv.weight.grad.zero(); conv.bias!.grad.zero()
                _ = conv.forward(x, mode: .training)
                _ = conv.backward(dy, needsInputGradient: false)
            }
            let once = fast.weight.grad
            assertClose(once, plain.weight.grad, "grad weight, slices of 32, \(workers) workers", tolerance: Self.weightGradientTolerance)
            assertClose(fast.bias!.grad, plain.bias!.grad, "grad bias, slices of 32, \(workers) workers")
            _ = fast.backward(dy, needsInputGradient: false)
            var twice = once
            for i in 0..<twice.count { twice.data[i] *= 2 }
            assertClose(fast.weight.grad, twice, "grad weight accumulated over two passes")
            byWorkers.append(fast.weight.grad.data)
        }
        XCTAssertEqual(byWorkers[0], byWorkers[1], "1 and 3 workers")
    }

    /// ... and the geometries that exercise the tiling against the im2col path (itself
    /// checked against the direct loops in `ConvolutionReferenceTests`).
    func testMatchesIm2ColPath() {
        var rng = SeededGenerator(seed: 43)
        let cases: [(kernel: Int, channels: Int, outputs: Int, padding: Int, h: Int, w: Int, batch: Int)] = [
            (3, 16, 16, 1, 8, 8, 2),      // 4 tiles a row: two tile rows a group
            (3, 16, 24, 1, 20, 18, 2),    // 9 tiles a row: a full group and a partial one
            (3, 24, 16, 0, 11, 9, 1),     // odd output sizes: half tiles at the edges; 4 tiles a row, 5 tile rows
            (3, 16, 16, 2, 7, 10, 2),     // padding 2 (the input gradient has padding 0)
            (3, 64, 64, 1, 20, 18, 3),    // two samples per block: two blocks
            (3, 32, 16, 1, 35, 34, 1),    // 17 tiles a row: two full groups and one lane
            (3, 16, 16, 1, 6, 6, 19),     // three batch slices, the last one partial
            (5, 32, 64, 2, 14, 14, 10),   // SmallConvNet's conv2: two slices, blocks within one
            (5, 16, 16, 0, 13, 11, 2),    // odd output sizes, input gradient padding 4
            (5, 16, 24, 4, 5, 6, 1),      // padding 4: wider output than input
            (5, 24, 16, 1, 36, 35, 1),    // 17 tiles a row
            // Small maps, whose groups of eight lanes take several tile rows:
            (3, 32, 16, 1, 4, 4, 3),      // 2 tiles a row
            (3, 16, 16, 1, 3, 3, 5),      // 2 tiles a row, odd 3x3 map
            (3, 16, 16, 1, 8, 4, 2),      // 2 tiles a row, 4 tile rows: a whole group
            (5, 16, 16, 2, 10, 3, 2),     // 2 tiles a row, 5 tile rows, odd width
            (3, 16, 32, 1, 2, 2, 9),      // 1 tile a row
            (3, 16, 16, 1, 17, 2, 2),     // 1 tile a row, 9 tile rows: a whole group and one
            (3, 16, 16, 1, 1, 1, 4),      // a 1x1 map
            (5, 16, 16, 2, 4, 4, 3),      // 5x5 on 4x4
            (5, 16, 16, 2, 7, 7, 2),      // 5x5 on 7x7: 4 tiles a row, odd width
        ]
        for c in cases {
            let label = "\(c.kernel)x\(c.kernel), \(c.channels)->\(c.outputs), padding \(c.padding), \(c.h)x\(c.w), batch \(c.batch)"
            let window = Window2D(kernel: Pair(c.kernel), padding: Pair(c.padding))
            let fast = Conv2D(name: "c", inputChannels: c.channels, outputChannels: c.outputs, window: window, rng: &rng)
            let plain = fast.twin()
            plain.usesWinograd = false
            let x = Tensor.normal(shape: [c.batch, c.channels, c.h, c.w], using: &rng)
            XCTAssert(fast.runsWinograd(fast.geometry(x.shape)), label)
            XCTAssertFalse(plain.runsWinograd(plain.geometry(x.shape)), label)
            let y = fast.forward(x, mode: .training), ref = plain.forward(x, mode: .training)
            assertClose(y, ref, "forward, \(label)")
            let dy = Tensor.normal(shape: y.shape, using: &rng)
            assertClose(fast.backward(dy, needsInputGradient: true)!, plain.backward(dy, needsInputGradient: true)!, "grad input, \(label)")
            assertClose(fast.weight.grad, plain.weight.grad, "grad weight, \(label)", tolerance: Self.weightGradientTolerance)
            assertClose(fast.bias!.grad, plain.bias!.grad, "grad bias, \(label)")

            fast.rectifiesOutput = true
            var rectified = ref
            for i in 0..<rectified.count where rectified.data[i] < 0 { rectified.data[i] = 0 }
            assertClose(fast.forward(x, mode: .evaluation), rectified, "fused ReLU, \(label)")
        }
    }

    /// Fewer than 16 channels, other strides and kernels keep the im2col path.
    func testOnlyWideStrideOneThreeAndFiveLayers() {
        var rng = SeededGenerator(seed: 42)
        func runs(_ cin: Int, _ cout: Int, _ window: Window2D) -> Bool {
            let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, window: window, rng: &rng)
            return conv.runsWinograd(conv.geometry([1, cin, 12, 12]))
        }
        XCTAssertTrue(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(1))))
        XCTAssertFalse(runs(3, 64, Window2D(kernel: Pair(3), padding: Pair(1))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1))))
        XCTAssertTrue(runs(16, 16, Window2D(kernel: Pair(5), padding: Pair(2))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(7), padding: Pair(3))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3, 5), padding: Pair(1))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(5), stride: Pair(2), padding: Pair(2))))
        // Padding of the kernel's size or more would give the input gradient a negative one.
        XCTAssertTrue(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(2))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(3))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(5), padding: Pair(5))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(1, 3))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(2), dilation: Pair(2))))
    }

    /// Winograd's weight gradients sum hundreds of tiles' products of transformed values
    /// several times larger than the result: their float32 error is about 1e-5 of the
    /// largest entry (`Benchmarks/winograd_error.py`: mean 0.7e-5, largest 1.7e-5 for
    /// F(2x2, 5x5) over a slice of 392 tiles), where im2col's is about 1e-6. Outputs and
    /// input gradients, single sums over channels, keep 1e-5.
    static let weightGradientTolerance: Float = 5e-5

    func assertClose(_ got: Tensor, _ ref: Tensor, _ label: String, tolerance: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, ref.shape, label, file: file, line: line)
        let scale = ref.maxAbs
        let worst = zip(got.data, ref.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance * max(scale, 1), "\(label): max |Δ| \(worst), max|ref| \(scale)", file: file, line: line)
    }
}
