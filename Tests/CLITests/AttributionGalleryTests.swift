import Foundation
import XCTest

/// The README's "Why did it decide that?" commands (scripts/attribution-gallery.sh) as
/// written, with a short training: Examples/photo-id.json trains on the sample photos,
/// its labels file names the seven classes, and `attribute` draws every method and
/// runs --metrics and --sanity on the run.
final class AttributionGalleryTests: XCTestCase {
    func testTheREADMECommandsOnAShortTraining() throws {
        let repo = CLIFiles.repository
        func path(_ p: String) -> String { repo.appendingPathComponent(p).path }
        let samples = "Sources/ConvVizCore/Resources/samples"
        let dir = CLIFiles.temporaryDirectory("attribution-gallery")
        let run = dir.appendingPathComponent("photo-id").path
        let t = try ConvVizProcess.run(["train", "--data", "samples", "--arch", path("Examples/photo-id.json"), "--max-steps", "8", "--batch", "32",
                                        "--seed", "0", "--overwrite", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let labels = path("Examples/photo-id-labels.txt")
        XCTAssertEqual(try String(contentsOfFile: labels, encoding: .utf8).split(separator: "\n"),
                       ["astronaut", "chelsea", "coffee", "rocket", "hubble", "ihc", "retina"], "SamplePhotos.colorNames, the classes of --data samples")

        let grid = dir.appendingPathComponent("grid.svg").path
        let g = try ConvVizProcess.run(["attribute", "--model", run, "--labels", labels] +
                                       ["chelsea", "coffee", "rocket", "astronaut"].flatMap { ["--image", path("\(samples)/\($0).png")] } +
                                       ["--method", "all", "-o", grid])
        XCTAssertEqual(g.status, 0, g.stderr)
        let texts = try CLIFiles.svgTexts(at: grid)
        XCTAssertEqual(texts.filter { $0.hasSuffix(".png") }.count, 4, "a row per photo: \(texts)")
        XCTAssertTrue(texts.contains { $0.contains("relu3") }, "the CAM layer named: \(texts)")

        let json = dir.appendingPathComponent("trust.json").path, out = dir.appendingPathComponent("coffee.png").path
        let methods = ["gradcam", "scorecam", "saliency", "integrated-gradients", "smoothgrad", "guided-backprop", "occlusion"]
        let m = try ConvVizProcess.run(["attribute", "--model", run, "--labels", labels, "--image", path("\(samples)/coffee.png"),
                                        "--method", methods.joined(separator: ","), "--metrics", "--sanity", "--json", json, "-o", out])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertTrue(m.stdout.contains("deletion AUC (random)"), m.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("coffee.sanity.png").path))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        XCTAssertEqual((report["metrics"] as! [[String: Any]]).map { $0["method"] as! String }, methods)
        let sanity = report["sanity"] as! [String: Any]
        XCTAssertEqual(sanity["steps"] as? [String], ["fc", "conv3", "conv2", "conv1"], "one layer with weights per step, from the logits down")
        XCTAssertEqual(Set((sanity["spearman"] as! [String: Any]).keys), Set(methods))
    }
}
