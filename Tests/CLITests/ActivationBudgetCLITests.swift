import ConvVizCore
import Foundation
import XCTest

/// `activations --size` bounds pixels (the PNG reader's limit) and, since issue 23, the
/// values the layers output: a wide network on a large photo is refused from the shapes
/// alone, in one line, before anything of that size is allocated (it used to trap on a
/// failed 51 GB allocation).
final class ActivationBudgetCLITests: XCTestCase {
    func testALargeSizeOnAWideNetworkIsRefusedBeforeAllocating() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let arch = dir.appendingPathComponent("wide.json").path
        try #"{"name": "wide", "input": [3, 32, 32], "layers": [{"type": "conv", "name": "conv1", "out": 512, "kernel": 3, "padding": 1}, {"type": "relu", "name": "relu1"}]}"#
            .write(toFile: arch, atomically: true, encoding: .utf8)
        let photo = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/coins.png").path
        let png = dir.appendingPathComponent("maps.png").path
        let started = Date()
        let r = try ConvVizProcess.run(["activations", "--model", arch, "--image", photo, "--layer", "relu1", "--size", "5000x5000", "-o", png])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssert(r.stderr.contains("1x3x5000x5000") && r.stderr.contains("more than the 1073741824 allowed"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: png))
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        // The same network at a size that fits runs.
        let ok = try ConvVizProcess.run(["activations", "--model", arch, "--image", photo, "--layer", "relu1", "--size", "24x24", "--channels", "0:4", "-o", png])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }
}
