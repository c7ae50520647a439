import Foundation
import XCTest
@testable import ConvVizRender

/// A figure with an animation (the atlas's `--animations`): the page shows the GIF under
/// the still figure and links every format; the manifest lists the files; a figure
/// without one is unchanged.
final class ReportAnimationTests: XCTestCase {
    func testThePageShowsAndTheManifestListsAFiguresAnimation() throws {
        var report = Report(title: "Animated", introduction: "")
        var moving = Report.Figure(id: "stride", title: "Stride", caption: "c", scene: Scene(width: 100, height: 50))
        moving.animations = ["animations/stride.gif", "animations/stride.svg"]
        report.figures = [moving, Report.Figure(id: "still", title: "Still", caption: "c", scene: Scene(width: 100, height: 50))]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-report-anim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try report.write(to: dir)
        let page = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
        let stride = try XCTUnwrap(page.range(of: "<figure id=\"stride\">")), still = try XCTUnwrap(page.range(of: "<figure id=\"still\">"))
        let strideSection = page[stride.lowerBound..<still.lowerBound], stillSection = page[still.lowerBound...]
        XCTAssert(strideSection.contains("<img src=\"animations/stride.gif\" loading=\"lazy\" alt=\"Stride (animated)\">"), String(strideSection))
        XCTAssert(strideSection.contains("<a href=\"animations/stride.svg\">SVG</a>"), String(strideSection))
        XCTAssertFalse(stillSection.contains("animations/"))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let figures = manifest["figures"] as! [[String: Any]]
        XCTAssertEqual(figures[0]["animations"] as? [String], ["animations/stride.gif", "animations/stride.svg"])
        XCTAssertEqual(figures[1]["animations"] as? [String], [])
    }
}
