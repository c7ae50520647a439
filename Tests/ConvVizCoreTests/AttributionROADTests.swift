import XCTest
@testable import ConvVizCore

/// ROAD's MoRF and LeRF against pytorch-grad-cam's own `metrics/road.py` (fixtures by
/// `scripts/make_attribution_fixtures.py`, the imputer's noise at 0), and on a model
/// whose answer is known by hand.
final class AttributionROADTests: XCTestCase {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/attribution") }
    func load(_ name: String) throws -> Tensor { try NPY.read(contentsOf: Self.directory.appendingPathComponent(name)) }

    /// grad-cam's MoRF and LeRF at 10..90, logit and probability, on its Grad-CAM maps of
    /// the fixture network; the averages and the combined score; MoRF at 70's imputed image.
    func testROADMatchesGradCAM() throws {
        let graph = try ModelSource(model: Self.directory.appendingPathComponent("net.onnx").path).makeGraph()
        let attributor = Attributor(graph: graph)
        let (x, maps) = (try load("input.npy"), try load("gradcam.map.npy"))
        let (want, averages, imputed) = (try load("road.npy"), try load("road-average.npy"), try load("road-imputed.npy"))
        XCTAssertEqual(want.shape, [4, 9, 2])
        let targets = [3, 7]
        for i in 0..<2 {
            let image = Attributor.sample(x, i), map = Attributor.sample(maps, i)
            let road = ROAD(attributor: attributor, image: image, map: map, classIndex: targets[i], noise: 0)
            XCTAssertEqual(road.points.map(\.percentile), [10, 20, 30, 40, 50, 60, 70, 80, 90])
            // Within 1e-4 of the largest reference value of each quantity.
            let scales = (0..<4).map { k in (0..<18).map { abs(Double(want.data[k * 18 + $0])) }.max()! }
            for (p, point) in road.points.enumerated() {
                let got = [point.morfLogit, point.lerfLogit, point.morfProbability, point.lerfProbability]
                for k in 0..<4 {
                    let reference = Double(want.data[(k * 9 + p) * 2 + i])
                    XCTAssertEqual(got[k], reference, accuracy: 1e-4 * scales[k], "image \(i) percentile \(point.percentile) quantity \(k)")
                }
            }
            let means = [[road.morfLogit, road.lerfLogit, road.combinedLogit], [road.morfProbability, road.lerfProbability, road.combinedProbability]]
            for kind in 0..<2 { for k in 0..<3 {
                XCTAssertEqual(means[kind][k], Double(averages.data[(kind * 3 + k) * 2 + i]), accuracy: 1e-4 * scales[kind * 2], "average \(kind) \(k)")
            }}
            // MoRF at 70: the imputed image itself.
            let t = ROAD.percentile(map.data, 70)
            var rng = SeededGenerator(seed: 0)
            let filled = NoisyLinearImputation.impute(image, keep: map.data.map { $0 < t }, height: 32, width: 32, noise: 0, rng: &rng)
            let reference = Attributor.sample(imputed, i)
            let worst = zip(filled.data, reference.data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5, "imputed image \(i)")
            XCTAssertGreaterThan(zip(filled.data, image.data).filter { $0 != $1 }.count, 600, "about 30% of the pixels imputed")
        }
    }

    /// numpy's percentile (linear, Float32) on cases worked by hand.
    func testPercentileAsNumpy() {
        XCTAssertEqual(ROAD.percentile([0, 1, 2, 3, 4], 50), 2)
        XCTAssertEqual(ROAD.percentile([4, 0, 1, 3, 2], 10), 0.4, accuracy: 1e-7)
        XCTAssertEqual(ROAD.percentile([1, 2], 75), 1.75)
        XCTAssertEqual(ROAD.percentile([0, 0, 0, 1], 90), 0.7, accuracy: 1e-7)
    }

    /// One removed pixel becomes its 8 neighbours' weighted mean (1/6 sides, 1/12 corners);
    /// a removed corner pixel, its 3 neighbours' renormalised (1/6, 1/6, 1/12 over 5/12).
    func testImputationByHand() {
        var x = Tensor(shape: [1, 3, 3], data: [1, 2, 3, 4, 100, 6, 7, 8, 9])
        var keep = [Bool](repeating: true, count: 9); keep[4] = false
        var rng = SeededGenerator(seed: 0)
        let centre = NoisyLinearImputation.impute(x, keep: keep, height: 3, width: 3, noise: 0, rng: &rng)
        XCTAssertEqual(centre.data[4], Float((2.0 + 4 + 6 + 8) / 6 + (1.0 + 3 + 7 + 9) / 12), accuracy: 1e-6)
        XCTAssertEqual(Array(centre.data[0..<4]) + Array(centre.data[5...]), [1, 2, 3, 4, 6, 7, 8, 9], "kept pixels unchanged")
        x.data[0] = -50
        keep = [Bool](repeating: true, count: 9); keep[0] = false
        let corner = NoisyLinearImputation.impute(x, keep: keep, height: 3, width: 3, noise: 0, rng: &rng)
        XCTAssertEqual(corner.data[0], Float((2.0 / 6 + 4.0 / 6 + 100.0 / 12) / (5.0 / 12)), accuracy: 1e-5)
        // Everything removed: grad-cam's solver returns 0 for every pixel.
        let none = NoisyLinearImputation.impute(x, keep: [Bool](repeating: false, count: 9), height: 3, width: 3, noise: 0, rng: &rng)
        XCTAssertEqual(none.data, [Float](repeating: 0, count: 9))
    }

    /// logit 0 = the sum of the top-left 4x4 quadrant of an 8x8 image; the image is 1 in
    /// the quadrant and 0 elsewhere, the map the quadrant's indicator. MoRF at 75 and 90
    /// removes the quadrant (threshold 0.25 and 1): it is imputed from zeros, 0, and the
    /// logit drops by 16. LeRF at 75 removes the rest, imputed from the quadrant's ones:
    /// 1 everywhere, the logit unchanged. MoRF at 50 (threshold 0, the map's minimum)
    /// removes every pixel: the image becomes 0, the logit drops by 16.
    func testQuadrantModel() throws {
        let json = #"{"name": "quadrant-sum", "input": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "linear", "name": "fc", "out": 2, "bias": false}]}"#
        let graph = try Architecture(json: Data(json.utf8)).makeGraph()
        var weight = Tensor(shape: [2, 64])
        for y in 0..<4 { for xx in 0..<4 { weight.data[y * 8 + xx] = 1 } }
        try graph.load(["fc.weight": weight], file: "quadrant-sum")
        let attributor = Attributor(graph: graph)
        var x = Tensor(shape: [1, 8, 8]), map = Tensor(shape: [8, 8])
        for y in 0..<4 { for xx in 0..<4 { x.data[y * 8 + xx] = 1; map.data[y * 8 + xx] = 1 } }
        let road = ROAD(attributor: attributor, image: x, map: map, classIndex: 0, percentiles: [50, 75, 90], noise: 0)
        XCTAssertEqual(road.points.map(\.morfLogit), [-16, -16, -16].map { Double($0) })
        XCTAssertEqual(road.points[1].lerfLogit, 0, accuracy: 1e-5)
        XCTAssertEqual(road.points[2].lerfLogit, 0, accuracy: 1e-5)
        let p16 = 1 / (1 + exp(-16.0)), p0 = 0.5
        XCTAssertEqual(road.points[1].morfProbability, p0 - p16, accuracy: 1e-6)
        XCTAssertEqual(road.combinedLogit, (road.lerfLogit - road.morfLogit) / 2)
        XCTAssertGreaterThan(road.combinedLogit, 5, "the right map: MoRF drops, LeRF keeps")
        // The reversed map ranks the quadrant last: MoRF keeps the logit, LeRF drops it.
        let reversed = ROAD(attributor: attributor, image: x, map: Tensor(shape: [8, 8], data: map.data.map { 1 - $0 }), classIndex: 0,
                            percentiles: [75], noise: 0)
        XCTAssertEqual(reversed.points[0].morfLogit, 0, accuracy: 1e-5)
        XCTAssertEqual(reversed.points[0].lerfLogit, -16, accuracy: 1e-5)
        // With noise, the same seed gives the same numbers.
        let a = ROAD(attributor: attributor, image: x, map: map, classIndex: 0, percentiles: [75], seed: 4)
        let b = ROAD(attributor: attributor, image: x, map: map, classIndex: 0, percentiles: [75], seed: 4)
        XCTAssertEqual(a.points[0].morfLogit, b.points[0].morfLogit)
        let workers = Parallel.workers
        Parallel.workers = 1
        let single = ROAD(attributor: attributor, image: x, map: map, classIndex: 0, percentiles: [75], seed: 4)
        Parallel.workers = workers
        XCTAssertEqual(single.points[0].morfLogit, a.points[0].morfLogit, "the same whatever the cores")
        XCTAssertEqual(single.points[0].lerfLogit, a.points[0].lerfLogit)
        XCTAssertNotEqual(a.points[0].morfLogit, -16, "noise 0.01 added to the imputed pixels")
        XCTAssertEqual(a.points[0].morfLogit, -16, accuracy: 0.5)
    }
}
