import Foundation
import XCTest

/// `convviz demo` on its shortest budget: the whole report, every file it promises.
final class DemoCommandTests: XCTestCase {
    func testShortDemoWritesTheWholeReport() throws {
        let out = CLIFiles.temporaryDirectory("demo").appendingPathComponent("demo").path
        let r = try ConvVizProcess.run(["demo", "--steps", "10", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("oriented edges") && r.stdout.contains("rotation accuracy"), r.stdout)
        XCTAssert(r.stdout.contains("with 9 figures"), r.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/manifest.json"))) as! [String: Any]
        let figures = manifest["figures"] as! [[String: Any]]
        XCTAssertEqual(figures.compactMap { $0["id"] as? String },
                       ["filters", "filmstrip", "activations", "receptive-field", "receptive-field-growth", "normalization", "volumes", "pooling", "training-curves"],
                       "figure order")
        for id in ["filters", "training-curves"] {
            for ext in ["png", "svg"] { XCTAssert(FileManager.default.fileExists(atPath: "\(out)/\(id).\(ext)"), "\(id).\(ext)") }
        }
        try CLIFiles.assertPNG(at: "\(out)/filters.png", size: figures[0]["size"] as! [Int])
        for f in ["index.html", "handout.pdf", "checkpoint.safetensors", "metrics.jsonl", "summary.json", "taxonomy.csv"] {
            XCTAssert(FileManager.default.fileExists(atPath: "\(out)/\(f)"), f)
        }
        let html = try String(contentsOfFile: "\(out)/index.html", encoding: .utf8)
        XCTAssert(html.contains("What conv1 learned"), html)
        let taxonomy = try String(contentsOfFile: "\(out)/taxonomy.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(taxonomy.count, 1 + 48, "a row per conv1 filter")

        let few = try ConvVizProcess.run(["demo", "--steps", "3", "--out", out])
        XCTAssertEqual(few.status, 64)
        XCTAssert(few.stderr.contains("--steps must be at least 10"), few.stderr)
    }
}
