import Foundation

/// Cairo writes SVG text as glyph outlines, which look right but cannot be searched,
/// selected or read by a screen reader. This adds the scene's text as real, invisible
/// `<text>` elements (like the text layer of a scanned PDF), each tagged with the scene
/// group it belongs to (`data-group`).
enum SVGPostProcessing {
    static func addTextLayer(_ scene: Scene, to svg: Data) -> Data {
        var layer = "<g id=\"convviz-text\" fill-opacity=\"0\" stroke=\"none\">\n"
        func walk(_ items: [Scene.Item], group: String?) {
            for item in items {
                switch item {
                case let .text(s, at, size, _, anchor, _):
                    let a = switch anchor { case .start: "start"; case .middle: "middle"; case .end: "end" }
                    layer += "<text x=\"\(fmt(at.x))\" y=\"\(fmt(at.y + size * 0.35))\" font-size=\"\(fmt(size))\" text-anchor=\"\(a)\"\(group.map { " data-group=\"\(escape($0))\"" } ?? "")>\(escape(s))</text>\n"
                case let .group(name, inner):
                    walk(inner, group: name)
                default: break
                }
            }
        }
        walk(scene.items, group: nil)
        layer += "</g>\n"
        var text = String(decoding: svg, as: UTF8.self)
        if let end = text.range(of: "</svg>", options: .backwards) {
            text.replaceSubrange(end, with: layer + "</svg>")
        }
        return Data(text.utf8)
    }

    static func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

extension SVGPostProcessing {
    /// Cairo numbers SVG ids (`image7`, `glyph0-1`, `clip2`) with counters that run on
    /// across documents in one process; renumbering them by order of appearance makes
    /// the same scene give the same bytes every time.
    static func renumberIDs(_ svg: Data) -> Data {
        let text = String(decoding: svg, as: UTF8.self)
        let regex = try! NSRegularExpression(pattern: #"(id="|#)([A-Za-z][A-Za-z0-9_-]*)(?=["\)])"#)
        let ns = text as NSString
        var names: [String: String] = [:]
        var out = "", last = 0
        for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let prefix = ns.substring(with: m.range(at: 1)), old = ns.substring(with: m.range(at: 2))
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let new: String
            if let known = names[old] { new = known } else if prefix == "id=\"" {
                new = "i\(names.count)"
                names[old] = new
            } else {
                new = old  // a reference to an id not seen yet: renamed when its id appears
            }
            out += prefix + new
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        // References that came before their id (rare in Cairo's output) are fixed here.
        for (old, new) in names where out.contains("#\(old)\"") || out.contains("#\(old))") {
            out = out.replacingOccurrences(of: "#\(old)\"", with: "#\(new)\"").replacingOccurrences(of: "#\(old))", with: "#\(new))")
        }
        return Data(out.utf8)
    }
}
