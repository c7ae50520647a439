import XCTest
@testable import ConvVizCore

/// Finite differences for the layers graphs brought: grouped and depthwise convolution,
/// the pointwise activations, adaptive pooling, and the layers that join branches.
extension GradientCheckTests {
    func testGroupedAndDepthwiseConvolutionGradients() {
        var rng = SeededGenerator(seed: 5)
        for (cin, cout, groups, window) in [(4, 4, 4, Window2D(kernel: Pair(3), padding: Pair(1))),
                                            (4, 8, 4, Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1))),
                                            (6, 4, 2, Window2D(kernel: Pair(3, 1), stride: Pair(2, 1), padding: Pair(1, 0), dilation: Pair(2, 1)))] {
            let conv = Conv2D(name: "g\(groups)", inputChannels: cin, outputChannels: cout, window: window, groups: groups, rng: &rng)
            checkGradients(conv, input: randomInput([2, cin, 7, 6], seed: 9), tolerance: 1e-3)
        }
    }

    /// Grouped convolution equals the dense reference run group by group.
    func testGroupedConvolutionMatchesReferencePerGroup() {
        var rng = SeededGenerator(seed: 8)
        let window = Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1), dilation: Pair(1))
        let conv = Conv2D(name: "grouped", inputChannels: 6, outputChannels: 4, window: window, groups: 2, rng: &rng)
        let x = randomInput([2, 6, 9, 8], seed: 4)
        let y = conv.forward(x, mode: .evaluation)
        for g in 0..<2 {
            var xs = Tensor(shape: [2, 3, 9, 8]), ws = Tensor(shape: [2, 3, 3, 3])
            for s in 0..<2 { for c in 0..<3 { for i in 0..<72 { xs.data[(s * 3 + c) * 72 + i] = x.data[(s * 6 + g * 3 + c) * 72 + i] } } }
            for i in 0..<ws.count { ws.data[i] = conv.weight.value.data[g * ws.count + i] }
            let bias = Tensor(shape: [2], data: Array(conv.bias!.value.data[(2 * g)..<(2 * g + 2)]))
            let ref = Conv2D.referenceForward(xs, weight: ws, bias: bias, window: window)
            for s in 0..<2 { for o in 0..<2 { for i in 0..<20 {
                XCTAssertEqual(y.data[(s * 4 + g * 2 + o) * 20 + i], ref.data[(s * 2 + o) * 20 + i], accuracy: 1e-5)
            }}}
        }
    }

    /// Strided grouped and depthwise layers (their taps read phase-split rows) against the
    /// dense direct loops with a block-diagonal weight: the forward pass, and the input
    /// gradient alone, which leaves the weight's gradient untouched; odd widths and strides
    /// 2 and 3 along the width.
    func testStridedGroupedConvolutionAgainstTheDenseLoops() throws {
        var rng = SeededGenerator(seed: 12)
        for (cin, cout, groups, kernel, stride, padding, width) in [(6, 6, 6, 3, 2, 1, 11), (6, 12, 3, 3, 3, 1, 13), (4, 4, 4, 5, 2, 2, 10)] {
            let window = Window2D(kernel: Pair(kernel), stride: Pair(stride), padding: Pair(padding))
            let conv = Conv2D(name: "g", inputChannels: cin, outputChannels: cout, window: window, groups: groups, rng: &rng)
            let (inPer, outPer) = (cin / groups, cout / groups)
            var dense = Tensor(shape: [cout, cin, kernel, kernel])
            for o in 0..<cout { for i in 0..<inPer { for t in 0..<(kernel * kernel) {
                dense.data[(o * cin + o / outPer * inPer + i) * kernel * kernel + t] = conv.weight.value.data[(o * inPer + i) * kernel * kernel + t]
            }}}
            let x = randomInput([2, cin, 9, width], seed: 3)
            let y = conv.forward(x, mode: .evaluationWithGradients)
            let reference = Conv2D.referenceForward(x, weight: dense, bias: conv.bias!.value, window: window)
            XCTAssertEqual(y.shape, reference.shape)
            for (a, b) in zip(y.data, reference.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            let dy = randomInput(y.shape, seed: 4)
            conv.accumulatesParameterGradients = false
            let dx = try XCTUnwrap(conv.backward(dy, needsInputGradient: true))
            let expected = Conv2D.referenceBackward(x, weight: dense, gradOutput: dy, window: window).input
            for (a, b) in zip(dx.data, expected.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            XCTAssertEqual(conv.weight.grad.data.map(abs).max(), 0, "no weight gradient accumulated")
        }
    }

    func testPointwiseActivationGradients() {
        for f: Pointwise.Function in [.clip(min: 0, max: 6), .leakyReLU(slope: 0.1), .sigmoid, .hardSigmoid, .hardSwish, .silu, .identity] {
            // Spaced values keep every input a step away from the kinks (0, 6, +-3).
            let x = spacedInput([2, 3, 4, 4], seed: 2).map { $0 * 4 + 0.05 }
            checkGradients(Pointwise(name: "\(f)", f), input: x, tolerance: 1e-3)
        }
        // Values, against the definitions.
        let x = Tensor(shape: [1, 5], data: [-4, -1, 0, 2, 7])
        XCTAssertEqual(Pointwise(name: "r6", .clip(min: 0, max: 6)).forward(x, mode: .evaluation).data, [0, 0, 0, 2, 6])
        // Whole vectors and a tail: every element against the definition, NaN kept.
        let long = Tensor(shape: [1, 21], data: (0..<21).map { Float($0) - 7.5 })
        var withNaN = long; withNaN.data[9] = .nan
        let clipped = Pointwise(name: "r6", .clip(min: 0, max: 6)).forward(withNaN, mode: .evaluation).data
        for (got, v) in zip(clipped, withNaN.data) { XCTAssertTrue(v.isNaN ? got.isNaN : got == Swift.min(Swift.max(v, 0), 6), "\(v) -> \(got)") }
        for (got, want) in zip(Pointwise(name: "hs", .hardSwish).forward(x, mode: .evaluation).data, [0, -1.0 / 3, 0, 2 * (2.0 / 6 + 0.5), 7] as [Float]) {
            XCTAssertEqual(got, want, accuracy: 1e-6)
        }
        XCTAssertEqual(Pointwise(name: "lr", .leakyReLU(slope: 0.1)).forward(x, mode: .evaluation).data[0], -0.4, accuracy: 1e-6)
    }

    func testAdaptivePoolingGradientsAndWindows() {
        checkGradients(AdaptiveAvgPool2D(name: "gap", outputSize: Pair(1)), input: randomInput([2, 3, 5, 4], seed: 1), tolerance: 1e-3)
        checkGradients(AdaptiveAvgPool2D(name: "ap", outputSize: Pair(2, 3)), input: randomInput([1, 2, 5, 7], seed: 1), tolerance: 1e-3)
        // PyTorch's windows for 5 -> 2: rows 0..<3 and 2..<5 (they overlap).
        XCTAssertEqual(AdaptiveAvgPool2D.span(0, of: 2, length: 5), 0..<3)
        XCTAssertEqual(AdaptiveAvgPool2D.span(1, of: 2, length: 5), 2..<5)
    }

    /// `L = sum(merge(inputs) * r)`: each input's gradient against central differences.
    func checkMergeGradients(_ layer: MergeLayer, inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: 7)
        let r = Tensor.normal(shape: layer.forward(inputs, mode: .training).shape, using: &rng)
        let grads = layer.backward(r)
        func loss(_ xs: [Tensor]) -> Double {
            zip(layer.forward(xs, mode: .training).data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        for k in inputs.indices {
            XCTAssertEqual(grads[k].shape, inputs[k].shape, file: file, line: line)
            for i in 0..<inputs[k].count {
                var plus = inputs, minus = inputs
                plus[k].data[i] += 1e-2; minus[k].data[i] -= 1e-2
                let numeric = (loss(plus) - loss(minus)) / 2e-2
                XCTAssertEqual(Double(grads[k].data[i]), numeric, accuracy: 1e-3 * Double(max(grads[k].maxAbs, 1)), "\(layer.name) input \(k)[\(i)]", file: file, line: line)
            }
        }
    }

    func testMergeLayerGradients() {
        let map = randomInput([2, 3, 4, 5], seed: 1), other = randomInput([2, 3, 4, 5], seed: 2), scale = randomInput([2, 3, 1, 1], seed: 3)
        checkMergeGradients(Elementwise(name: "add", .add), inputs: [map, other])
        checkMergeGradients(Elementwise(name: "mul", .multiply), inputs: [map, other])
        checkMergeGradients(Elementwise(name: "se", .multiply), inputs: [map, scale])
        checkMergeGradients(Elementwise(name: "se-first", .multiply), inputs: [scale, map])
        checkMergeGradients(Elementwise(name: "bias", .add), inputs: [map, scale])
        checkMergeGradients(Concat(name: "cat"), inputs: [map, randomInput([2, 1, 4, 5], seed: 4), other])
        // Values: the scale broadcasts over the plane; concatenation stacks channels.
        let se = Elementwise(name: "se", .multiply).forward([map, scale], mode: .evaluation)
        XCTAssertEqual(se[1, 2, 3, 4], map[1, 2, 3, 4] * scale[1, 2, 0, 0])
        let cat = Concat(name: "cat").forward([map, other], mode: .evaluation)
        XCTAssertEqual(cat.shape, [2, 6, 4, 5])
        XCTAssertEqual(cat[1, 4, 2, 3], other[1, 1, 2, 3])
    }
}

private extension Tensor {
    func map(_ f: (Float) -> Float) -> Tensor { Tensor(shape: shape, data: data.map(f)) }
}
