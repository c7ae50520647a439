import XCTest
@testable import ConvVizCore

/// The fast path (im2col + OpenBLAS GEMM, chunked) against the direct loops.
final class ConvolutionReferenceTests: XCTestCase {
    func testFastPathMatchesDirectLoops() {
        var rng = SeededGenerator(seed: 21)
        let windows = [
            Window2D(kernel: Pair(5), padding: Pair(2)),
            Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)),
            Window2D(kernel: Pair(3), stride: Pair(1), padding: Pair(2), dilation: Pair(2)),
            Window2D(kernel: Pair(1, 3), stride: Pair(1, 2), padding: Pair(0, 1)),
            Window2D(kernel: Pair(11), stride: Pair(4), padding: Pair(2)),
        ]
        // Few channels take the channel-major patch matrix for stride-1 windows whose
        // rows are longer than a patch's runs, the others the pixel-major one; 16 channels
        // (full 8x8 transpose tiles) and larger maps in the long suite only: the direct
        // loops take seconds in a debug build.
        let long = Self.runsLongTests
        var layouts: Set<Bool> = []
        for channels in long ? [1, 3, 16] : [1, 3] {
            // Sixteen channels only through the commonest window, on a smaller map.
            for (i, window) in windows.enumerated() where channels < 16 || i == 0 {
                let label = "\(channels) channels, window \(i)"
                let conv = Conv2D(name: "c", inputChannels: channels, outputChannels: 8, window: window, rng: &rng)
                let (h, w) = channels == 16 ? (10, 9) : long ? (19, 17) : (11, 9)
                let x = Tensor.normal(shape: [channels < 16 && long ? 2 : 1, channels, h, w], using: &rng)
                let y = conv.forward(x, mode: .training)
                let out = try! window.outputSize(height: h, width: w, layer: "c")
                layouts.insert(Im2Col.prefersChannelMajor(Im2Col.Geometry(channels: channels, height: h, width: w, window: window,
                                                                          outHeight: out.h, outWidth: out.w)))
                let ref = Conv2D.referenceForward(x, weight: conv.weight.value, bias: conv.bias!.value, window: window)
                XCTAssertEqual(y.shape, ref.shape)
                assertClose(y, ref, "forward, \(label)")
                let dy = Tensor.normal(shape: y.shape, using: &rng)
                let dx = conv.backward(dy, needsInputGradient: true)!
                let refGrads = Conv2D.referenceBackward(x, weight: conv.weight.value, gradOutput: dy, window: window)
                assertClose(dx, refGrads.input, "grad input, \(label)")
                assertClose(conv.weight.grad, refGrads.weight, "grad weight, \(label)")
                assertClose(conv.bias!.grad, refGrads.bias, "grad bias, \(label)")
            }
        }
        XCTAssertEqual(layouts, [true, false], "both patch layouts exercised")
    }

    /// Batches larger than one column chunk go through several GEMMs; the result must
    /// not depend on the chunking, forward or backward.
    func testChunkedBatchesAgree() {
        var rng = SeededGenerator(seed: 22)
        let window = Window2D(kernel: Pair(3), padding: Pair(1))
        let whole = Conv2D(name: "c", inputChannels: 3, outputChannels: 2, window: window, rng: &rng)
        let chunked = whole.twin()
        // 27 rows x 36 positions = 972 column elements per sample: 2 samples per chunk.
        chunked.maxColumnElements = 2000
        whole.maxColumnElements = 1 << 20
        let x = Tensor.normal(shape: [7, 3, 6, 6], using: &rng)
        assertClose(chunked.forward(x, mode: .training), whole.forward(x, mode: .training), "chunked forward")
        let dy = Tensor.normal(shape: [7, 2, 6, 6], using: &rng)
        assertClose(chunked.backward(dy, needsInputGradient: true)!, whole.backward(dy, needsInputGradient: true)!, "chunked grad input")
        assertClose(chunked.weight.grad, whole.weight.grad, "chunked grad weight")
    }

    func assertClose(_ got: Tensor, _ ref: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, ref.shape, label, file: file, line: line)
        let scale = ref.maxAbs
        let worst = zip(got.data, ref.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1), "\(label): max |Δ| \(worst), max|ref| \(scale)", file: file, line: line)
    }
}
