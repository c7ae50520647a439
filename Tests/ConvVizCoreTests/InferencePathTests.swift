import XCTest
@testable import ConvVizCore

/// The inference shortcuts compute exactly what the general paths compute.
final class InferencePathTests: XCTestCase {
    /// Blocks of output rows (a sample's patch matrix over the budget, or fewer samples
    /// than `smallBatchItems`) give what whole-sample GEMMs give: each output is the same
    /// dot product. The GEMMs have other shapes, and nothing in BLAS promises that a
    /// product's rounding does not depend on its shape (OpenBLAS's AVX-512 small-matrix
    /// kernel rounds alike whatever the shape; the packed Haswell and Zen kernels need
    /// not), so they agree within float32 rounding, not bit for bit.
    ///
    /// Tolerance from measurement, over the kernels OpenBLAS 0.3.21 offers x86-64
    /// (`OPENBLAS_CORETYPE` = Cooperlake, SkylakeX, Haswell, Zen, Sandybridge, Prescott):
    /// blocks and whole samples differ by at most 3.1e-7 of the largest output (two-row
    /// blocks) and 4.0e-7 (one sample split among the cores) on Haswell and Zen, 0 on the
    /// others; the direct loops differ from either by up to 4.0e-7. 1e-5, what the other
    /// convolution paths are held to, leaves a margin of 25; a misplaced row is off by
    /// the size of the outputs.
    func testConvolutionInRowBlocksEqualsWholeSamples() {
        var rng = SeededGenerator(seed: 4)
        // Stride 2: the pixel-major patch matrix, never Winograd (tested on its own).
        let conv = Conv2D(name: "c", inputChannels: 16, outputChannels: 24, window: Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)), rng: &rng)
        let x = Tensor.normal(shape: [Conv2D.smallBatchItems, 16, 25, 21], using: &rng)
        let g = conv.geometry(x.shape)
        XCTAssertFalse(conv.runsWinograd(g))
        XCTAssertFalse(Im2Col.prefersChannelMajor(g))
        XCTAssertEqual(conv.rowsPerBlock(g), g.outHeight, "a batch of whole samples")
        let whole = conv.forward(x, mode: .evaluation)

        conv.maxColumnElements = g.rows * g.outWidth * 2
        XCTAssertEqual(conv.rowsPerBlock(g), 2, "blocks of two output rows")
        assertClose(conv.forward(x, mode: .evaluation), whole, "blocks of two rows")

        conv.maxColumnElements = 1 << 19
        let one = Tensor(shape: [1, 16, 25, 21], data: Array(x.data.prefix(16 * 25 * 21)))
        let first = Tensor(shape: [1, 24, g.outHeight, g.outWidth], data: Array(whole.data.prefix(24 * g.outPlane)))
        let alone = conv.forward(one, mode: .evaluation)  // one sample, its rows split among the cores
        assertClose(alone, first, "one sample in row blocks")
        assertClose(alone, Conv2D.referenceForward(one, weight: conv.weight.value, bias: conv.bias!.value, window: conv.window), "direct loops")
    }

    func assertClose(_ got: Tensor, _ ref: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, ref.shape, label, file: file, line: line)
        let scale = ref.maxAbs
        let worst = zip(got.data, ref.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1), "\(label): max |Δ| \(worst), max|ref| \(scale)", file: file, line: line)
    }

    /// Max pooling without argmax bookkeeping (inference) equals the training path,
    /// with padding, ceil mode and NaN.
    func testMaxPoolValuesOnlyEqualsTrainingPath() {
        var rng = SeededGenerator(seed: 6)
        // Narrow planes (scalar loops only) and wide ones (eight outputs at a time, then
        // a scalar tail), NaNs at a row's start, middle and end.
        var narrow = Tensor.normal(shape: [2, 3, 11, 10], using: &rng)
        narrow.data[17] = .nan
        var wide = Tensor.normal(shape: [1, 3, 9, 45], using: &rng)
        for i in [0, 44, 45 * 4 + 21, 405 + 45 * 8 + 30] { wide.data[i] = .nan }
        for x in [narrow, wide] {
            for window in [Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)),
                           Window2D(kernel: Pair(3), stride: Pair(2), ceilMode: true),
                           Window2D(kernel: Pair(2, 3), stride: Pair(1, 2)),
                           Window2D(kernel: Pair(3), stride: Pair(1), padding: Pair(1)),
                           Window2D(kernel: Pair(5), stride: Pair(2), padding: Pair(2), ceilMode: true),
                           Window2D(kernel: Pair(4), stride: Pair(3), padding: Pair(1))] {
                let pool = MaxPool2D(name: "p", window: window)
                let train = pool.forward(x, mode: .training), infer = pool.forward(x, mode: .evaluation)
                XCTAssertEqual(train.shape, infer.shape)
                for (a, b) in zip(train.data, infer.data) { XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(window) \(x.shape): \(a) vs \(b)") }
            }
        }
        // A NaN anywhere in a window gives NaN (PyTorch's rule), wherever it lies in the window.
        for position in 0..<9 {
            var one = Tensor(shape: [1, 1, 3, 3], data: (0..<9).map(Float.init))
            one.data[position] = .nan
            let pool = MaxPool2D(name: "p", window: Window2D(kernel: Pair(3), stride: Pair(1)))
            XCTAssertTrue(pool.forward(one, mode: .evaluation).data[0].isNaN, "NaN at \(position)")
            XCTAssertTrue(pool.forward(one, mode: .training).data[0].isNaN, "NaN at \(position)")
        }
    }

    /// ReLUs and clips (ReLU6) run inside the convolutions before them give the graph's
    /// outputs unchanged, on every convolution path (pixel-major in blocks, channel-major,
    /// depthwise, the AVX-512 kernels).
    func testFusedReLUsKeepTheOutputs() throws {
        let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/graphs")
        for fixture in ["residual", "depthwise", "inception", "assorted"] {
            // BatchNorm folded first, as `bench model` does, so that ReLUs follow convolutions.
            let source = try ModelSource(model: directory.appendingPathComponent("\(fixture).onnx").path).foldingBatchNorm().source
            let x = try NPY.read(contentsOf: directory.appendingPathComponent("\(fixture).input.npy"))
            let plain = try source.makeGraph().output(x)
            let graph = try source.makeGraph()
            let fused = graph.fusingActivations()
            XCTAssertEqual(graph.output(x).data, plain.data, fixture)
            XCTAssertGreaterThan(fused, 0, fixture)
            if fixture == "residual" {
                let adds = graph.operations.filter { if case let .merge(m as Elementwise) = $0 { return m.rectifiesOutput } else { return false } }
                XCTAssertFalse(adds.isEmpty, "a ReLU after a residual addition runs inside it")
                XCTAssertGreaterThan(graph.fusedAdditionCount, 0, "a residual addition runs inside its convolution")
            }
            // A recording pass runs the pairs unfused again (same values), and the next
            // inference pass fused.
            XCTAssertEqual(graph.output(x, mode: .evaluationWithGradients).data, plain.data, fixture)
            XCTAssertEqual(graph.output(x).data, plain.data, fixture)
        }
    }

    /// A ReLU runs inside the addition before it only when nothing else reads the sum:
    /// a sum read by a second layer keeps its own ReLU layer, and both graphs give the
    /// unfused outputs.
    func testReLUFusesIntoAnAdditionReadByNothingElse() throws {
        func graph(sharedSum: Bool) throws -> Graph {
            let tail = sharedSum
                ? #"{"type": "conv", "name": "c", "out": 4, "kernel": 1, "inputs": ["sum"]}, {"type": "add", "inputs": ["r", "c"]}"#
                : #"{"type": "conv", "name": "c", "out": 4, "kernel": 1, "inputs": ["r"]}"#
            let json = #"{"name": "sum", "input": [3, 9, 9], "layers": [{"type": "conv", "name": "a", "out": 4, "kernel": 3, "padding": 1, "inputs": ["input"]}, {"type": "conv", "name": "b", "out": 4, "kernel": 1, "inputs": ["input"]}, {"type": "add", "name": "sum", "inputs": ["a", "b"]}, {"type": "relu", "name": "r", "inputs": ["sum"]}, "# + tail + "]}"
            return try Architecture(json: Data(json.utf8)).makeGraph(seed: 5)
        }
        let x = Tensor.seededUniform([2, 3, 9, 9], seed: 6)
        for shared in [false, true] {
            let plain = try graph(sharedSum: shared).output(x), fused = try graph(sharedSum: shared)
            XCTAssertEqual(fused.fusingActivations(), shared ? 0 : 1, "shared sum: \(shared)")
            let sum = fused.operations.compactMap { op -> Elementwise? in if case let .merge(m as Elementwise) = op, m.name == "sum" { return m } else { return nil } }
            XCTAssertEqual(sum.first?.rectifiesOutput, !shared)
            XCTAssertEqual(fused.output(x).data, plain.data, "shared sum: \(shared)")
        }
    }

    /// An addition with its ReLU fused equals the addition then ReLU's rule: positive
    /// values and NaN pass, the rest (-0 included) is +0; same shapes and broadcast.
    func testAdditionWithFusedReLU() {
        let add = Elementwise(name: "add", .add)
        var a = Tensor.seededUniform([2, 3, 4, 5], seed: 1), b = Tensor.seededUniform([2, 3, 4, 5], seed: 2)
        a.data[0] = .nan; a.data[1] = -0.0; b.data[1] = -0.0; a.data[2] = 1; b.data[2] = -1
        let scale = Tensor.seededUniform([2, 3, 1, 1], seed: 3)
        for (x, y) in [(a, b), (a, scale)] {
            add.rectifiesOutput = false
            var expected = add.forward([x, y], mode: .evaluation)
            expected.data.withUnsafeMutableBufferPointer { Vector.rectify($0.baseAddress!, count: $0.count) }
            add.rectifiesOutput = true
            let fused = add.forward([x, y], mode: .evaluation)
            XCTAssertEqual(fused.data.map(\.bitPattern), expected.data.map(\.bitPattern))
            XCTAssertTrue(fused.data.contains { $0 < 0 } == false && fused.data.contains { $0 > 0 })
        }
        XCTAssertTrue(add.forward([a, b], mode: .evaluation).data[0].isNaN)
        XCTAssertEqual(add.forward([a, b], mode: .evaluation).data[1].bitPattern, Float(0).bitPattern)
    }
}
