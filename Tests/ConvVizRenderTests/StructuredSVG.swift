#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation

/// An SVG's structure layer read back with each element's enclosing named groups
/// (`<g data-name>`), so a test can ask "the texts in the title group" or "the filled
/// rectangles of level-0" of what Cairo actually wrote.
final class StructuredSVG: NSObject, XMLParserDelegate {
    struct Element { let name: String; let attributes: [String: String]; let groups: [String]; var text = "" }
    private(set) var elements: [Element] = []
    private var stack: [String?] = []
    private var open: Int?

    init(_ data: Data) throws {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.fileReadCorruptFile) }
    }

    var groups: [String] { stack.compactMap { $0 } }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        if name == "g" { stack.append(attributes["data-name"]) }
        elements.append(Element(name: name, attributes: attributes, groups: groups))
        open = name == "text" ? elements.count - 1 : nil
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if let open { elements[open].text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "g" { stack.removeLast() }
        open = nil
    }

    /// Texts of the structure layer inside group `group` (at any depth).
    func texts(in group: String) -> [String] { elements.filter { $0.name == "text" && $0.groups.contains(group) }.map(\.text) }

    /// Every structure-layer text.
    var texts: [String] { elements.filter { $0.name == "text" }.map(\.text) }

    /// Elements named `name` inside group `group`.
    func elements(_ name: String, in group: String) -> [Element] { elements.filter { $0.name == name && $0.groups.contains(group) } }
}
