import XCTest
@testable import ConvVizCore

/// The depthwise path (eight outputs at a time from a zero-padded plane) against the
/// tap-by-tap grouped loops it replaces and the dense direct loops: the same sums in the
/// same order, so equal floats; the same bytes on any number of workers.
final class DepthwiseConvolutionTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func random(_ shape: [Int], seed: UInt64) -> Tensor { .seededUniform(shape, seed: seed) }

    func testEqualsTheGroupedLoopsAndTheDenseReference() {
        // (channels, outputs per channel, kernel, stride (h, w), padding, height, width)
        let cases: [(c: Int, per: Int, k: Int, s: Pair, p: Int, h: Int, w: Int)] = [
            (5, 1, 3, Pair(1), 1, 9, 21), (4, 1, 3, Pair(2), 1, 11, 19), (3, 2, 3, Pair(1), 0, 6, 8),
            (3, 1, 5, Pair(2), 2, 10, 17), (2, 1, 5, Pair(1), 2, 7, 5), (3, 1, 3, Pair(2, 1), 1, 9, 12),
            (3, 1, 3, Pair(1, 2), 1, 8, 33), (2, 3, 1, Pair(2), 0, 6, 9), (4, 1, 3, Pair(3, 2), 1, 12, 16),
            // MobileNet's maps: one sixteen-lane vector per row (7, 14), several (28, 56).
            (3, 1, 3, Pair(1), 1, 7, 7), (3, 1, 3, Pair(1), 1, 14, 14), (2, 1, 3, Pair(2), 1, 28, 28), (2, 1, 3, Pair(2), 1, 56, 56),
            (2, 1, 3, Pair(1), 1, 33, 47),
            // Stride 1, padding 1 (lanes shifted in from the next vector, two rows at a
            // time): rows of exactly one and two vectors, one lane past a vector, one row.
            (2, 1, 3, Pair(1), 1, 6, 16), (2, 1, 3, Pair(1), 1, 5, 17), (2, 1, 3, Pair(1), 1, 3, 32), (2, 1, 3, Pair(1), 1, 1, 9),
            (2, 1, 3, Pair(1), 1, 2, 1),
            // Stride 2, padding 1 (even and odd lanes, two rows at a time): odd sizes, one
            // and two columns, 65 columns (three vectors of outputs, the last of one lane).
            (2, 1, 3, Pair(2), 1, 15, 15), (2, 1, 3, Pair(2), 1, 4, 13), (2, 1, 3, Pair(2), 1, 3, 1), (2, 1, 3, Pair(2), 1, 2, 2),
            (2, 1, 3, Pair(2), 1, 5, 65),
            // Padding 0 and 2, odd widths, a 112-wide map at stride 2: the AVX-512 kernel's
            // masked edges and rows of zeros above and below.
            (3, 1, 3, Pair(2), 0, 13, 37), (2, 1, 3, Pair(1), 2, 9, 40), (2, 1, 3, Pair(2), 2, 15, 50), (2, 1, 3, Pair(2), 1, 112, 112),
            // Rows of more than 128 vectors: their edge masks computed as they come.
            (2, 1, 3, Pair(1), 1, 4, 2100), (2, 1, 3, Pair(2), 1, 5, 4200),
        ]
        var rng = SeededGenerator(seed: 21)
        for c in cases {
            let window = Window2D(kernel: Pair(c.k), stride: c.s, padding: Pair(c.p))
            let conv = Conv2D(name: "dw", inputChannels: c.c, outputChannels: c.c * c.per, window: window, groups: c.c, rng: &rng)
            XCTAssertTrue(conv.runsDepthwise, "\(c)")
            let x = random([2, c.c, c.h, c.w], seed: 5)
            let g = conv.geometry(x.shape)
            // Inference takes the AVX-512 kernel where the CPU has it; training the Swift loops.
            let fast = conv.forwardDepthwise(x, g, inference: true), loops = conv.forwardGrouped(x, g)
            XCTAssertEqual(fast.shape, loops.shape, "\(c)")
            XCTAssertEqual(fast.data.map(\.bitPattern), loops.data.map(\.bitPattern), "\(c): differs from the grouped loops")
            XCTAssertEqual(conv.forwardDepthwise(x, g, inference: false).data, fast.data, "\(c): the Swift loops")
            var dense = Tensor(shape: [c.c * c.per, c.c, c.k, c.k])
            for o in 0..<(c.c * c.per) { for t in 0..<(c.k * c.k) {
                dense.data[(o * c.c + o / c.per) * c.k * c.k + t] = conv.weight.value.data[o * c.k * c.k + t]
            }}
            let reference = Conv2D.referenceForward(x, weight: dense, bias: conv.bias!.value, window: window)
            for (a, b) in zip(fast.data, reference.data) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(c)") }
        }
    }

    /// Rows and columns padded differently: the AVX-512 kernel's paths are chosen by the
    /// column padding (one column: lanes shifted in; others: masked loads), the rows come
    /// from the plane or the row of zeros either way. Bit for bit the grouped loops.
    func testUnequalRowAndColumnPadding() {
        var rng = SeededGenerator(seed: 23)
        for (stride, rows, columns, h, w) in [(1, 0, 1, 9, 21), (1, 2, 1, 8, 17), (2, 0, 1, 11, 19), (2, 2, 1, 12, 33), (1, 1, 0, 7, 20), (2, 1, 2, 9, 18)] {
            let window = Window2D(kernel: Pair(3), stride: Pair(stride), padding: Pair(rows, columns))
            let conv = Conv2D(name: "dw", inputChannels: 3, outputChannels: 3, window: window, groups: 3, rng: &rng)
            let x = random([2, 3, h, w], seed: 6)
            let g = conv.geometry(x.shape)
            let fast = conv.forwardDepthwise(x, g, inference: true), loops = conv.forwardGrouped(x, g)
            XCTAssertEqual(fast.shape, loops.shape)
            XCTAssertEqual(fast.data.map(\.bitPattern), loops.data.map(\.bitPattern), "stride \(stride), padding \(rows)x\(columns)")
        }
    }

    /// Stride 1, one output per channel: the input gradient alone is the output gradient
    /// through the turned kernels, against the dense direct loops.
    func testInputGradientOfStrideOneLayers() throws {
        var rng = SeededGenerator(seed: 23)
        for (c, k, p, h, w) in [(4, 3, 1, 9, 21), (3, 5, 2, 8, 13), (2, 3, 0, 7, 10), (3, 5, 1, 6, 17), (2, 3, 2, 5, 9)] {
            let window = Window2D(kernel: Pair(k), padding: Pair(p))
            let conv = Conv2D(name: "dw", inputChannels: c, outputChannels: c, window: window, groups: c, rng: &rng)
            XCTAssertTrue(conv.runsDepthwiseInputGradient)
            var dense = Tensor(shape: [c, c, k, k])
            for o in 0..<c { for t in 0..<(k * k) { dense.data[(o * c + o) * k * k + t] = conv.weight.value.data[o * k * k + t] } }
            let x = random([2, c, h, w], seed: 8)
            let y = conv.forward(x, mode: .evaluationWithGradients)
            let dy = random(y.shape, seed: 9)
            conv.accumulatesParameterGradients = false
            let dx = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
            let expected = Conv2D.referenceBackward(x, weight: dense, gradOutput: dy, window: window).input
            XCTAssertEqual(dx.shape, expected.shape)
            for (a, b) in zip(dx.data, expected.data) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(c) \(k)x\(k) p\(p)") }
        }
    }

    /// A fused ReLU or clip (ReLU6) in the kernel's epilogue equals the layer after it.
    func testFusedActivationsEqualTheLayerAfter() {
        var rng = SeededGenerator(seed: 24)
        for (s, hw) in [(1, 14), (2, 28), (1, 9)] {
            let conv = Conv2D(name: "dw", inputChannels: 6, outputChannels: 6, window: Window2D(kernel: Pair(3), stride: Pair(s), padding: Pair(1)),
                              groups: 6, rng: &rng)
            var x = random([1, 6, hw, hw], seed: 6)
            x.data = x.data.map { $0 * 20 }  // outputs beyond 6 too
            x.data[3] = .nan
            let plain = conv.forward(x, mode: .evaluation)
            conv.rectifiesOutput = true
            XCTAssertEqual(conv.forward(x, mode: .evaluation).data.map(\.bitPattern), plain.data.map { $0 > 0 || $0.isNaN ? $0 : 0 }.map(\.bitPattern))
            conv.rectifiesOutput = false
            conv.clipsOutput = 0...6
            let clip = Pointwise.Function.clip(min: 0, max: 6)
            XCTAssertEqual(conv.forward(x, mode: .evaluation).data.map(\.bitPattern), plain.data.map { clip.value($0) }.map(\.bitPattern))
            XCTAssertTrue(plain.data.contains { $0 > 6 } && plain.data.contains { $0 < 0 } && plain.data.contains { $0.isNaN })
        }
    }

    func testTheSameBytesOnAnyNumberOfWorkers() {
        var rng = SeededGenerator(seed: 22)
        let conv = Conv2D(name: "dw", inputChannels: 24, outputChannels: 24,
                          window: Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)), groups: 24, rng: &rng)
        let x = random([1, 24, 29, 29], seed: 6)
        let outputs = [1, 2, 3, 8].map { workers -> [Float] in Parallel.workers = workers; return conv.forward(x, mode: .evaluation).data }
        for o in outputs.dropFirst() { XCTAssertTrue(o == outputs[0]) }
    }
}
