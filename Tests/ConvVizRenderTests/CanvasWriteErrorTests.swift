import ConvVizCore
@testable import ConvVizRender
import Foundation
import XCTest

/// A figure Cairo cannot draw (a PNG surface past its 32,767-pixel side) is refused in
/// one line naming the output and the figure's size (issue 17), and nothing is written.
final class CanvasWriteErrorTests: XCTestCase {
    func testASurfaceErrorNamesTheOutput() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("too-wide-\(getpid()).png")
        defer { try? FileManager.default.removeItem(at: out) }
        XCTAssertThrowsError(try Canvas.write(Scene(width: 40_000, height: 10), to: out.path)) { e in
            let text = "\(e)"
            XCTAssert(text.hasPrefix(out.path), text)
            XCTAssert(text.contains("40000x10"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
