import Foundation
import XCTest

/// `convviz demo` on its shortest budget (a reduced conv1 recipe): the whole report, every file it promises.
final class DemoCommandTests: XCTestCase {
    func testShortDemoWritesTheWholeReport() throws {
        let out = CLIFiles.temporaryDirectory("demo").appendingPathComponent("demo").path
        let r = try ConvVizProcess.run(["demo", "--steps", "10", "--filter-steps", "60", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("oriented edges") && r.stdout.contains("rotation accuracy"), r.stdout)
        XCTAssert(r.stdout.contains("with 10 figures"), r.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/manifest.json"))) as! [String: Any]
        let figures = manifest["figures"] as! [[String: Any]]
        XCTAssertEqual(figures.compactMap { $0["id"] as? String },
                       ["filters", "filmstrip", "filter-comparison", "activations", "receptive-field", "receptive-field-growth", "normalization", "volumes", "pooling", "training-curves"],
                       "figure order")
        for id in ["filters", "filter-comparison", "training-curves"] {
            for ext in ["png", "svg"] { XCTAssert(FileManager.default.fileExists(atPath: "\(out)/\(id).\(ext)"), "\(id).\(ext)") }
        }
        try CLIFiles.assertPNG(at: "\(out)/filters.png", size: figures[0]["size"] as! [Int])
        for f in ["index.html", "handout.pdf", "checkpoint.safetensors", "metrics.jsonl", "summary.json", "taxonomy.csv",
                  "learn-filters/checkpoint.safetensors", "learn-filters/conv1-steps.safetensors", "learn-filters/summary.json", "learn-filters/metrics.jsonl"] {
            XCTAssert(FileManager.default.fileExists(atPath: "\(out)/\(f)"), f)
        }
        let html = try String(contentsOfFile: "\(out)/index.html", encoding: .utf8)
        XCTAssert(html.contains("What conv1 learned by back-propagation") && html.contains("k-means"), html)
        // The filmstrip shows SGD steps, starting from the random initialization.
        XCTAssertEqual(figures[1]["settings"].flatMap { ($0 as? [String: String])?["steps"] }, "0,50,60")
        // Both checkpoints draw: the rotation network's conv1 and the learned one.
        for weights in ["\(out):conv1", "\(out)/learn-filters:conv1"] {
            let drawn = try ConvVizProcess.run(["filters", weights, "-o", "\(out)/drawn.png"])
            XCTAssertEqual(drawn.status, 0, drawn.stderr)
        }
        let taxonomy = try String(contentsOfFile: "\(out)/taxonomy.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(taxonomy.count, 1 + 48, "a row per conv1 filter")

        let few = try ConvVizProcess.run(["demo", "--steps", "3", "--out", out])
        XCTAssertEqual(few.status, 64)
        XCTAssert(few.stderr.contains("--steps must be at least 10"), few.stderr)
    }
}
