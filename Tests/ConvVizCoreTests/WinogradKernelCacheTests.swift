import XCTest
@testable import ConvVizCore

/// Winograd's transformed kernels kept between calls outside training (issue 27): the same
/// bytes as transforming on every call, dropped when the weight changes (in place or
/// whole) and never kept while training.
final class WinogradKernelCacheTests: XCTestCase {
    func layer(kernel: Int, seed: UInt64 = 1) -> Conv2D {
        var rng = SeededGenerator(seed: seed)
        let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 24, window: Window2D(kernel: Pair(kernel), padding: Pair(kernel / 2)), rng: &rng)
        conv.usesSmallMapPath = false  // these maps are small enough for it; Winograd is tested here
        return conv
    }

    func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
    }

    func testEvaluationKeepsTheTransformAndGivesTheSameBytes() throws {
        for k in [3, 5] {
            let conv = layer(kernel: k)
            XCTAssertTrue(conv.runsWinograd(conv.geometry([1, 16, 12, 12])))
            let x = input([1, 16, 12, 12], seed: 2)
            // Training mode transforms on every call and keeps nothing.
            let uncached = conv.forward(x, mode: .training)
            let key = Conv2D.winogradCacheKey(WinogradTransform.forKernel(k)!, flipped: false)
            XCTAssertNil(conv.winogradKernelCache[key])
            let first = conv.forward(x, mode: .evaluation)
            XCTAssertNotNil(conv.winogradKernelCache[key], "\(k)x\(k)")
            let second = conv.forward(x, mode: .evaluation)
            XCTAssertTrue(first.data == uncached.data, "\(k)x\(k)")
            XCTAssertTrue(second.data == uncached.data, "\(k)x\(k)")
        }
    }

    /// A call of 256 tiles or more transforms without keeping (and drops what was kept):
    /// there the transform is a few percent of the call, and the kept kernels cost memory.
    func testLargeCallsKeepNothing() throws {
        let conv = layer(kernel: 3)
        let small = input([1, 16, 12, 12], seed: 6), large = input([8, 16, 16, 16], seed: 7)  // 36 and 512 tiles
        _ = conv.forward(small, mode: .evaluation)
        XCTAssertNotNil(conv.winogradKernelCache[Conv2D.winogradCacheKey(.threeByThree, flipped: false)])
        let y = conv.forward(large, mode: .evaluation)
        XCTAssertNil(conv.winogradKernelCache[Conv2D.winogradCacheKey(.threeByThree, flipped: false)])
        XCTAssertTrue(y.data == conv.forward(large, mode: .training).data)
    }

    func testAChangedWeightIsTransformedAgain() throws {
        let conv = layer(kernel: 3)
        let x = input([2, 16, 9, 9], seed: 3)
        let before = conv.forward(x, mode: .evaluation)
        // In place, as an optimizer or BatchNorm folding changes it.
        conv.weight.value.data[0] += 0.5
        let after = conv.forward(x, mode: .evaluation)
        XCTAssertFalse(after.data == before.data)
        let fresh = conv.twin()
        fresh.usesWinograd = true
        XCTAssertTrue(after.data == fresh.forward(x, mode: .training).data)
        // Replaced whole, as loading a state dict does.
        conv.weight.value = Tensor(shape: conv.weight.value.shape, data: conv.weight.value.data.map { $0 * 2 })
        let replaced = conv.forward(x, mode: .evaluation)
        XCTAssertTrue(replaced.data == conv.twin().forward(x, mode: .training).data)
    }

    func testInputGradientOutsideTrainingKeepsTheFlippedKernels() throws {
        let conv = layer(kernel: 3)
        conv.accumulatesParameterGradients = false
        let x = input([1, 16, 10, 10], seed: 4), dy = input([1, 24, 10, 10], seed: 5)
        _ = conv.forward(x, mode: .training)
        let uncached = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
        XCTAssertNil(conv.winogradKernelCache[Conv2D.winogradCacheKey(.threeByThree, flipped: true)])
        for _ in 0..<2 {
            _ = conv.forward(x, mode: .evaluationWithGradients)
            let cached = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
            XCTAssertTrue(cached.data == uncached.data)
        }
        XCTAssertNotNil(conv.winogradKernelCache[Conv2D.winogradCacheKey(.threeByThree, flipped: true)])
        // A training pass drops what was kept: training changes the weight every step.
        _ = conv.forward(x, mode: .training)
        XCTAssertTrue(conv.winogradKernelCache.isEmpty)
    }
}
