import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Files the CLI tests read and write.
enum CLIFiles {
    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// A fresh directory per test class and process.
    static func temporaryDirectory(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-cli-\(name)-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Width and height from a PNG's IHDR chunk.
    static func pngSize(at path: String) throws -> (width: Int, height: Int) {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        guard d.count > 24, Array(d.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw CocoaError(.fileReadCorruptFile) }
        func be32(_ o: Int) -> Int { d[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// The PNG exists and has the size the command printed ("wrote FILE (WxH)").
    static func assertPNG(at path: String, matches stdout: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (w, h) = try pngSize(at: path)
        XCTAssertGreaterThan(w, 0, file: file, line: line)
        XCTAssert(stdout.contains("wrote \(path) (\(w)x\(h))"), "\(stdout) vs \(w)x\(h)", file: file, line: line)
    }

    /// Width and height in points from an SVG's root element (`width="554pt"`).
    static func svgSize(at path: String) throws -> (width: Int, height: Int) {
        let head = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)).prefix(600), as: UTF8.self)
        func value(_ name: String) throws -> Int {
            guard let r = head.range(of: #" \#(name)="(\d+(\.\d+)?)pt""#, options: .regularExpression) else { throw CocoaError(.fileReadCorruptFile) }
            let number = head[r].drop { $0 != "\"" }.dropFirst().prefix { $0 != "p" }
            return Int((Double(number) ?? 0).rounded())
        }
        return (try value("width"), try value("height"))
    }

    /// The PNG has the size a manifest gives, [width, height].
    static func assertPNG(at path: String, size: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
        let (w, h) = try pngSize(at: path)
        XCTAssertEqual([w, h], size, path, file: file, line: line)
    }

    /// The `<text>` elements of an SVG (its structure layer), after checking it parses.
    static func svgTexts(at path: String) throws -> [String] {
        let collector = TextCollector()
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.fileReadCorruptFile) }
        XCTAssertEqual(collector.root, "svg")
        return collector.texts
    }

    private final class TextCollector: NSObject, XMLParserDelegate {
        var root: String?
        var texts: [String] = []
        private var current: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if root == nil { root = name }
            if name == "text" { current = "" }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text", let c = current { texts.append(c); current = nil }
        }
    }
}
