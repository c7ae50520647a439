import XCTest
@testable import ConvVizCore

/// A large classifier runs in fixed blocks on every core, at any batch: blocks of
/// outputs forward, blocks of input features for the input gradient. The direct sums
/// within float rounding, and the same bytes on 1, 2, 3 and 8 workers.
final class LinearBlockTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func testBlocksEqualTheDirectSumsOnAnyNumberOfWorkers() {
        var rng = SeededGenerator(seed: 31)
        // 1001 outputs: four blocks of 251, the last of 248.
        let layer = Linear(name: "fc", inputFeatures: 300, outputFeatures: 1001, rng: &rng)
        XCTAssertGreaterThanOrEqual(300 * 1001, Linear.blockedWeights)
        for n in [1, 3, 7, 16] {
            let x = Tensor.seededUniform([n, 300], seed: UInt64(n))
            let outputs = [1, 2, 3, 8].map { workers -> Tensor in
                Parallel.workers = workers
                return layer.forward(x, mode: .evaluation)
            }
            for y in outputs.dropFirst() { XCTAssertTrue(y.data == outputs[0].data, "batch \(n)") }
            let (w, b) = (layer.weight.value.data, layer.bias!.value.data)
            var worst: Double = 0, largest: Double = 0
            for s in 0..<n {
                for o in 0..<1001 {
                    var sum = Double(b[o])
                    for i in 0..<300 { sum += Double(x.data[s * 300 + i]) * Double(w[o * 300 + i]) }
                    worst = max(worst, abs(sum - Double(outputs[0].data[s * 1001 + o])))
                    largest = max(largest, abs(sum))
                }
            }
            XCTAssertLessThan(worst / largest, 1e-5, "batch \(n)")
        }
    }

    /// dX = dY W in blocks of input features (301: blocks of 76, the last of 73): the
    /// direct sums within rounding, the same bytes on any number of workers, and the same
    /// bytes with the parameter gradients off, which then stay as they were.
    func testInputGradientInBlocksAndWithoutParameterGradients() {
        var rng = SeededGenerator(seed: 32)
        let layer = Linear(name: "fc", inputFeatures: 301, outputFeatures: 1000, rng: &rng)
        for n in [1, 16] {
            let x = Tensor.seededUniform([n, 301], seed: UInt64(40 + n))
            let dy = Tensor.seededUniform([n, 1000], seed: UInt64(50 + n))
            _ = layer.forward(x, mode: .training)
            let gradients = [1, 2, 3, 8].map { workers -> Tensor in
                Parallel.workers = workers
                return layer.backward(dy, needsInputGradient: true)!
            }
            for dx in gradients.dropFirst() { XCTAssertTrue(dx.data == gradients[0].data, "batch \(n)") }
            let w = layer.weight.value.data
            var worst: Double = 0, largest: Double = 0
            for s in 0..<n {
                for i in 0..<301 {
                    var sum: Double = 0
                    for o in 0..<1000 { sum += Double(dy.data[s * 1000 + o]) * Double(w[o * 301 + i]) }
                    worst = max(worst, abs(sum - Double(gradients[0].data[s * 301 + i])))
                    largest = max(largest, abs(sum))
                }
            }
            XCTAssertLessThan(worst / largest, 1e-5, "batch \(n)")

            let (weightGrad, biasGrad) = (layer.weight.grad, layer.bias!.grad)
            XCTAssertNotEqual(weightGrad.maxAbs, 0, "the training backward passes added weight gradients")
            layer.accumulatesParameterGradients = false
            defer { layer.accumulatesParameterGradients = true }
            let alone = layer.backward(dy, needsInputGradient: true)!
            XCTAssertTrue(alone.data == gradients[0].data, "batch \(n)")
            XCTAssertEqual(layer.weight.grad, weightGrad)
            XCTAssertEqual(layer.bias!.grad, biasGrad)
        }
    }
}
