import XCTest
@testable import ConvVizCore

/// `--metrics` and `--sanity`: deletion/insertion on a model whose answer is known, and
/// the cascading randomisation check.
final class AttributionTrustTests: XCTestCase {
    /// logit 0 = the sum of the top-left 4x4 quadrant of an 8x8 image, logit 1 = 0.
    func quadrantModel() throws -> Graph {
        let json = #"{"name": "quadrant", "input": [1, 8, 8], "layers": [{"type": "conv", "name": "q", "out": 1, "kernel": 4, "stride": 4, "bias": false}, {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 2, "bias": false}]}"#
        let graph = try Architecture(json: Data(json.utf8)).makeGraph()
        try graph.load(["q.weight": Tensor(shape: [1, 1, 4, 4], repeating: 1),
                        "fc.weight": Tensor(shape: [2, 4], data: [1, 0, 0, 0, 0, 0, 0, 0])], file: "quadrant")
        return graph
    }

    /// The image is 0.25 everywhere: deleting the quadrant's 16 pixels (one per step of
    /// 1% = 1 pixel) lowers logit 0 from 4 by 0.25 a step, then nothing changes. The
    /// curve and its area follow by hand; a map that ranks the quadrant first deletes
    /// faster than random rankings, and the quadrant's map beats a map that ranks it last.
    func testDeletionAUCOfAQuadrantModel() throws {
        let graph = try quadrantModel()
        let attributor = Attributor(graph: graph)
        let x = Tensor(shape: [1, 8, 8], repeating: 0.25)
        var map = Tensor(shape: [8, 8])
        for y in 0..<4 { for xx in 0..<4 { map.data[y * 8 + xx] = Float(100 - y * 8 - xx) } }
        let result = DeletionInsertion(attributor: attributor, image: x, map: map, classIndex: 0, seeds: 5)
        let expected = (0...64).map { k in 1 / (1 + exp(-Double(max(0, 16 - k)) * 0.25)) }
        XCTAssertEqual(result.deletion.count, 65)
        for (got, want) in zip(result.deletion, expected) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        let area = (expected.dropFirst().dropLast().reduce(0, +) + (expected.first! + expected.last!) / 2) / 64
        XCTAssertEqual(result.deletionAUC, area, accuracy: 1e-9)
        XCTAssertLessThan(result.deletionAUC, result.randomDeletionAUC - 0.05, "the right map deletes faster than chance")
        let reversed = DeletionInsertion(attributor: attributor, image: x, map: Tensor(shape: [8, 8], data: map.data.map { -$0 }), classIndex: 0, seeds: 1)
        XCTAssertGreaterThan(reversed.deletionAUC, result.randomDeletionAUC, "ranking the quadrant last deletes slower than chance")
        XCTAssertGreaterThan(result.insertionAUC, reversed.insertionAUC)
    }

    /// Saliency and Grad-CAM on the attribution fixture network decorrelate as its weights
    /// are re-initialised; the original weights are back afterwards.
    func testRandomisationDecorrelatesSaliencyAndGradCAM() throws {
        let dir = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/attribution")
        let graph = try ModelSource(model: dir.appendingPathComponent("net.onnx").path).makeGraph()
        let batch = try NPY.read(contentsOf: dir.appendingPathComponent("input.npy"))
        let x = Tensor(shape: [1, 3, 32, 32], data: Array(batch.data.prefix(3 * 32 * 32)))
        let before = Attributor(graph: graph).logits(x)
        var settings = AttributionSettings()
        settings.layer = graph.index(ofLayer: "/relu5/Relu")
        let result = try CascadingRandomisation(graph: graph, image: x, classIndex: 3, methods: [.saliency, .gradcam], settings: settings, groups: 3)
        XCTAssertEqual(result.steps.count, 4)
        XCTAssertEqual(result.steps[0].correlations, [1, 1])
        XCTAssertEqual(result.steps.last?.through, "conv1")
        for m in 0..<2 {
            let last = result.steps.last!.correlations[m]
            XCTAssertTrue(last.isNaN || last < 0.5, "\(result.methods[m]): Spearman \(last) after every layer was randomised")
        }
        XCTAssertEqual(Attributor(graph: graph).logits(x), before, "weights restored")
        XCTAssertEqual(CascadingRandomisation.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-12)
        XCTAssertEqual(CascadingRandomisation.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(CascadingRandomisation.spearman([1, 1, 2], [1, 2, 3]), 0.8660254037844387, accuracy: 1e-12)
    }
}
