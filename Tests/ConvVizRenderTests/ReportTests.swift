import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// A two-figure report written to disk and read back: every figure's files, a manifest
/// that parses and lists them, an HTML page that shows them, a PDF page per figure.
final class ReportTests: XCTestCase {
    func testReportWritesParseableHTMLManifestAndFigures() throws {
        var report = Report(title: "Test <report> & co", introduction: "Two figures.")
        report.facts = [("seed", "7")]
        report.figures.append(.init(id: "pooling", title: "Max pooling", caption: "2x2, stride 2.", settings: ["kind": "max"],
                                    scene: PoolingDiagram(values: PoolingDiagram.lectureValues).scene()))
        report.figures.append(.init(id: "norms", title: "Norms", caption: "Which values share statistics.", scene: NormalizationCubes().scene()))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let written = try report.write(to: dir)
        XCTAssertEqual(Set(written), ["pooling.png", "pooling.svg", "norms.png", "norms.svg", "handout.pdf", "index.html", "manifest.json"])
        for name in written { XCTAssert(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), name) }

        // The manifest: the figures in order, their files (which exist) and sizes.
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as? [String: Any])
        XCTAssertEqual(manifest["title"] as? String, report.title)
        XCTAssertEqual(manifest["handout"] as? String, "handout.pdf")
        let figures = try XCTUnwrap(manifest["figures"] as? [[String: Any]])
        XCTAssertEqual(figures.compactMap { $0["id"] as? String }, ["pooling", "norms"])
        for (entry, figure) in zip(figures, report.figures) {
            XCTAssertEqual(entry["files"] as? [String], ["\(figure.id).png", "\(figure.id).svg"])
            XCTAssertEqual(entry["size"] as? [Int], [Int(figure.scene.width), Int(figure.scene.height)])
            let png = try DecodedPNG(Data(contentsOf: dir.appendingPathComponent("\(figure.id).png")))
            XCTAssertEqual(png.width, Int(figure.scene.width), "\(figure.id).png width")
            XCTAssertNoThrow(try SVGDocument(Data(contentsOf: dir.appendingPathComponent("\(figure.id).svg"))))
        }
        XCTAssertEqual((figures[0]["settings"] as? [String: String])?["kind"], "max")
        XCTAssertEqual((manifest["facts"] as? [String: String])?["seed"], "7")
        let versions = try XCTUnwrap(manifest["versions"] as? [String: String])
        for library in ["cairo", "pango"] { XCTAssertNotNil(versions[library]?.range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression), library) }

        // The page: escaped title, one <figure> per figure with its image and links.
        let html = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssert(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        XCTAssert(html.contains("<title>Test &lt;report&gt; &amp; co</title>"))
        XCTAssertEqual(html.components(separatedBy: "<figure ").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "</figure>").count - 1, 2)
        for f in report.figures {
            XCTAssert(html.contains("<img src=\"\(f.id).png\" width=\"\(Int(f.scene.width))\""), f.id)
            XCTAssert(html.contains("<a href=\"\(f.id).svg\">SVG</a>"), f.id)
        }
        // A title or caption the figure draws itself stays in the page as text, out of
        // sight; one it does not draw is shown.
        XCTAssert(report.figures[0].scene.hasGroup("title") && report.figures[0].scene.hasGroup("caption"))
        XCTAssert(html.contains("<h2 class=\"drawn\">Max pooling</h2>"), html)
        XCTAssert(html.contains("<figcaption class=\"drawn\">2x2, stride 2.</figcaption>"), html)
        var plain = Scene(width: 100, height: 50)
        plain.add(.rect(Rect(0, 0, 100, 50), fill: Color(0.5, 0.5, 0.5)))
        var bare = Report(title: "Bare", introduction: "")
        bare.figures.append(.init(id: "bare", title: "A bare scene", caption: "Nothing drawn around it.", scene: plain))
        let bareHTML = bare.html(handout: "handout.pdf")
        XCTAssert(bareHTML.contains("<h2>A bare scene</h2>") && bareHTML.contains("<figcaption>Nothing drawn around it.</figcaption>"), bareHTML)
        // The handout: one page per figure.
        let pdf = String(decoding: try Data(contentsOf: dir.appendingPathComponent("handout.pdf")), as: UTF8.self)
        XCTAssert(pdf.hasPrefix("%PDF-"))
        XCTAssertEqual(pdf.components(separatedBy: "/Type /Page\n").count + pdf.components(separatedBy: "/Type /Page ").count - 2, 2)
    }
}
