import ConvVizCore
import Foundation
import XCTest

/// `convviz attribute` end to end on the attribution fixture network
/// (`scripts/make_attribution_fixtures.py`).
final class AttributeCommandTests: XCTestCase {
    func fixture(_ name: String) -> String { CLIFiles.repository.appendingPathComponent("Tests/ConvVizCoreTests/Fixtures/attribution/\(name)").path }
    var photo: String { CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/chelsea.png").path }

    /// --input feeds the fixture's batch: the saved raw Grad-CAM equals grad-cam's, the
    /// figure names the methods, the layer's receptive field and the top-5 with labels.
    func testSavedMapsAreGradCAMsAndTheFigureSaysWhat() throws {
        let dir = CLIFiles.temporaryDirectory("attribute")
        let svg = dir.appendingPathComponent("maps.svg").path, map = dir.appendingPathComponent("map.npy").path
        let labels = dir.appendingPathComponent("labels.txt")
        try (0..<10).map { "thing \($0)" }.joined(separator: "\n").write(to: labels, atomically: true, encoding: .utf8)
        let r = try ConvVizProcess.run(["attribute", "--model", fixture("net.onnx"), "--input", fixture("input.npy"), "--method", "gradcam,saliency",
                                        "--target", "3,7", "--layer", "/relu5/Relu", "--labels", labels.path, "--save-map", map, "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let raw = try NPY.read(contentsOf: URL(fileURLWithPath: dir.appendingPathComponent("map.gradcam.npy").path))
        let want = try NPY.read(contentsOf: URL(fileURLWithPath: fixture("gradcam.raw.npy")))
        XCTAssertEqual(raw.shape, [2, 8, 8])
        XCTAssertLessThanOrEqual(zip(raw.data, want.data).map { abs($0 - $1) }.max()!, 1e-4 * want.maxAbs)
        XCTAssertEqual(try NPY.read(contentsOf: URL(fileURLWithPath: dir.appendingPathComponent("map.saliency.npy").path)).shape, [2, 3, 32, 32])
        let texts = try CLIFiles.svgTexts(at: svg).joined(separator: " ")
        for expected in ["gradcam", "saliency", "thing 3 (3)", "thing 7 (7)", "top 5:", "/relu5/Relu", "17x17 input pixels"] {
            XCTAssertTrue(texts.contains(expected), "\(expected) in \(texts)")
        }
    }

    /// A photo, every method: one column each; top-3 gives three rows; IG prints its gap.
    func testEveryMethodOnAPhoto() throws {
        let dir = CLIFiles.temporaryDirectory("attribute-all")
        let svg = dir.appendingPathComponent("all.svg").path
        let r = try ConvVizProcess.run(["attribute", "--model", fixture("net.onnx"), "--image", photo, "--method", "all", "--target", "top3",
                                        "--steps", "8", "--samples", "2", "--window", "8", "--stride", "8", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("completeness gap"), r.stdout)
        let texts = try CLIFiles.svgTexts(at: svg)
        for m in AttributionMethod.allCases { XCTAssertTrue(texts.contains(m.rawValue), m.rawValue) }
        XCTAssertEqual(texts.filter { $0 == "chelsea.png" }.count, 3, "a row per class of the top 3")
    }

    /// --metrics prints each map's deletion and insertion areas beside random rankings;
    /// --sanity draws OUT.sanity.EXT and prints the correlations; --json has both.
    func testMetricsAndSanity() throws {
        let dir = CLIFiles.temporaryDirectory("attribute-trust")
        let png = dir.appendingPathComponent("maps.png").path, json = dir.appendingPathComponent("trust.json").path
        let r = try ConvVizProcess.run(["attribute", "--model", fixture("net.onnx"), "--input", fixture("input.npy"), "--method", "saliency",
                                        "--target", "3", "--metrics", "--random-rankings", "1", "--sanity", "--sanity-steps", "2", "--json", json, "-o", png])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("deletion AUC (random)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("sanity saliency: Spearman"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("maps.sanity.png").path))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let metrics = report["metrics"] as! [[String: Any]]
        XCTAssertEqual(metrics.count, 2, "one method x two images")
        for m in metrics {
            let deletion = m["deletion"] as! [Double]
            XCTAssertEqual(deletion.count, 95, "1% of 1024 pixels rounds up to 11 a step: 94 steps and the start")
            XCTAssertEqual(m["deletion_auc"] as! Double, (deletion.dropFirst().dropLast().reduce(0, +) + (deletion.first! + deletion.last!) / 2) / Double(deletion.count - 1), accuracy: 1e-9)
        }
        let sanity = report["sanity"] as! [String: Any]
        XCTAssertEqual((sanity["steps"] as! [String]).count, 2)
        XCTAssertEqual(((sanity["spearman"] as! [String: Any])["saliency"] as! [Any]).count, 2)
    }

    func testBadRequestsSayWhy() throws {
        let cases: [([String], String)] = [
            (["--method", "gradcam", "--layer", "nope"], "no layer 'nope'"),
            (["--method", "gradcam", "--target", "12"], "out of range"),
            (["--method", "gradcam", "--layer", "/fc/Gemm"], "a CAM needs a [C, H, W] layer"),
            (["--method", "gradcamm"], "gradcamm"),
        ]
        for (args, message) in cases {
            let r = try ConvVizProcess.run(["attribute", "--model", fixture("net.onnx"), "--input", fixture("input.npy"), "-o", "/tmp/never.png"] + args)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}
