#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import XCTest
@testable import ConvVizCore
@testable import ConvVizRender

/// Decodes rendered PNG bytes to 8-bit RGB for pixel checks.
struct DecodedPNG {
    let width: Int, height: Int
    let rgb: Tensor  // [3, H, W] in [0, 1]

    init(_ data: Data) throws {
        rgb = try PNGDecoder.decode(data, file: "rendered.png")
        height = rgb.shape[1]
        width = rgb.shape[2]
    }

    func pixel(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int) {
        (Int((rgb[0, y, x] * 255).rounded()), Int((rgb[1, y, x] * 255).rounded()), Int((rgb[2, y, x] * 255).rounded()))
    }
}

/// Parses SVG bytes with Foundation's XML parser, collecting elements by name.
final class SVGDocument: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    private var inText = false, current = ""

    init(_ data: Data) throws {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? NSError(domain: "svg", code: 1) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        elements.append((name, attributes))
        if name == "text" { inText = true; current = "" }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current); inText = false }
    }

    func count(_ name: String) -> Int { elements.filter { $0.name == name }.count }
    var root: [String: String] { elements.first?.attributes ?? [:] }
}
