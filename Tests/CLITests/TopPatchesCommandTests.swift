import ConvVizCore
import Foundation
import XCTest

/// `convviz top-patches` end to end: the window network's known answer as JSON and as a
/// figure, a scan cut into shards and merged, and the refusals.
final class TopPatchesCommandTests: XCTestCase {
    let dir = CLIFiles.temporaryDirectory("top-patches")
    var fixture: URL { CLIFiles.repository.appendingPathComponent("Tests/ConvVizCoreTests/Fixtures/top-patches") }
    var model: [String] {
        ["top-patches", "--model", fixture.appendingPathComponent("window.json").path, "--weights", fixture.appendingPathComponent("window.safetensors").path,
         "--layer", "window", "--data", "folder:" + fixture.appendingPathComponent("images").path, "--mean", "0", "--std", "1"]
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func testKnownPatchesAsJSONAndFigure() throws {
        let r = try ConvVizProcess.run(model + ["--top", "3", "--batch", "5", "--json", path("w.json"), "-o", path("w.svg")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stderr.contains("scanned 12 images of folder:"), r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("w.json")))) as! [String: Any]
        XCTAssertEqual(json["layer"] as? String, "window")
        XCTAssertEqual(json["top"] as? Int, 3)
        XCTAssertNil(json["partial"])
        let channels = json["channels"] as! [[String: Any]]
        let first = (channels[0]["patches"] as! [[String: Any]])
        XCTAssertEqual(first.map { $0["image"] as! Int }, [0, 3, 4])
        XCTAssertEqual(first.map { $0["box"] as! [Int] }, [[2, 3, 3, 3], [1, 1, 3, 3], [5, 0, 3, 3]])
        let texts = try CLIFiles.svgTexts(at: path("w.svg"))
        XCTAssert(texts.contains("Top patches of window"), "\(texts)")
        XCTAssert(texts.contains { $0.contains("receptive field, 3x3 px") }, "\(texts)")
        // The class of each patch's image: images 0-5 are class a.
        XCTAssert(texts.contains("a"), "\(texts)")
        XCTAssert(texts.contains("7.1"), "\(texts)")  // 9 x 200/255
    }

    func testShardsMergeToTheUnshardedBytes() throws {
        let common = model + ["--top", "4", "--batch", "2", "--channels", "0:2"]
        let whole = try ConvVizProcess.run(common + ["--json", path("whole.json")])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        var parts: [String] = []
        for i in 0..<3 {
            let r = try ConvVizProcess.run(common + ["--shard", "\(i)/3", "--save-partial", path("part-\(i).json")])
            XCTAssertEqual(r.status, 0, r.stderr)
            parts.append(path("part-\(i).json"))
        }
        let m = try ConvVizProcess.run(["top-patches", "merge"] + parts + ["--json", path("merged.json"), "-o", path("merged.png")])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("merged.json"))), try Data(contentsOf: URL(fileURLWithPath: path("whole.json"))))
        XCTAssertGreaterThan(try CLIFiles.pngSize(at: path("merged.png")).width, 100)

        let missing = try ConvVizProcess.run(["top-patches", "merge", parts[0], parts[2], "--json", path("x.json")])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssert(missing.stderr.contains("shard(s) 1/3 missing"), missing.stderr)
        let twice = try ConvVizProcess.run(["top-patches", "merge", parts[0], parts[0], "--json", path("x.json")])
        XCTAssertNotEqual(twice.status, 0)
        XCTAssert(twice.stderr.contains("shard 0/3 is also in"), twice.stderr)
        let final = try ConvVizProcess.run(["top-patches", "merge", path("whole.json"), "--json", path("x.json")])
        XCTAssertNotEqual(final.status, 0)
        XCTAssert(final.stderr.contains("not a partial result"), final.stderr)
    }

    func testRefusals() throws {
        let shardNoPart = try ConvVizProcess.run(model + ["--shard", "1/2", "-o", path("x.png")])
        XCTAssertNotEqual(shardNoPart.status, 0)
        XCTAssert(shardNoPart.stderr.contains("--save-partial"), shardNoPart.stderr)
        let badShard = try ConvVizProcess.run(model + ["--shard", "2/2", "--save-partial", path("x.json")])
        XCTAssertNotEqual(badShard.status, 0)
        let nothing = try ConvVizProcess.run(model)
        XCTAssertNotEqual(nothing.status, 0)
        XCTAssert(nothing.stderr.contains("say what to write"), nothing.stderr)
        let noLayer = try ConvVizProcess.run(["top-patches", "--model", "small", "--layer", "conv9", "--json", path("x.json")])
        XCTAssertNotEqual(noLayer.status, 0)
        XCTAssert(noLayer.stderr.contains("no layer 'conv9'"), noLayer.stderr)
    }
}
