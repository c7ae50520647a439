import XCTest
@testable import ConvVizCore

/// Winograd F(2x2, 3x3) against the direct loops and the im2col path: forward (with
/// bias, and with the fused ReLU), input gradient and weight gradient, for paddings 0
/// to 2, odd and even maps, tile rows of more and fewer than eight tiles, and several
/// sample blocks.
final class WinogradConvolutionTests: XCTestCase {
    func testMatchesDirectLoops() {
        // One small case against the direct loops (slow in a debug build) ...
        var rng = SeededGenerator(seed: 41)
        let window = Window2D(kernel: Pair(3), padding: Pair(1))
        let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 16, window: window, rng: &rng)
        let x = Tensor.normal(shape: [1, 16, 6, 7], using: &rng)
        XCTAssert(conv.runsWinograd(conv.geometry(x.shape)))
        let y = conv.forward(x, mode: .training)
        assertClose(y, Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias!.value, window: window), "forward")
        let dy = Tensor.normal(shape: y.shape, using: &rng)
        let dx = conv.backward(dy, needsInputGradient: true)!
        let ref = Conv2D.referenceBackward(x, weight: conv.weight.value, gradOutput: dy, window: window)
        assertClose(dx, ref.input, "grad input")
        assertClose(conv.weight.grad, ref.weight, "grad weight")
    }

    /// ... and the geometries that exercise the tiling against the im2col path (itself
    /// checked against the direct loops in `ConvolutionReferenceTests`).
    func testMatchesIm2ColPath() {
        var rng = SeededGenerator(seed: 43)
        let cases: [(channels: Int, outputs: Int, padding: Int, h: Int, w: Int, batch: Int)] = [
            (16, 16, 1, 8, 8, 2),      // 4 tiles a row: one partial group
            (16, 24, 1, 20, 18, 2),    // 9 tiles a row: a full group and a partial one
            (24, 16, 0, 11, 9, 1),     // odd output sizes: half tiles at the edges
            (16, 16, 2, 7, 10, 2),     // padding 2 (the input gradient has padding 0)
            (64, 64, 1, 20, 18, 3),    // two samples per block: two blocks
            (32, 16, 1, 35, 34, 1),    // 17 tiles a row: two full groups and one lane
        ]
        for c in cases {
            let label = "\(c.channels)->\(c.outputs), padding \(c.padding), \(c.h)x\(c.w), batch \(c.batch)"
            let window = Window2D(kernel: Pair(3), padding: Pair(c.padding))
            let fast = Conv2D(name: "c", inputChannels: c.channels, outputChannels: c.outputs, window: window, rng: &rng)
            let plain = Conv2D(name: "c", inputChannels: c.channels, outputChannels: c.outputs, window: window, rng: &rng)
            plain.weight.value = fast.weight.value
            plain.bias!.value = fast.bias!.value
            plain.usesWinograd = false
            let x = Tensor.normal(shape: [c.batch, c.channels, c.h, c.w], using: &rng)
            XCTAssert(fast.runsWinograd(fast.geometry(x.shape)), label)
            XCTAssertFalse(plain.runsWinograd(plain.geometry(x.shape)), label)
            let y = fast.forward(x, mode: .training), ref = plain.forward(x, mode: .training)
            assertClose(y, ref, "forward, \(label)")
            let dy = Tensor.normal(shape: y.shape, using: &rng)
            assertClose(fast.backward(dy, needsInputGradient: true)!, plain.backward(dy, needsInputGradient: true)!, "grad input, \(label)")
            assertClose(fast.weight.grad, plain.weight.grad, "grad weight, \(label)")
            assertClose(fast.bias!.grad, plain.bias!.grad, "grad bias, \(label)")

            fast.rectifiesOutput = true
            var rectified = ref
            for i in 0..<rectified.count where rectified.data[i] < 0 { rectified.data[i] = 0 }
            assertClose(fast.forward(x, mode: .evaluation), rectified, "fused ReLU, \(label)")
        }
    }

    /// Fewer than 16 channels, other strides and kernels keep the im2col path.
    func testOnlyWideThreeByThreeStrideOneLayers() {
        var rng = SeededGenerator(seed: 42)
        func runs(_ cin: Int, _ cout: Int, _ window: Window2D) -> Bool {
            let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, window: window, rng: &rng)
            return conv.runsWinograd(conv.geometry([1, cin, 12, 12]))
        }
        XCTAssertTrue(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(1))))
        XCTAssertFalse(runs(3, 64, Window2D(kernel: Pair(3), padding: Pair(1))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(5), padding: Pair(2))))
        XCTAssertFalse(runs(16, 16, Window2D(kernel: Pair(3), padding: Pair(2), dilation: Pair(2))))
    }

    func assertClose(_ got: Tensor, _ ref: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, ref.shape, label, file: file, line: line)
        let scale = ref.maxAbs
        let worst = zip(got.data, ref.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1), "\(label): max |Δ| \(worst), max|ref| \(scale)", file: file, line: line)
    }
}
