import Foundation
import XCTest

/// `bench model --pass input-gradient --profile --json`: the pass named, a time per batch,
/// and one profile row per layer of the network.
final class BenchModelPassTests: XCTestCase {
    func testInputGradientPassAndProfile() throws {
        let r = try ConvVizProcess.run(["bench", "model", "small", "--batch", "2", "--rounds", "1", "--pass", "input-gradient", "--profile", "--json"])
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
}
