import XCTest
@testable import ConvVizCore

/// Finite-difference checks: for `L = sum(layer(x) * r)` with random `r`, the analytic
/// gradients from `backward` must match central differences for the input and every
/// trainable parameter.
final class GradientCheckTests: XCTestCase {
    func checkGradients(_ layer: Layer, input: Tensor, seed: UInt64 = 7, step: Float = 1e-2, tolerance: Float = 1e-3,
                        file: StaticString = #filePath, line: UInt = #line) {
        for e in gradientErrors(layer, input: input, seed: seed, step: step) {
            XCTAssertLessThan(e.worst, tolerance, "\(layer.name) \(e.label): \(e.detail)", file: file, line: line)
        }
    }

    /// For the input and each trainable parameter: the largest |numeric - analytic|
    /// relative to the largest analytic gradient, and where it is.
    func gradientErrors(_ layer: Layer, input: Tensor, seed: UInt64 = 7, step: Float = 1e-2) -> [(label: String, worst: Float, detail: String)] {
        var rng = SeededGenerator(seed: seed)
        let y = layer.forward(input, mode: .training)
        let r = Tensor.normal(shape: y.shape, using: &rng)
        for p in layer.parameters where p.trainable { p.grad.zero() }
        let dx = layer.backward(r, needsInputGradient: true)!
        var x = input
        func loss() -> Double {
            let out = layer.forward(x, mode: .training)
            return zip(out.data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        func compare(_ label: String, analytic: Tensor, perturb: (Int, Float) -> Void) -> (String, Float, String) {
            var worst: Float = 0, detail = ""
            let scale = max(analytic.maxAbs, 1e-3)
            for i in 0..<analytic.count {
                perturb(i, step); let up = loss()
                perturb(i, -2 * step); let down = loss()
                perturb(i, step)
                let numeric = Float((up - down) / Double(2 * step))
                let err = abs(numeric - analytic.data[i]) / scale
                if err > worst { worst = err; detail = "[\(i)] analytic \(analytic.data[i]) numeric \(numeric)" }
            }
            return (label, worst, detail)
        }
        var errors = [compare("input", analytic: dx) { i, d in x.data[i] += d }]
        x = input  // +step, -2 step, +step need not restore a Float exactly
        for p in layer.parameters where p.trainable {
            errors.append(compare(p.name, analytic: p.grad) { i, d in p.value.data[i] += d })
        }
        return errors
    }

    /// The check fails a backward pass that is 1% off.
    func testCheckCatchesAOnePercentError() {
        var rng = SeededGenerator(seed: 2)
        let exact = Linear(name: "fc", inputFeatures: 7, outputFeatures: 4, rng: &rng)
        let input = randomInput([3, 7], seed: 3)
        XCTAssertLessThan(gradientErrors(exact, input: input).map(\.worst).max()!, 1e-4)
        let wrong = gradientErrors(ScaledGradient(exact, by: 1.01), input: input)
        XCTAssertGreaterThan(wrong.first { $0.label == "input" }!.worst, 1e-3)
    }

    func randomInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return .normal(shape: shape, using: &rng)
    }

    /// Distinct values at least 0.1 apart, so no max-pool window has a near-tie and no
    /// ReLU input sits within a finite-difference step of its kink.
    func spacedInput(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let n = shape.reduce(1, *)
        var values = (0..<n).map { Float($0 - n / 2) * 0.1 + 0.05 }
        values.shuffle(using: &rng)
        return Tensor(shape: shape, data: values)
    }

    func testConv2DVariants() {
        var rng = SeededGenerator(seed: 1)
        let cases: [(cin: Int, cout: Int, k: Pair, s: Pair, p: Pair, d: Pair, bias: Bool, h: Int, w: Int)] = [
            (2, 3, Pair(3), Pair(1), Pair(1), Pair(1), true, 5, 6),
            (1, 2, Pair(5), Pair(2), Pair(2), Pair(1), true, 7, 7),
            (3, 2, Pair(3), Pair(1), Pair(2), Pair(2), false, 6, 5),
            (2, 2, Pair(2, 3), Pair(2, 1), Pair(0, 1), Pair(1), true, 5, 4),
        ]
        for (i, c) in cases.enumerated() {
            let conv = Conv2D(name: "conv\(i)", inputChannels: c.cin, outputChannels: c.cout,
                              window: Window2D(kernel: c.k, stride: c.s, padding: c.p, dilation: c.d), bias: c.bias, rng: &rng)
            checkGradients(conv, input: randomInput([2, c.cin, c.h, c.w], seed: UInt64(10 + i)))
        }
    }

    func testLinear() {
        var rng = SeededGenerator(seed: 2)
        checkGradients(Linear(name: "fc", inputFeatures: 7, outputFeatures: 4, rng: &rng), input: randomInput([3, 7], seed: 3))
    }

    func testReLUAndPools() {
        checkGradients(ReLU(name: "relu"), input: spacedInput([2, 2, 3, 4], seed: 4))
        checkGradients(MaxPool2D(name: "max", window: Window2D(kernel: Pair(2), stride: Pair(2))), input: spacedInput([2, 2, 5, 4], seed: 5))
        checkGradients(MaxPool2D(name: "max3", window: Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1))), input: spacedInput([1, 2, 6, 5], seed: 6))
        for include in [true, false] {
            checkGradients(AvgPool2D(name: "avg", window: Window2D(kernel: Pair(3), stride: Pair(2), padding: Pair(1)), countIncludePad: include),
                           input: randomInput([2, 2, 5, 6], seed: 7))
        }
    }

    func testNormalizations() {
        func randomAffine(_ ps: [Parameter], seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            for p in ps where p.trainable { p.value = .normal(shape: p.value.shape, using: &rng) }
        }
        let bn = BatchNorm2D(name: "bn", channels: 3)
        randomAffine(bn.parameters, seed: 8)
        checkGradients(bn, input: randomInput([4, 3, 3, 2], seed: 9), step: 5e-3)
        let gn = GroupNorm(name: "gn", channels: 4, groups: 2)
        randomAffine(gn.parameters, seed: 10)
        checkGradients(gn, input: randomInput([2, 4, 3, 3], seed: 11), step: 5e-3)
        let inorm = InstanceNorm(name: "in", channels: 3)
        randomAffine(inorm.parameters, seed: 12)
        checkGradients(inorm, input: randomInput([2, 3, 3, 3], seed: 13), step: 5e-3)
        let ln = LayerNorm(name: "ln", normalizedShape: [2, 3, 3])
        randomAffine(ln.parameters, seed: 14)
        checkGradients(ln, input: randomInput([2, 2, 3, 3], seed: 15), step: 5e-3)
    }

    func testCrossEntropyGradient() {
        var rng = SeededGenerator(seed: 16)
        var logits = Tensor.normal(shape: [3, 5], std: 2, using: &rng)
        let targets = [0, 4, 2]
        let analytic = CrossEntropy.evaluate(logits: logits, targets: targets).gradient
        for i in 0..<logits.count {
            logits.data[i] += 1e-2; let up = CrossEntropy.evaluate(logits: logits, targets: targets).loss
            logits.data[i] -= 2e-2; let down = CrossEntropy.evaluate(logits: logits, targets: targets).loss
            logits.data[i] += 1e-2
            XCTAssertEqual((up - down) / 2e-2, analytic.data[i], accuracy: 1e-3, "logit \(i)")
        }
    }

    /// The whole SmallConvNet-like chain, end to end through `Sequential.backward`.
    func testSequentialInputGradient() throws {
        let arch = Architecture(name: "t", input: [1, 6, 6], layers: [
            LayerSpec(.conv, out: 2, kernel: Pair(3), padding: Pair(1)), LayerSpec(.groupnorm, groups: 1),
            LayerSpec(.maxpool, kernel: Pair(2)), LayerSpec(.flatten), LayerSpec(.linear, out: 3),
        ])
        let model = try arch.makeModel(seed: 3)
        let x = randomInput([2, 1, 6, 6], seed: 17)
        let targets = [1, 2]
        let out = model.forward(x, mode: .training)
        let dx = model.backward(CrossEntropy.evaluate(logits: out, targets: targets).gradient, inputGradient: true)!
        var xp = x
        for i in stride(from: 0, to: x.count, by: 5) {
            xp.data[i] += 1e-2; let up = CrossEntropy.evaluate(logits: model.forward(xp, mode: .training), targets: targets).loss
            xp.data[i] -= 2e-2; let down = CrossEntropy.evaluate(logits: model.forward(xp, mode: .training), targets: targets).loss
            xp.data[i] += 1e-2
            XCTAssertEqual((up - down) / 2e-2, dx.data[i], accuracy: 1e-3 * max(dx.maxAbs, 1e-3), "input \(i)")
        }
    }
}

/// A layer whose input gradient is `factor` times the true one: a planted bug.
private final class ScaledGradient: Layer {
    let inner: Layer, factor: Float
    init(_ inner: Layer, by factor: Float) { self.inner = inner; self.factor = factor }
    var name: String { inner.name }
    var parameters: [Parameter] { inner.parameters }
    func outputShape(for input: [Int]) throws -> [Int] { try inner.outputShape(for: input) }
    func forward(_ input: Tensor, mode: Mode) -> Tensor { inner.forward(input, mode: mode) }
    func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard var dx = inner.backward(gradOutput, needsInputGradient: needsInputGradient) else { return nil }
        for i in 0..<dx.count { dx.data[i] *= factor }
        return dx
    }
}
