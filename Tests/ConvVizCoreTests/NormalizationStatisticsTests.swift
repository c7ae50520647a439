import XCTest
@testable import ConvVizCore

/// The one statistics routine: against a two-pass Double reference on values far from
/// zero (where a sum of squares would cancel), through every kind of set.
final class NormalizationStatisticsTests: XCTestCase {
    func reference(_ x: Tensor, _ planes: Set<SampleChannel>) -> (mean: Double, variance: Double) {
        let (c, p) = (x.shape[1], x.shape[2] * x.shape[3])
        let values = planes.flatMap { s in (0..<p).map { Double(x.data[(s.sample * c + s.channel) * p + $0]) } }
        let mean = values.reduce(0, +) / Double(values.count)
        return (mean, values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count))
    }

    func testEveryKindAgreesWithTwoPassDouble() {
        var rng = SeededGenerator(seed: 3)
        var x = Tensor.normal(shape: [5, 6, 4, 3], using: &rng)
        for i in 0..<x.count { x.data[i] = 1000 + 0.01 * x.data[i] }
        for kind in NormalizationKind.allCases {
            for plane in [SampleChannel(0, 0), SampleChannel(4, 5), SampleChannel(2, 3)] {
                let set = kind.set(containing: plane, n: 5, c: 6, groups: 3)
                let want = reference(x, set)
                let got = kind.statistics(x, containing: plane, groups: 3)
                XCTAssertEqual(got.count, set.count * 12, "\(kind)")
                XCTAssertEqual(got.mean, want.mean, accuracy: 1e-7 * 1000, "\(kind) \(plane) mean")
                XCTAssertEqual(got.variance, want.variance, accuracy: 1e-3 * want.variance, "\(kind) \(plane) variance")
            }
        }
    }

    /// BatchNorm's running statistics move by what the figures report for the same batch.
    func testBatchNormUsesTheSameStatistics() {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal(shape: [3, 2, 5, 5], using: &rng)
        let bn = BatchNorm2D(name: "bn", channels: 2, momentum: 1)
        _ = bn.forward(x, mode: .training)
        for c in 0..<2 {
            let s = NormalizationKind.batch.statistics(x, containing: SampleChannel(0, c), groups: 1)
            XCTAssertEqual(bn.runningMean.value.data[c], Float(s.mean))
            XCTAssertEqual(bn.runningVar.value.data[c], Float(s.variance) * 75 / 74, accuracy: 1e-6)
        }
    }
}
