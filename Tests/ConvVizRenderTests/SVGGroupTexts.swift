#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
@testable import ConvVizRender

/// The texts of a rendered scene's structure layer by named group: every `<text>` is
/// listed under each `data-name` group that encloses it, so a test reads the number in
/// `mean-2` or the title in `title` as the SVG file holds them.
final class SVGGroupTexts: NSObject, XMLParserDelegate {
    private(set) var texts: [String: [String]] = [:]
    /// Group names in document order (each once per occurrence).
    private(set) var names: [String] = []
    private var stack: [String?] = []
    private var current: String?

    init(_ scene: Scene) throws {
        super.init()
        let parser = XMLParser(data: try Canvas.render(scene, format: .svg))
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? NSError(domain: "svg", code: 1) }
    }

    /// The single text of group `name` (nil when it has none or several).
    func text(_ name: String) -> String? {
        guard let t = texts[name], t.count == 1 else { return nil }
        return t[0]
    }

    /// The number a group's text ends with ("γ = 1.2345" -> 1.2345; "12" -> 12).
    func number(_ name: String) -> Double? {
        guard let t = text(name) else { return nil }
        let tail = t.split(separator: " ").last.map(String.init) ?? t
        return Double(tail.replacingOccurrences(of: "−", with: "-"))
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        if name == "g" {
            stack.append(attributes["data-name"])
            if let n = attributes["data-name"] { names.append(n) }
        }
        if name == "text" { current = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "g" { _ = stack.popLast() }
        if name == "text", let c = current {
            for group in stack.compactMap({ $0 }) { texts[group, default: []].append(c) }
            current = nil
        }
    }
}

/// Whether a string holds CJK ideographs (the Chinese labels).
func containsCJK(_ s: String) -> Bool {
    s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
}
