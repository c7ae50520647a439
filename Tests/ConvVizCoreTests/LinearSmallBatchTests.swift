import XCTest
@testable import ConvVizCore

/// A classifier at a small batch runs in fixed blocks of outputs on every core: the
/// direct sums within float rounding, and the same bytes on 1, 2, 3 and 8 workers.
final class LinearSmallBatchTests: XCTestCase {
    override func tearDown() { Parallel.workers = ProcessInfo.processInfo.activeProcessorCount }

    func testBlocksEqualTheDirectSumsOnAnyNumberOfWorkers() {
        var rng = SeededGenerator(seed: 31)
        // 1001 outputs: four blocks of 251, the last of 248.
        let layer = Linear(name: "fc", inputFeatures: 300, outputFeatures: 1001, rng: &rng)
        XCTAssertGreaterThanOrEqual(300 * 1001, Linear.blockedWeights)
        for n in [1, 3, 7] {
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
}
