import Foundation
import XCTest
@testable import ConvVizCore

final class RunDirectoryMetricsTests: XCTestCase {
    func directory(_ metrics: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(getpid())-\(metrics.count)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try metrics.write(to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        return dir
    }

    func testStepAndEvaluationLines() throws {
        let dir = try directory("""
        {"epoch":0,"loss":2.0,"lr":0.1,"step":10,"images_per_second":100}
        {"epoch":0,"test_accuracy":0.5,"test_loss":1.5}
        {"epoch":1,"loss":1.0,"lr":0.1,"step":20,"images_per_second":100}
        {"epoch":1,"test_accuracy":0.75,"test_loss":1.0}
        """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try RunDirectory.metrics(in: dir)
        XCTAssertEqual(m.loss.map(\.step), [10, 20])
        XCTAssertEqual(m.loss.map(\.value), [2, 1])
        XCTAssertEqual(m.accuracy.map(\.epoch), [1, 2])
        XCTAssertEqual(m.accuracy.map(\.value), [0.5, 0.75])
    }

    func testMissingFileAndBadLineAreTypedErrors() throws {
        let dir = try directory("{\"step\":1,\"loss\":1}\nnot json\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try RunDirectory.metrics(in: dir)) { XCTAssert("\($0)".contains("line 2"), "\($0)") }
        XCTAssertThrowsError(try RunDirectory.metrics(in: dir.appendingPathComponent("absent"))) { XCTAssert("\($0)".contains("metrics.jsonl"), "\($0)") }
    }
}
