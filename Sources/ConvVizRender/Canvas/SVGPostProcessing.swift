import Foundation

/// Cairo writes SVG text as glyph outlines and shapes as anonymous paths: right to the
/// eye, opaque to tools. This appends a transparent *structure layer*: the scene's text
/// as real `<text>` elements (searchable, selectable, read by screen readers, like the
/// text layer of a scanned PDF) and every shape of each named group as a `<rect>`,
/// `<polygon>` or `<polyline>` inside `<g data-name="...">`, at the coordinates drawn.
enum SVGPostProcessing {
    static func structureLayer(_ scene: Scene) -> String {
        var layer = "<g id=\"convviz-structure\" fill-opacity=\"0\" stroke-opacity=\"0\">\n"
        func walk(_ items: [Scene.Item]) {
            for item in items {
                switch item {
                case let .text(s, at, size, _, anchor, _):
                    let a = switch anchor { case .start: "start"; case .middle: "middle"; case .end: "end" }
                    layer += "<text x=\"\(fmt(at.x))\" y=\"\(fmt(at.y + size * 0.35))\" font-size=\"\(fmt(size))\" text-anchor=\"\(a)\">\(escape(s))</text>\n"
                case let .rect(r, fill, _, _):
                    layer += "<rect x=\"\(fmt(r.x))\" y=\"\(fmt(r.y))\" width=\"\(fmt(r.width))\" height=\"\(fmt(r.height))\"\(fill.map { " data-fill=\"\(hex($0))\"" } ?? "")/>\n"
                case let .polyline(points, color, _, closed, fill, _):
                    let pts = points.map { "\(fmt($0.x)),\(fmt($0.y))" }.joined(separator: " ")
                    layer += "<\(closed ? "polygon" : "polyline") points=\"\(pts)\" data-stroke=\"\(hex(color))\"\(fill.map { " data-fill=\"\(hex($0))\"" } ?? "")/>\n"
                case let .image(image, at, scale):
                    layer += "<rect class=\"image\" x=\"\(fmt(at.x))\" y=\"\(fmt(at.y))\" width=\"\(image.width * scale)\" height=\"\(image.height * scale)\"/>\n"
                case let .group(name, inner):
                    layer += "<g data-name=\"\(escape(name))\">\n"
                    walk(inner)
                    layer += "</g>\n"
                }
            }
        }
        walk(scene.items)
        return layer + "</g>\n"
    }

    static func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

    static func hex(_ c: Color) -> String {
        String(format: "#%02x%02x%02x", Int((c.r * 255).rounded()), Int((c.g * 255).rounded()), Int((c.b * 255).rounded()))
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

extension SVGPostProcessing {
    /// One pass over Cairo's SVG bytes that
    /// - renumbers ids (`image7`, `glyph0-1`, `clip2`: Cairo's counters run on across
    ///   documents in one process) by order of appearance, so the same scene gives the
    ///   same bytes every time;
    /// - marks every `<image` as pixelated: ConvViz embeds small rasters and scales
    ///   them with nearest-neighbour intent, and Cairo does not write that hint;
    /// - inserts `layer` before the closing `</svg>`.
    static func finish(_ svg: Data, layer: String) -> Data {
        let bytes = [UInt8](svg)
        let quote = UInt8(ascii: "\""), hash = UInt8(ascii: "#"), paren = UInt8(ascii: ")")
        let idPrefix = Array("id=\"".utf8)
        func isNameByte(_ b: UInt8) -> Bool {
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95
        }
        /// The identifier starting at `i` if it is followed by a quote or `)`.
        func name(at i: Int) -> Range<Int>? {
            var j = i
            while j < bytes.count && isNameByte(bytes[j]) { j += 1 }
            return j > i && j < bytes.count && (bytes[j] == quote || bytes[j] == paren) ? i..<j : nil
        }
        // Pass 1: ids in order of appearance. (Embedded images are base64, which has
        // neither quotes nor '#', so the scan cannot misread them.)
        var names: [ArraySlice<UInt8>: [UInt8]] = [:]
        var i = 0
        while i + idPrefix.count < bytes.count {
            if bytes[i] == idPrefix[0] && bytes[i + 1] == idPrefix[1] && bytes[i + 2] == idPrefix[2] && bytes[i + 3] == idPrefix[3],
               i == 0 || bytes[i - 1] == 32 || bytes[i - 1] == 10, let r = name(at: i + 4) {
                if names[bytes[r]] == nil { names[bytes[r]] = Array("i\(names.count)".utf8) }
                i = r.upperBound
            } else {
                i += 1
            }
        }
        // Pass 2: rewrite ids and references.
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + layer.utf8.count + 4096)
        let imageTag = Array("<image ".utf8), pixelated = Array("style=\"image-rendering:pixelated\" image-rendering=\"optimizeSpeed\" ".utf8)
        let closing = Array("</svg>".utf8)
        var end = bytes.count
        if let k = (0...(bytes.count - closing.count)).reversed().first(where: { bytes[$0] == closing[0] && bytes[$0..<($0 + closing.count)].elementsEqual(closing) }) { end = k }
        i = 0
        while i < end {
            if bytes[i] == imageTag[0] && i + imageTag.count <= end && bytes[i..<(i + imageTag.count)].elementsEqual(imageTag) {
                out.append(contentsOf: imageTag)
                out.append(contentsOf: pixelated)
                i += imageTag.count
                continue
            }
            let isID = i + 4 < bytes.count && bytes[i] == idPrefix[0] && bytes[i + 1] == idPrefix[1] && bytes[i + 2] == idPrefix[2]
                && bytes[i + 3] == idPrefix[3] && (i == 0 || bytes[i - 1] == 32 || bytes[i - 1] == 10)
            let start = isID ? i + 4 : (bytes[i] == hash ? i + 1 : -1)
            if start >= 0, let r = name(at: start), let new = names[bytes[r]] {
                out.append(contentsOf: bytes[i..<start])
                out.append(contentsOf: new)
                i = r.upperBound
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        out.append(contentsOf: Array(layer.utf8))
        out.append(contentsOf: bytes[end...])
        return Data(out)
    }
}
