import ConvVizCore
import Foundation
import XCTest

/// `convviz microscope` end to end on a tiny network: the site's records equal what
/// `visualize` and `top-patches` write for the same units, and a run killed part way
/// and resumed leaves the same files as one run straight through.
final class MicroscopeCommandTests: XCTestCase {
    static let architecture = #"{"name": "tiny", "input": [1, 12, 12], "layers": [{"type": "conv", "name": "conv1", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool", "kernel": 2}, {"type": "conv", "name": "conv2", "out": 6, "kernel": 3, "padding": 1}, {"type": "relu"}]}"#

    func folder(_ name: String) throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("microscope-cli-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let arch = dir.appendingPathComponent("tiny.json")
        try Self.architecture.write(to: arch, atomically: true, encoding: .utf8)
        return (dir, arch.path)
    }

    func testSiteRecordsEqualVisualizeAndTopPatches() throws {
        let (dir, arch) = try folder("equal")
        let site = dir.appendingPathComponent("site")
        let run = try ConvVizProcess.run(["microscope", "--model", arch, "--data", "samples", "--out", site.path, "--limit", "50",
                                          "--steps", "6", "--seed", "3", "--channels", "1:5", "--lang", "zh"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for page in ["index.html", "layer-conv1.html", "layer-conv2.html", "units/conv2/4/index.html", "microscope.css", "microscope.js"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: site.appendingPathComponent(page).path), page)
        }
        XCTAssertTrue(try String(contentsOf: site.appendingPathComponent("layer-conv2.html"), encoding: .utf8).contains("通道"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: site.appendingPathComponent("microscope.json"))) as? [String: Any])
        let units = try XCTUnwrap(root["units"] as? [[String: Any]])
        XCTAssertEqual(units.count, 7, "conv1 has 4 channels: 1:5 is cut to 1, 2, 3")
        for (layer, channels) in [("conv1", "1:4"), ("conv2", "1:5")] {
            // visualize, the same channels and settings: the same images, bit for bit.
            let npy = dir.appendingPathComponent("\(layer).npy")
            let vis = try ConvVizProcess.run(["visualize", "--model", arch, "--layer", layer, "--channels", channels, "--steps", "6", "--seed", "3",
                                              "--save-images", npy.path, "-o", dir.appendingPathComponent("\(layer).png").path])
            XCTAssertEqual(vis.status, 0, vis.stderr)
            XCTAssertEqual(try Data(contentsOf: npy), try Data(contentsOf: site.appendingPathComponent("cache/\(layer)/vis.npy")), layer)
            // top-patches: the same patches, image, position and value.
            let json = dir.appendingPathComponent("\(layer)-top.json")
            let top = try ConvVizProcess.run(["top-patches", "--model", arch, "--layer", layer, "--data", "samples", "--limit", "50",
                                              "--channels", channels, "--seed", "3", "--json", json.path])
            XCTAssertEqual(top.status, 0, top.stderr)
            let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
            for channel in try XCTUnwrap(expected["channels"] as? [[String: Any]]) {
                let c = try XCTUnwrap(channel["channel"] as? Int)
                let unit = try XCTUnwrap(units.first { $0["layer"] as? String == layer && $0["channel"] as? Int == c })
                let got = try XCTUnwrap(unit["patches"] as? [[String: Any]]), want = try XCTUnwrap(channel["patches"] as? [[String: Any]])
                XCTAssertEqual(got.count, want.count)
                for (g, w) in zip(got, want) {
                    for key in ["image", "y", "x"] { XCTAssertEqual(g[key] as? Int, w[key] as? Int, "\(layer) \(c) \(key)") }
                    XCTAssertEqual((g["value"] as? NSNumber)?.floatValue, (w["value"] as? NSNumber)?.floatValue, "\(layer) \(c) value")
                    XCTAssertEqual(g["box"] as? [Int], w["box"] as? [Int])
                }
                XCTAssertNotNil(unit["objective"] as? NSNumber)
            }
        }
    }

    func files(under dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in e where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            out[String(url.path.dropFirst(dir.path.count))] = try Data(contentsOf: url)
        }
        return out
    }

    func testResumeAfterAKillGivesTheSameSite() throws {
        let (dir, arch) = try folder("kill")
        let straight = dir.appendingPathComponent("straight"), resumed = dir.appendingPathComponent("resumed")
        let args = ["microscope", "--model", arch, "--data", "samples", "--limit", "40", "--steps", "150", "--seed", "1"]
        XCTAssertEqual(try ConvVizProcess.run(args + ["--out", straight.path]).status, 0)
        // Killed once conv1's units are written (conv2 is then being optimized or written).
        let p = try ConvVizProcess.start(args + ["--out", resumed.path])
        let marker = resumed.appendingPathComponent("units/conv1/3/unit.json")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: marker.path) && p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let interrupted = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        if interrupted { XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.appendingPathComponent("microscope.json").path), "killed before the end") }
        let again = try ConvVizProcess.run(args + ["--out", resumed.path, "--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let a = try files(under: straight), b = try files(under: resumed)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (path, data) in a { XCTAssertEqual(b[path], data, path) }
        // Other settings do not resume it.
        let other = try ConvVizProcess.run(args.dropLast(2) + ["--seed", "2", "--out", resumed.path, "--resume"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("other settings"), other.stderr)
    }
}
