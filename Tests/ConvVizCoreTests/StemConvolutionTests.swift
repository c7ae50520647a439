import XCTest
@testable import ConvVizCore

/// A strided stem at a small batch (`forwardStem`): against the direct loops, with bias
/// and the fused ReLU, row blocks that do not divide the map, the same bytes on 1, 2, 3
/// and 8 workers; only inference on few channels at stride 2 takes it.
final class StemConvolutionTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func testEqualsTheDirectLoopsOnAnyNumberOfWorkers() throws {
        // (channels in, out, kernel, padding, batch, height, width)
        let cases: [(Int, Int, Int, Int, Int, Int, Int)] = [
            (3, 16, 7, 3, 1, 70, 66), (3, 8, 3, 1, 2, 61, 50), (1, 12, 5, 2, 1, 71, 71), (4, 6, 3, 0, 3, 40, 37),
        ]
        for (cin, cout, k, p, n, h, w) in cases {
            var rng = SeededGenerator(seed: UInt64(k * 10 + cin))
            let window = Window2D(kernel: Pair(k), stride: Pair(2), padding: Pair(p))
            let conv = Conv2D(name: "stem", inputChannels: cin, outputChannels: cout, window: window, rng: &rng)
            let x = Tensor.seededUniform([n, cin, h, w], seed: UInt64(h))
            let g = conv.geometry(x.shape)
            XCTAssertTrue(conv.runsStem(g, samples: n) && !conv.runsSmallMaps(g, samples: n), "\(cin) \(k)x\(k) \(h)x\(w)")
            let reference = Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias?.value, window: window)
            let outputs = [1, 2, 3, 8].map { workers -> Tensor in
                Parallel.workers = workers
                return conv.forward(x, mode: .evaluation)
            }
            for y in outputs.dropFirst() { XCTAssertTrue(y.data == outputs[0].data, "\(cin) \(k)x\(k)") }
            XCTAssertEqual(outputs[0].shape, reference.shape)
            let scale = reference.maxAbs
            let worst = zip(outputs[0].data, reference.data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5 * max(scale, 1), "\(cin) \(k)x\(k) \(h)x\(w)")
            conv.rectifiesOutput = true
            let rectified = conv.forward(x, mode: .evaluation)
            XCTAssertTrue(rectified.data == outputs[0].data.map { $0 > 0 ? $0 : 0 })
        }
    }

    func testOnlyInferenceOnStridedLayersWithFewChannels() {
        var rng = SeededGenerator(seed: 3)
        let stem = Conv2D(name: "s", inputChannels: 3, outputChannels: 8, window: Window2D(kernel: Pair(7), stride: Pair(2), padding: Pair(3)), rng: &rng)
        let wide = Conv2D(name: "w", inputChannels: 16, outputChannels: 8, window: Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)), rng: &rng)
        let unit = Conv2D(name: "u", inputChannels: 3, outputChannels: 8, window: Window2D(kernel: Pair(3), padding: Pair(1)), rng: &rng)
        XCTAssertTrue(stem.runsStem(stem.geometry([1, 3, 224, 224]), samples: 1))
        XCTAssertEqual(stem.runsStem(stem.geometry([8, 3, 224, 224]), samples: 8), stem.runsPanelGEMM, "a large batch: the panel kernel only")
        XCTAssertFalse(wide.runsStem(wide.geometry([1, 16, 64, 64]), samples: 1), "16 channels")
        XCTAssertFalse(unit.runsStem(unit.geometry([1, 3, 64, 64]), samples: 1), "stride 1")
        // Training takes the usual path: the same numbers within rounding.
        let x = Tensor.seededUniform([1, 3, 64, 64], seed: 4)
        let training = stem.forward(x, mode: .training), inference = stem.forward(x, mode: .evaluation)
        XCTAssertEqual(training.shape, inference.shape)
        for (a, b) in zip(training.data, inference.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
