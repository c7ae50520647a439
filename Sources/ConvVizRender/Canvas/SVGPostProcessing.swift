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
        return bytes.withUnsafeBufferPointer { b -> Data in
            let n = b.count
            let quote = UInt8(ascii: "\""), hash = UInt8(ascii: "#"), paren = UInt8(ascii: ")"), lt = UInt8(ascii: "<")
            let space = UInt8(ascii: " "), newline = UInt8(ascii: "\n")
            let idPrefix = Array("id=\"".utf8), imageTag = Array("<image ".utf8)
            let pixelated = Array("style=\"image-rendering:pixelated\" image-rendering=\"optimizeSpeed\" ".utf8)
            func matches(_ at: Int, _ pattern: [UInt8]) -> Bool {
                guard at + pattern.count <= n else { return false }
                for k in 0..<pattern.count where b[at + k] != pattern[k] { return false }
                return true
            }
            func isNameByte(_ c: UInt8) -> Bool {
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95
            }
            /// The identifier starting at `i` if it is followed by a quote or `)`.
            func name(at i: Int) -> Range<Int>? {
                var j = i
                while j < n && isNameByte(b[j]) { j += 1 }
                return j > i && j < n && (b[j] == quote || b[j] == paren) ? i..<j : nil
            }
            /// `id="` at `i`, after a space or newline (never inside base64 image data).
            func idAt(_ i: Int) -> Bool { (b[i - 1] == space || b[i - 1] == newline) && matches(i, idPrefix) }
            // Pass 1: ids in order of appearance.
            var names: [ArraySlice<UInt8>: [UInt8]] = [:]
            var i = 1
            while i < n {
                if b[i] == UInt8(ascii: "i"), idAt(i), let r = name(at: i + 4) {
                    if names[bytes[r]] == nil { names[bytes[r]] = Array("i\(names.count)".utf8) }
                    i = r.upperBound
                } else {
                    i += 1
                }
            }
            var end = n
            let closing = Array("</svg>".utf8)
            var k = n - closing.count
            while k >= 0 { if b[k] == lt && matches(k, closing) { end = k; break }; k -= 1 }
            // Pass 2: copy, rewriting ids, references and image tags.
            var out = [UInt8]()
            out.reserveCapacity(n + layer.utf8.count + 4096)
            var copied = 0
            i = 0
            while i < end {
                let c = b[i]
                if c == lt, matches(i, imageTag) {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<(i + imageTag.count)]))
                    out.append(contentsOf: pixelated)
                    i += imageTag.count
                    copied = i
                    continue
                }
                let start = c == hash ? i + 1 : (c == UInt8(ascii: "i") && i > 0 && idAt(i) ? i + 4 : -1)
                if start >= 0, let r = name(at: start), let new = names[bytes[r]] {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<start]))
                    out.append(contentsOf: new)
                    i = r.upperBound
                    copied = i
                } else {
                    i += 1
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[copied..<end]))
            out.append(contentsOf: Array(layer.utf8))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[end...]))
            return Data(out)
        }
    }

}
