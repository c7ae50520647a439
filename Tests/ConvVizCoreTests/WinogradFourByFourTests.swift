import XCTest
@testable import ConvVizCore

/// Inference through F(4x4, 3x3) against the direct loops (float64 sums) and against
/// F(2x2, 3x3): every padding, rows of whole and partial groups of eight tiles, map edges
/// that cut a tile, the small-batch split and the sample blocks, bias and the fused ReLU;
/// the same bytes on 1, 2, 3 and 8 workers; training keeps F(2x2).
final class WinogradFourByFourTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func layer(_ cin: Int, _ cout: Int, padding: Int, seed: UInt64) -> Conv2D {
        var rng = SeededGenerator(seed: seed)
        let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, window: Window2D(kernel: Pair(3), padding: Pair(padding)), rng: &rng)
        conv.usesSmallMapPath = false
        return conv
    }

    /// Largest error against the float64 direct sums, relative to the largest output.
    func relativeError(_ y: Tensor, _ x: Tensor, _ conv: Conv2D) -> Double {
        let reference = Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias?.value, window: conv.window)
        XCTAssertEqual(y.shape, reference.shape)
        let scale = Double(reference.maxAbs)
        return zip(y.data, reference.data).map { abs(Double($0) - Double($1)) }.max()! / max(scale, 1e-12)
    }

    func testMatchesTheDirectLoops() {
        // (channels in, out, padding, batch, height, width): widths of 24 (six tiles in a
        // group of eight), 26 (a cut tile), 32 (one whole group), 45 and 56 (two groups,
        // the second partial); heights that cut the last tile row; batch 1 (few tiles:
        // one product per position; 196 tiles: rows split among the cores) and batch 9
        // (sample blocks).
        let cases: [(Int, Int, Int, Int, Int, Int)] = [
            (16, 16, 1, 1, 24, 24), (16, 20, 1, 1, 13, 26), (17, 16, 0, 2, 34, 34), (16, 24, 2, 1, 30, 45),
            (32, 16, 1, 1, 56, 56), (16, 16, 1, 9, 26, 28),
        ]
        var worst = 0.0
        for (cin, cout, p, n, h, w) in cases {
            let conv = layer(cin, cout, padding: p, seed: UInt64(cin + cout + h))
            let x = Tensor.seededUniform([n, cin, h, w], seed: UInt64(w))
            let g = conv.geometry(x.shape)
            XCTAssertTrue(conv.runsWinograd(g) && conv.runsFourByFour(g), "\(cin) \(cout) \(h)x\(w)")
            let y = conv.forward(x, mode: .evaluation)
            let error = relativeError(y, x, conv)
            worst = max(worst, error)
            // F(2x2) on the same layer, for scale: F(4x4)'s error is larger (its
            // transforms have entries up to 8 and 1/24), and stays within 1e-5 here.
            let two = conv.forward(x, mode: .training)
            XCTAssertLessThan(error, 1e-5, "\(cin) \(cout) p\(p) \(n)x\(h)x\(w); F(2x2): \(relativeError(two, x, conv))")
        }
        print("F(4x4, 3x3) worst relative error: \(worst)")
    }

    func testFusedReLUAndTheSameBytesOnAnyNumberOfWorkers() throws {
        let conv = layer(16, 16, padding: 1, seed: 3)
        let x = Tensor.seededUniform([1, 16, 28, 28], seed: 4)
        let plain = conv.forward(x, mode: .evaluation)
        conv.rectifiesOutput = true
        let outputs = [1, 2, 3, 8].map { workers -> Tensor in
            Parallel.workers = workers
            return conv.forward(x, mode: .evaluation)
        }
        for y in outputs.dropFirst() { XCTAssertTrue(y.data == outputs[0].data) }
        XCTAssertTrue(outputs[0].data == plain.data.map { $0 > 0 ? $0 : 0 })
        XCTAssertGreaterThan(plain.data.filter { $0 < 0 }.count, 1000, "the ReLU had something to cut")
    }

    func testOnlyInferenceOnWideEnoughRows() {
        let conv = layer(16, 16, padding: 1, seed: 5)
        XCTAssertFalse(conv.runsFourByFour(conv.geometry([1, 16, 14, 14])), "14 outputs a row: F(2x2)'s lanes hold more")
        XCTAssertTrue(conv.runsFourByFour(conv.geometry([1, 16, 28, 28])))
        // Training takes F(2x2): equal to the direct loops within F(2x2)'s tolerance, and
        // not the bytes of inference.
        let x = Tensor.seededUniform([1, 16, 28, 28], seed: 6)
        let training = conv.forward(x, mode: .training), inference = conv.forward(x, mode: .evaluation)
        XCTAssertFalse(training.data == inference.data)
        XCTAssertLessThan(relativeError(training, x, conv), 2e-6)
        // The kept kernels: one entry per transform.
        XCTAssertNotNil(conv.winogradKernelCache[Conv2D.winogradCacheKey(.threeByThreeFourOutputs, flipped: false)])
    }
}
