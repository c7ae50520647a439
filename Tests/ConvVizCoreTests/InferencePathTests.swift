import XCTest
@testable import ConvVizCore

/// The inference shortcuts compute exactly what the general paths compute.
final class InferencePathTests: XCTestCase {
    /// Blocks of output rows (a sample's patch matrix over the budget, or fewer samples
    /// than cores) give the same bits as whole-sample GEMMs: every output is the same dot
    /// product.
    func testConvolutionInRowBlocksEqualsWholeSamples() {
        var rng = SeededGenerator(seed: 4)
        let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 24, window: Window2D(kernel: Pair(3), stride: Pair(1), padding: Pair(1)), rng: &rng)
        let x = Tensor.normal(shape: [4, 16, 13, 11], using: &rng)
        let whole = conv.forward(x, mode: .evaluation)
        conv.maxColumnElements = 16 * 9 * 11 * 2          // two output rows per block
        XCTAssertEqual(conv.forward(x, mode: .evaluation).data, whole.data)
        let one = Tensor(shape: [1, 16, 13, 11], data: Array(x.data.prefix(16 * 13 * 11)))
        conv.maxColumnElements = 1 << 19                   // one sample, split among the cores
        XCTAssertEqual(conv.forward(one, mode: .evaluation).data, Array(whole.data.prefix(24 * 13 * 11)))
        let ref = Conv2D.referenceForward(one, weight: conv.weight.value, bias: conv.bias!.value, window: conv.window)
        for (a, b) in zip(conv.forward(one, mode: .evaluation).data, ref.data) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    /// Max pooling without argmax bookkeeping (inference) equals the training path,
    /// with padding, ceil mode and NaN.
    func testMaxPoolValuesOnlyEqualsTrainingPath() {
        var rng = SeededGenerator(seed: 6)
        var x = Tensor.normal(shape: [2, 3, 11, 10], using: &rng)
        x.data[17] = .nan
        for window in [Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)),
                       Window2D(kernel: Pair(3), stride: Pair(2), ceilMode: true),
                       Window2D(kernel: Pair(2, 3), stride: Pair(1, 2))] {
            let pool = MaxPool2D(name: "p", window: window)
            let train = pool.forward(x, mode: .training), infer = pool.forward(x, mode: .evaluation)
            XCTAssertEqual(train.shape, infer.shape)
            for (a, b) in zip(train.data, infer.data) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(window): \(a) vs \(b)") }
        }
    }

    /// ReLUs run inside the convolutions before them give the graph's outputs unchanged,
    /// on every convolution path (pixel-major in blocks, channel-major, depthwise).
    func testFusedReLUsKeepTheOutputs() throws {
        let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/graphs")
        for fixture in ["residual", "depthwise", "inception", "assorted"] {
            // BatchNorm folded first, as `bench model` does, so that ReLUs follow convolutions.
            let source = try ModelSource(model: directory.appendingPathComponent("\(fixture).onnx").path).foldingBatchNorm().source
            let x = try NPY.read(contentsOf: directory.appendingPathComponent("\(fixture).input.npy"))
            let plain = try source.makeGraph().output(x)
            let graph = try source.makeGraph()
            let fused = graph.fusingReLUIntoConvolutions()
            XCTAssertEqual(graph.output(x).data, plain.data, fixture)
            if fixture != "depthwise" { XCTAssertGreaterThan(fused, 0, fixture) }
        }
    }
}
