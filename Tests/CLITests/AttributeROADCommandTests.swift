import ConvVizCore
import Foundation
import XCTest

/// `convviz attribute --metrics` with ROAD, on the fixture network exported with a final
/// Softmax (which the import leaves out).
final class AttributeROADCommandTests: XCTestCase {
    func fixture(_ name: String) -> String { CLIFiles.repository.appendingPathComponent("Tests/ConvVizCoreTests/Fixtures/attribution/\(name)").path }

    /// The ROAD table is printed and the JSON holds each percentile's MoRF and LeRF, their
    /// means and the combined score; the Softmax model's maps explain the logit, so its
    /// saved Grad-CAM equals grad-cam's on the logits.
    func testROADInMetricsOnASoftmaxModel() throws {
        let dir = CLIFiles.temporaryDirectory("attribute-road")
        let png = dir.appendingPathComponent("maps.png").path, json = dir.appendingPathComponent("metrics.json").path
        let map = dir.appendingPathComponent("map.npy").path, input = dir.appendingPathComponent("first.npy")
        // The first image alone (the metrics' curves take most of the time).
        let batch = try NPY.read(contentsOf: URL(fileURLWithPath: fixture("input.npy")))
        try NPY.encode(Tensor(shape: [1, 3, 32, 32], data: Array(batch.data.prefix(3 * 32 * 32)))).write(to: input)
        let r = try ConvVizProcess.run(["attribute", "--model", fixture("net-softmax.onnx"), "--input", input.path, "--method", "gradcam",
                                        "--target", "3", "--layer", "/0/relu5/Relu", "--metrics", "--random-rankings", "1",
                                        "--road-percentiles", "30,70", "--save-map", map, "--json", json, "-o", png])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ROAD (noisy linear imputation"), r.stdout)
        XCTAssertTrue(r.stdout.contains("combined (LeRF - MoRF) / 2"), r.stdout)
        let raw = try NPY.read(contentsOf: URL(fileURLWithPath: map)), want = try NPY.read(contentsOf: URL(fileURLWithPath: fixture("gradcam.raw.npy")))
        XCTAssertEqual(raw.shape, [1, 8, 8])
        XCTAssertLessThanOrEqual(zip(raw.data, want.data.prefix(64)).map { abs($0 - $1) }.max()!, 1e-4 * want.maxAbs)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let metrics = report["metrics"] as! [[String: Any]]
        XCTAssertEqual(metrics.count, 1)
        for m in metrics {
            let road = try XCTUnwrap(m["road"] as? [String: Any])
            XCTAssertEqual(road["percentiles"] as? [Int], [30, 70])
            let morf = road["morf_probability"] as! [Double], lerf = road["lerf_probability"] as! [Double]
            XCTAssertEqual(morf.count, 2)
            XCTAssertEqual((road["morf_logit"] as! [Double]).count, 2)
            XCTAssertEqual(road["mean_morf_probability"] as! Double, morf.reduce(0, +) / 2, accuracy: 1e-12)
            XCTAssertEqual(road["combined_probability"] as! Double, (lerf.reduce(0, +) - morf.reduce(0, +)) / 4, accuracy: 1e-12)
        }
        let bad = try ConvVizProcess.run(["attribute", "--model", fixture("net.onnx"), "--input", fixture("input.npy"), "--method", "saliency",
                                          "--metrics", "--road-percentiles", "10,120", "-o", png])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("road-percentiles"), bad.stderr)
    }
}
