import XCTest
@testable import ConvVizCore

/// Strided convolutions at batches too large for small maps (`forwardStridedRows`): row
/// blocks padded and unrolled in cache, on the row kernel. Against the direct loops,
/// with a last block shorter than the others, the same bytes on 1, 2, 3 and 8 workers,
/// the fused ReLU the ReLU of the same bytes.
final class StridedRowsConvolutionTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func testEqualsTheDirectLoopsOnAnyNumberOfWorkers() throws {
        try XCTSkipUnless(PanelGEMM.isAvailable, "the row kernel needs AVX-512")
        // (channels in, out, kernel, stride, padding, batch, size): more than 1,024 output
        // pixels in the batch, else small maps take them.
        let cases: [(Int, Int, Int, Int, Int, Int, Int)] = [
            (64, 40, 3, 2, 1, 3, 40),   // 20 output rows in blocks of 11: the last of 9
            (24, 30, 5, 2, 2, 4, 33),
            (16, 16, 3, 3, 1, 9, 31),
            (48, 32, 3, 2, 0, 6, 29),
        ]
        for (cin, cout, k, s, p, n, size) in cases {
            var rng = SeededGenerator(seed: UInt64(cin + k))
            let window = Window2D(kernel: Pair(k), stride: Pair(s), padding: Pair(p))
            let conv = Conv2D(name: "c", inputChannels: cin, outputChannels: cout, window: window, rng: &rng)
            let x = Tensor.seededUniform([n, cin, size, size], seed: UInt64(size))
            let g = conv.geometry(x.shape)
            XCTAssertEqual(conv.forwardPath(g, samples: n, mode: .evaluation), .stridedRows, "\(cin) \(k)x\(k)/\(s)")
            let reference = Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias?.value, window: window)
            let outputs = [1, 2, 3, 8].map { workers -> Tensor in
                Parallel.workers = workers
                return conv.forward(x, mode: .evaluation)
            }
            for y in outputs.dropFirst() { XCTAssertEqual(y.data.map(\.bitPattern), outputs[0].data.map(\.bitPattern), "\(cin) \(k)x\(k)/\(s)") }
            XCTAssertEqual(outputs[0].shape, reference.shape)
            let worst = zip(outputs[0].data, reference.data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 2e-6 * max(reference.maxAbs, 1), "\(cin) \(k)x\(k)/\(s)")
            conv.rectifiesOutput = true
            XCTAssertEqual(conv.forward(x, mode: .evaluation).data.map(\.bitPattern), outputs[0].data.map { ($0 > 0 ? $0 : 0).bitPattern })
        }
    }
}
