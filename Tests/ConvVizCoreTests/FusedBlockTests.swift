import XCTest
@testable import ConvVizCore

/// BatchNorm → ReLU → max-pool run fused (`NormReLUPool`) against the same layers run
/// one by one: outputs, running statistics, every gradient.
final class FusedBlockTests: XCTestCase {
    /// Even and odd map sizes (an odd row and column are dropped by the pool but still
    /// get BatchNorm's gradient), widths with and without a partial vector of windows.
    func testFusedBlockMatchesLayerByLayer() throws {
        for size in [28, 15, 6] {
            let arch = Architecture.smallConvNet(inputChannels: 3, size: size)
            let fused = try arch.makeModel(seed: 5), plain = try arch.makeModel(seed: 5)
            plain.fusesBlocks = false
            var rng = SeededGenerator(seed: 9)
            let x = Tensor.normal(shape: [6, 3, size, size], using: &rng)
            // Two steps, so the second starts from updated running statistics.
            for step in 0..<2 {
                let label = "size \(size) step \(step)"
                let yFused = fused.forward(x, mode: .training), yPlain = plain.forward(x, mode: .training)
                XCTAssertFalse(Self.blockStarts(fused).isEmpty)
                XCTAssertEqual(fused.fusedInLastForward, Self.blockStarts(fused), "\(label): every block ran fused")
                XCTAssertEqual(plain.fusedInLastForward, [], "\(label): nothing fused")
                assertClose(yFused, yPlain, "\(label) logits")
                let dy = Tensor.normal(shape: yPlain.shape, using: &rng)
                fused.zeroGradients(); plain.zeroGradients()
                let dxFused = fused.backward(dy, inputGradient: true)!, dxPlain = plain.backward(dy, inputGradient: true)!
                assertClose(dxFused, dxPlain, "\(label) input gradient")
                for ((name, a), (_, b)) in zip(fused.namedParameters, plain.namedParameters) {
                    assertClose(a.value, b.value, "\(label) \(name)")
                    if a.trainable { assertClose(a.grad, b.grad, "\(label) d\(name)") }
                }
            }
            assertClose(fused.forward(x, mode: .evaluation), plain.forward(x, mode: .evaluation), "size \(size) evaluation")
            XCTAssertFalse(fused.fusedInLastForward.isEmpty, "size \(size): evaluation ran fused")
        }
    }

    /// A negative gamma flips which cell of a window is largest after normalization.
    func testNegativeGammaPicksTheNormalizedMaximum() throws {
        let arch = Architecture.smallConvNet(inputChannels: 1, size: 12)
        let fused = try arch.makeModel(seed: 3), plain = try arch.makeModel(seed: 3)
        plain.fusesBlocks = false
        for model in [fused, plain] {
            for (name, p) in model.namedParameters where name.hasSuffix("bn1.weight") {
                for i in 0..<p.value.count { p.value.data[i] = i % 2 == 0 ? -1.5 : 0.7 }
            }
        }
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal(shape: [4, 1, 12, 12], using: &rng)
        assertClose(fused.forward(x, mode: .training), plain.forward(x, mode: .training), "logits")
        XCTAssertFalse(fused.fusedInLastForward.isEmpty, "the block ran fused")
        let dy = Tensor.normal(shape: [4, 10], using: &rng)
        assertClose(fused.backward(dy, inputGradient: true)!, plain.backward(dy, inputGradient: true)!, "input gradient")
    }

    /// The blocks are found where the three layers appear in order, and only there.
    func testOnlyTheExactSequenceFuses() {
        let pool = MaxPool2D(name: "p", window: Window2D(kernel: Pair(2), stride: Pair(2)))
        let wide = MaxPool2D(name: "p", window: Window2D(kernel: Pair(3), stride: Pair(2)))
        let bn = BatchNorm2D(name: "bn", channels: 2), relu = ReLU(name: "r")
        XCTAssertNotNil(NormReLUPool(bn, relu, pool))
        XCTAssertNil(NormReLUPool(bn, relu, wide))
        XCTAssertNil(NormReLUPool(relu, bn, pool))
        XCTAssertNil(NormReLUPool(GroupNorm(name: "g", channels: 2, groups: 1), relu, pool))
    }

    /// Where BatchNorm, ReLU and a 2x2 stride-2 max-pool follow each other.
    static func blockStarts(_ model: Sequential) -> Set<Int> {
        let l = model.layers
        return Set(l.indices.dropLast(2).filter { NormReLUPool(l[$0], l[$0 + 1], l[$0 + 2]) != nil })
    }

    /// A forward pass through part of a block, or one that wants input gradients in
    /// evaluation, runs the layers one by one.
    func testPartialAndGradientEvaluationPassesDoNotFuse() throws {
        let model = try Architecture.smallConvNet(inputChannels: 1, size: 12).makeModel(seed: 3)
        let first = try XCTUnwrap(Self.blockStarts(model).min())
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal(shape: [2, 1, 12, 12], using: &rng)
        _ = model.forward(x, mode: .training, through: first + 1)
        XCTAssertFalse(model.fusedInLastForward.contains(first))
        _ = model.forward(x, mode: .evaluationWithGradients)
        XCTAssertEqual(model.fusedInLastForward, [])
    }

    /// Relative to the tensor's scale, with a floor: a convolution bias right before a
    /// BatchNorm has zero gradient in exact arithmetic, and rounding noise (1e-6) in both.
    func assertClose(_ got: Tensor, _ ref: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, ref.shape, label, file: file, line: line)
        let scale = ref.maxAbs
        let worst = zip(got.data, ref.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4 * max(scale, 0.1), "\(label): max |Δ| \(worst), max|ref| \(scale)", file: file, line: line)
    }
}
