import Foundation
import XCTest

/// Counters given as arguments are range-checked before anything is sized from them
/// (issue 30's class, in the commands that came after its round): `top-patches --top` and
/// `--batch`, `bench --batch` at Int.max were an 18-exabyte allocation or a trap;
/// `learn-filters --steps` and `demo --steps` at Int.max ran for ever.
final class CounterLimitCLITests: XCTestCase {
    func testCountersAtTheIntegerLimitAreRefusedInOneLine() throws {
        let max = String(Int.max)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-counters-\(getpid()).png").path
        let cases: [([String], String)] = [
            (["top-patches", "--model", "small", "--layer", "conv1", "--data", "samples", "--top", max, "-o", out], "--top must be 1 to 10000"),
            (["top-patches", "--model", "small", "--layer", "conv1", "--data", "samples", "--batch", max, "-o", out], "--batch must be 1 to 4096"),
            (["top-patches", "--model", "small", "--layer", "conv1", "--data", "samples", "--top", "0", "-o", out], "--top must be 1 to 10000"),
            (["bench", "conv", "--batch", max], "--batch must be 1 to 4096"),
            (["learn-filters", "--steps", max, "--out", out + ".run"], "--steps must be 1 to 1000000"),
            (["demo", "--steps", max, "--out", out + ".demo"], "--steps must be 10 to 1000000"),
        ]
        for (args, message) in cases {
            let r = try ConvVizProcess.run(args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssert(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }
}
