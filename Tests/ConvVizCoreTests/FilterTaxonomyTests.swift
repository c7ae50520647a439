import Foundation
import XCTest
@testable import ConvVizCore

final class FilterTaxonomyTests: XCTestCase {
    /// A gray Gabor (cosine carrier, Gaussian envelope) whose wave vector points at `degrees`.
    func gabor(_ degrees: Double, k: Int = 11, frequency: Double = 0.2, colour: [Double] = [1, 1, 1]) -> [Float] {
        let t = degrees * Double.pi / 180, c = Double(k - 1) / 2
        var out = [Float](repeating: 0, count: 3 * k * k)
        for ch in 0..<3 { for y in 0..<k { for x in 0..<k {
            let dx = Double(x) - c, dy = Double(y) - c
            let v = exp(-(dx * dx + dy * dy) / (2 * 2.5 * 2.5)) * cos(2 * Double.pi * frequency * (dx * cos(t) + dy * sin(t)))
            out[(ch * k + y) * k + x] = Float(v * colour[ch])
        }}}
        return out
    }

    func taxonomy(_ filters: [[Float]], k: Int = 11) -> FilterTaxonomy {
        FilterTaxonomy(weights: Tensor(shape: [filters.count, 3, k, k], data: filters.flatMap { $0 }))
    }

    func testGaborsAreEdgesAtTheirAngle() {
        let angles = [0.0, 17, 30, 45, 60, 90, 112, 135, 160]
        let t = taxonomy(angles.map { gabor($0) })
        for (a, e) in zip(angles, t.entries) {
            XCTAssertEqual(e.kind, .edge, "Gabor at \(a)°")
            let diff = abs(e.orientation - a).truncatingRemainder(dividingBy: 180)
            XCTAssertLessThanOrEqual(min(diff, 180 - diff), 5, "Gabor at \(a)° measured \(e.orientation)°")
            XCTAssertGreaterThan(e.selectivity, 0.6)
            XCTAssertEqual(e.frequency, 0.2, accuracy: 0.06)
            XCTAssertLessThan(e.chromaticFraction, 1e-9)
        }
    }

    func testRedGreenBlobIsColourOpponent() {
        let k = 11, c = 5.0
        var f = [Float](repeating: 0, count: 3 * k * k)
        for y in 0..<k { for x in 0..<k {
            let g = Float(exp(-(pow(Double(x) - c, 2) + pow(Double(y) - c, 2)) / 8))
            f[y * k + x] = g; f[k * k + y * k + x] = -g
        }}
        let e = taxonomy([f]).entries[0]
        XCTAssertEqual(e.kind, .colorOpponent)
        XCTAssertGreaterThan(e.redGreen, 0.9)
        XCTAssertLessThan(e.blueYellow, 0.1)
    }

    func testCentreSurroundIsABlob() {
        let k = 11, c = 5.0
        var f = [Float](repeating: 0, count: 3 * k * k)
        for ch in 0..<3 { for y in 0..<k { for x in 0..<k {
            let r2 = pow(Double(x) - c, 2) + pow(Double(y) - c, 2)
            f[(ch * k + y) * k + x] = Float(exp(-r2 / 4) - 0.5 * exp(-r2 / 16))
        }}}
        XCTAssertEqual(taxonomy([f]).entries[0].kind, .blob)
    }

    func testLocalizedDotIsStructured() {
        let k = 11
        var f = [Float](repeating: 0, count: 3 * k * k)
        for ch in 0..<3 { f[(ch * k + 3) * k + 7] = 1; for (dy, dx) in [(0, 1), (1, 0), (0, -1), (-1, 0)] { f[(ch * k + 3 + dy) * k + 7 + dx] = -0.3 } }
        let e = taxonomy([f]).entries[0]
        XCTAssertGreaterThan(e.localization, 0.6)
        XCTAssertEqual(e.kind, .blob)
    }

    func testWhiteNoiseAndRandomInitAreUnstructured() throws {
        var rng = SeededGenerator(seed: 9)
        let noise = (0..<20).map { _ in (0..<363).map { _ in rng.normal() } }
        XCTAssertEqual(taxonomy(noise).count(.unstructured), 20)
        // PyTorch-style uniform init of a 48x3x11x11 conv1: at most 5% edges or colour.
        let conv = Conv2D(name: "c", inputChannels: 3, outputChannels: 48, window: Window2D(kernel: Pair(11), stride: Pair(2)), rng: &rng)
        let t = FilterTaxonomy(weights: conv.weight.value)
        XCTAssertLessThanOrEqual(t.fraction(.edge), 0.05)
        XCTAssertLessThanOrEqual(t.fraction(.colorOpponent), 0.05)
    }
}
