import ConvVizCore
import Foundation
import XCTest

/// `convviz demo --smoke` (every stage on a budget of seconds, the same code paths and
/// shapes): the whole report, and what its files say agrees with itself and with the
/// arithmetic of the network.
final class DemoCommandTests: XCTestCase {
    let ids = ["filters", "filmstrip", "filter-comparison", "activations", "receptive-field", "receptive-field-growth", "normalization", "volumes", "pooling", "training-curves"]

    func testSmokeDemoWritesTheWholeReport() throws {
        let out = CLIFiles.temporaryDirectory("demo").appendingPathComponent("demo").path
        let r = try ConvVizProcess.run(["demo", "--smoke", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("with 10 figures"), r.stdout)
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/manifest.json"))) as? [String: Any])
        let figures = try XCTUnwrap(manifest["figures"] as? [[String: Any]])
        XCTAssertEqual(figures.compactMap { $0["id"] as? String }, ids, "figure order")
        var texts: [String: [String]] = [:]
        for f in figures {
            let id = f["id"] as! String, size = f["size"] as! [Int]
            XCTAssertEqual(f["files"] as? [String], ["\(id).png", "\(id).svg"])
            try CLIFiles.assertPNG(at: "\(out)/\(id).png", size: size)
            let (w, h) = try CLIFiles.svgSize(at: "\(out)/\(id).svg")
            XCTAssertEqual([w, h], size, "\(id).svg")
            texts[id] = try CLIFiles.svgTexts(at: "\(out)/\(id).svg")
            XCTAssertFalse((f["caption"] as? String ?? "").isEmpty, id)
        }

        // One taxonomy of the learned conv1, the same in every file that states it.
        let rows = try String(contentsOfFile: "\(out)/taxonomy.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 48, "a row per conv1 filter")
        let classes = rows.map { String($0.split(separator: ",")[1]) }
        let fraction = { (kind: String) in Double(classes.filter { $0 == kind }.count) / 48 }
        let pct = { (kind: String) in String(format: "%.0f", 100 * fraction(kind)) }
        let line = "\(pct("oriented edge"))% oriented edges, \(pct("colour-opponent"))% colour-opponent, \(pct("centre-surround/blob"))% centre-surround/blob, \(pct("unstructured"))% unstructured"
        XCTAssert(texts["filter-comparison"]!.contains(line), "\(line) vs \(texts["filter-comparison"]!)")
        XCTAssert(r.stdout.contains(line), r.stdout)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/learn-filters/summary.json"))) as? [String: Any])
        let taxonomy = try XCTUnwrap(summary["taxonomy"] as? [String: Double])
        XCTAssertEqual(taxonomy["oriented_edge"]!, fraction("oriented edge"), accuracy: 1e-9)
        XCTAssertEqual(taxonomy["unstructured"]!, fraction("unstructured"), accuracy: 1e-9)
        XCTAssertEqual(summary["machine"] as? [String: String], ["cpu": BLAS.cpuModel(), "openblas_version": BLAS.version, "openblas_kernel": BLAS.coreName])

        // The smoke budget's 20 SGD steps: the filmstrip's rows, its settings, the run files.
        XCTAssertEqual(summary["steps"] as? Int, 20)
        XCTAssertEqual((figures[1]["settings"] as? [String: String])?["steps"], "0,20")
        XCTAssertEqual(Array(texts["filmstrip"]!.suffix(2)), ["step 0", "step 20"])
        XCTAssertEqual(Set(try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "\(out)/learn-filters/conv1-steps.safetensors")).names), ["step_0", "step_20"])
        // The filmstrip's animation: one frame per recorded step, shown on the page, listed in the manifest.
        XCTAssertEqual(figures[1]["animations"] as? [String], ["animations/filmstrip.gif", "animations/filmstrip.svg"])
        let gif = try Data(contentsOf: URL(fileURLWithPath: "\(out)/animations/filmstrip.gif"))
        XCTAssertEqual(String(decoding: gif.prefix(6), as: UTF8.self), "GIF89a")
        let page = try String(contentsOfFile: "\(out)/index.html", encoding: .utf8)
        XCTAssert(page.contains("<img src=\"animations/filmstrip.gif\""), "the page shows it")
        XCTAssertEqual((figures[0]["settings"] as? [String: String])?["steps"], "20")
        XCTAssert(texts["filters"]!.contains("48 filters of 3x11x11, RGB, x6 nearest-neighbour."), "\(texts["filters"]!)")

        // The rotation network's numbers: relu1 of 11x11 stride-2 filters on the 144x96
        // photo is 67x43; its fields grow 11, 15 (3x3 pool, stride 2), 23, 31.
        XCTAssert(texts["activations"]!.contains("12 maps of 43x67, viridis colormap, x3 nearest-neighbour."), "\(texts["activations"]!)")
        XCTAssertEqual(texts["activations"]!.filter { $0.hasPrefix("relu1 · ") }.count, 12)
        XCTAssert(texts["receptive-field"]!.contains("conv3: 31x31, rows 0...30, columns 0...30"), "\(texts["receptive-field"]!)")
        XCTAssert(texts["receptive-field"]!.contains("conv1: 11x11, rows 10...20, columns 10...20"), "\(texts["receptive-field"]!)")
        XCTAssert(texts["volumes"]!.contains("3×32×32") && texts["volumes"]!.contains("456 parameters"), "\(texts["volumes"]!)")
        XCTAssert(texts["pooling"]!.contains("output 2x2"), "\(texts["pooling"]!)")
        let rotation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as? [String: Any])
        XCTAssertEqual(rotation["steps"] as? Int, 10)
        XCTAssertNotNil(rotation["machine"])
        let metrics = try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssert(metrics.contains { $0.contains("\"test_accuracy\"") }, "\(metrics)")

        let html = try String(contentsOfFile: "\(out)/index.html", encoding: .utf8)
        XCTAssert(html.contains("What conv1 learned by back-propagation") && html.contains("k-means"), html)
        XCTAssertEqual(html.components(separatedBy: "<figure id=").count - 1, 10)
        let handout = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(out)/handout.pdf")), as: UTF8.self)
        let pages = try NSRegularExpression(pattern: "/Type\\s*/Page[^s]").numberOfMatches(in: handout, range: NSRange(handout.startIndex..., in: handout))
        XCTAssertEqual(pages, 10, "one page per figure")

        // Both checkpoints draw: the rotation network's conv1 and the learned one.
        for weights in ["\(out):conv1", "\(out)/learn-filters:conv1"] {
            let drawn = try ConvVizProcess.run(["filters", weights, "-o", "\(out)/drawn.png"])
            XCTAssertEqual(drawn.status, 0, drawn.stderr)
        }
        let few = try ConvVizProcess.run(["demo", "--steps", "3", "--out", out])
        XCTAssertEqual(few.status, 64)
        XCTAssert(few.stderr.contains("--steps must be 10 to 1000000 (got 3)"), few.stderr)
    }
}
