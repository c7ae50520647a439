import XCTest
@testable import ConvVizCore

/// 1x1 stride-1 convolutions multiplied in place (`Conv2D+Pointwise`): the forward pass
/// (bias, fused ReLU) and the input gradient alone against the direct loops, over maps
/// with one block of pixels and with several (a last block shorter than the others);
/// the same bytes on any number of workers.
final class PointwiseConvolutionTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func random(_ shape: [Int], seed: UInt64) -> Tensor { .seededUniform(shape, seed: seed) }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float { zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0 }

    func testForwardAndInputGradientEqualTheDirectLoops() throws {
        var rng = SeededGenerator(seed: 31)
        // (in, out, batch, height, width): 1 block; 3 blocks of 243 + a short one; 8 blocks.
        for (cin, cout, n, h, w) in [(5, 7, 2, 9, 11), (12, 6, 1, 23, 31), (4, 9, 2, 48, 45)] {
            let conv = Conv2D(name: "pw", inputChannels: cin, outputChannels: cout, window: Window2D(kernel: Pair(1)), rng: &rng)
            XCTAssertTrue(conv.isPointwise)
            let x = random([n, cin, h, w], seed: 7)
            let g = conv.geometry(x.shape)
            // Training's OpenBLAS products, and inference's (the AVX-512 kernels where the CPU has them).
            for inference in [false, true] {
                let y = conv.forwardPointwise(x, g, inference: inference)
                let reference = Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias!.value, window: conv.window)
                XCTAssertEqual(y.shape, reference.shape)
                XCTAssertLessThan(maxDifference(y, reference), 1e-5, "\(cin)->\(cout) \(h)x\(w)")
                conv.rectifiesOutput = true
                let rectified = conv.forwardPointwise(x, g, inference: inference)
                XCTAssertEqual(rectified.data, y.data.map { max($0, 0) }, "the fused ReLU")
                conv.rectifiesOutput = false
                conv.clipsOutput = -0.1...0.1
                XCTAssertEqual(conv.forwardPointwise(x, g, inference: inference).data, y.data.map { min(max($0, -0.1), 0.1) }, "the fused clip")
                conv.clipsOutput = nil
            }
            let y = conv.forwardPointwise(x, g, inference: true)
            let dy = random(y.shape, seed: 8)
            let expected = Conv2D.referenceBackward(x, weight: conv.weight.value, gradOutput: dy, window: conv.window).input
            _ = conv.forward(x, mode: .evaluationWithGradients)
            conv.accumulatesParameterGradients = false
            let dx = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
            XCTAssertLessThan(maxDifference(dx, expected), 1e-5, "input gradient \(cin)->\(cout) \(h)x\(w)")
        }
    }

    func testTheSameBytesOnAnyNumberOfWorkers() throws {
        var rng = SeededGenerator(seed: 32)
        let conv = Conv2D(name: "pw", inputChannels: 16, outputChannels: 24, window: Window2D(kernel: Pair(1)), rng: &rng)
        conv.accumulatesParameterGradients = false
        let x = random([1, 16, 40, 41], seed: 9), dy = random([1, 24, 40, 41], seed: 10)
        let runs = try [1, 2, 3, 8].map { workers -> ([Float], [Float]) in
            Parallel.workers = workers
            let y = conv.forward(x, mode: .evaluationWithGradients).data
            return (y, try XCTUnwrap(conv.backward(dy, needsInputGradient: true)).data)
        }
        for r in runs.dropFirst() { XCTAssertTrue(r.0 == runs[0].0 && r.1 == runs[0].1) }
    }
}
