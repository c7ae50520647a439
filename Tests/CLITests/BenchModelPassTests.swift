import Foundation
import XCTest

/// `bench model --pass input-gradient --profile --json`: the pass named, a time per batch,
/// and one profile row per layer of the network.
final class BenchModelPassTests: XCTestCase {
    func testInputGradientPassAndProfile() throws {
        let r = try ConvVizProcess.run(["bench", "model", "small", "--batch", "2", "--rounds", "1", "--pass", "input-gradient", "--profile", "--json", "--warmup", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["pass"] as? String, "input-gradient")
        XCTAssertGreaterThan(json["seconds_per_batch"] as? Double ?? 0, 0)
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        // SmallConvNet: conv, bn, relu, pool twice, then flatten and linear.
        XCTAssertEqual(layers.count, 10)
        XCTAssertEqual(layers.first?["name"] as? String, "conv1")
        XCTAssertEqual(layers.last?["output"] as? [Int], [10])
    }

    /// Warm-up is by time: untimed passes until --warmup seconds have gone by, so the
    /// process cannot end sooner; out-of-range values are refused in one line.
    func testWarmupRunsForItsSecondsAndIsRangeChecked() throws {
        let start = Date()
        let r = try ConvVizProcess.run(["bench", "model", "small", "--batch", "1", "--rounds", "1", "--json", "--warmup", "0.5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.5)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["warmup_seconds"] as? Double, 0.5)
        XCTAssertEqual((json["all_seconds"] as? [Double])?.count, 1)
        for bad in ["-1", "nan", "601"] {
            let refused = try ConvVizProcess.run(["bench", "model", "small", "--warmup=\(bad)"])
            XCTAssertEqual(refused.status, 64, refused.stderr)
            XCTAssert(refused.stderr.contains("--warmup must be 0 to 600 seconds"), refused.stderr)
        }
    }

    /// A forward profile names each convolution's path and leaves other layers' empty.
    func testForwardProfileNamesTheConvolutionPaths() throws {
        let r = try ConvVizProcess.run(["bench", "model", "small", "--batch", "1", "--rounds", "1", "--profile", "--json", "--warmup", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        let paths = Dictionary(uniqueKeysWithValues: layers.map { ($0["name"] as! String, $0["path"] as! String) })
        XCTAssertFalse(paths["conv1", default: ""].isEmpty, "\(paths)")
        XCTAssertFalse(paths["conv2", default: ""].isEmpty, "\(paths)")
        XCTAssertEqual(paths["fc"], "")
        let text = try ConvVizProcess.run(["bench", "model", "small", "--batch", "1", "--rounds", "1", "--profile", "--warmup", "0"])
        XCTAssert(text.stdout.split(separator: "\n").contains { $0.hasPrefix("conv1 ") && $0.hasSuffix(paths["conv1"]!) }, text.stdout)
    }
}
