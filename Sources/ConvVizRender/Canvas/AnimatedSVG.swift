import Foundation

/// One SVG that plays its frames with SMIL: each frame is Cairo's SVG of its scene (with
/// its structure layer) inside `<g data-name="frame-k">`, shown in turn by a discrete
/// `visibility` animation on one looping timeline. Frame 0 is visible without SMIL, so a
/// viewer that does not animate shows the first frame. Ids are prefixed per frame
/// (`f3-i0`), and glyph definitions that several frames share are written once.
enum AnimatedSVG {
    static func combine(_ frames: [Data], width: Double, height: Double, fps: Double) -> Data {
        let n = frames.count
        let duration = Double(n) / fps
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="\(fmt(width))pt" height="\(fmt(height))pt" viewBox="0 0 \(fmt(width)) \(fmt(height))" version="1.1">

        """
        var shared: [String: String] = [:]  // a definition's body -> the id it was first written under
        var sharedDefs = ""
        for (k, data) in frames.enumerated() {
            var body = Self.body(String(decoding: data, as: UTF8.self))
            body = Self.prefixIds(body, prefix: "f\(k)-")
            body = Self.shareGlyphs(body, shared: &shared, defs: &sharedDefs)
            let visible = k == 0
            out += "<g data-name=\"frame-\(k)\" visibility=\"\(visible ? "visible" : "hidden")\">\n"
            if n > 1 {
                let (a, b) = (fmt(Double(k) / Double(n), 6), fmt(Double(k + 1) / Double(n), 6))
                let (values, times): (String, String) = k == 0 ? ("visible;hidden", "0;\(b)")
                    : (k == n - 1 ? ("hidden;visible", "0;\(a)") : ("hidden;visible;hidden", "0;\(a);\(b)"))
                out += "<animate attributeName=\"visibility\" values=\"\(values)\" keyTimes=\"\(times)\" dur=\"\(fmt(duration, 3))s\" calcMode=\"discrete\" repeatCount=\"indefinite\"/>\n"
            }
            out += body + "</g>\n"
        }
        if !sharedDefs.isEmpty {
            // Definitions may come after their use in SVG; put them first anyway, for readers.
            let header = out.range(of: "version=\"1.1\">\n")!.upperBound
            out.insert(contentsOf: "<defs>\n\(sharedDefs)</defs>\n", at: header)
        }
        return Data((out + "</svg>\n").utf8)
    }

    /// What is between the root `<svg ...>` tag and `</svg>`.
    static func body(_ svg: String) -> String {
        guard let open = svg.range(of: "<svg"), let openEnd = svg[open.upperBound...].range(of: ">"),
              let close = svg.range(of: "</svg>", options: .backwards) else { return "" }
        return String(svg[openEnd.upperBound..<close.lowerBound])
    }

    /// `id="x"` -> `id="<prefix>x"`, and every reference `#x` (in `href` and `url(...)`).
    static func prefixIds(_ s: String, prefix: String) -> String {
        var s = s.replacingOccurrences(of: "id=\"", with: "id=\"\(prefix)")
        s = s.replacingOccurrences(of: "href=\"#", with: "href=\"#\(prefix)")
        s = s.replacingOccurrences(of: "url(#", with: "url(#\(prefix)")
        return s
    }

    /// Moves each glyph definition (`<g id="...">...</g>` or `<symbol ...>` inside
    /// `<defs>`) whose drawing an earlier frame already defined out of the frame, pointing
    /// its uses at the earlier id; new ones go to the shared `<defs>`.
    static func shareGlyphs(_ body: String, shared: inout [String: String], defs: inout String) -> String {
        var body = body
        var renames: [(String, String)] = []
        for tag in ["symbol", "g"] {
            let openTag = "<\(tag) ", closeTag = "</\(tag)>"
            var search = body.startIndex
            while let defsRange = body.range(of: "<defs>", range: search..<body.endIndex),
                  let defsEnd = body.range(of: "</defs>", range: defsRange.upperBound..<body.endIndex) {
                var cursor = defsRange.upperBound
                var kept = ""
                var inner = body[defsRange.upperBound..<defsEnd.lowerBound]
                // Only glyphs: top-level elements whose id Cairo gave a glyph name or that hold a single path.
                while let start = inner.range(of: openTag, range: inner.startIndex..<inner.endIndex),
                      let end = inner.range(of: closeTag, range: start.upperBound..<inner.endIndex) {
                    let element = String(inner[start.lowerBound..<end.upperBound])
                    guard element.contains("<path"), !element.dropFirst().contains("<\(tag) "),
                          let idStart = element.range(of: "id=\""), let idEnd = element[idStart.upperBound...].range(of: "\"") else {
                        kept += inner[inner.startIndex..<end.upperBound]
                        inner = inner[end.upperBound...]
                        continue
                    }
                    let id = String(element[idStart.upperBound..<idEnd.lowerBound])
                    let key = element.replacingOccurrences(of: "id=\"\(id)\"", with: "")
                    kept += inner[inner.startIndex..<start.lowerBound]
                    if let existing = shared[key] {
                        renames.append((id, existing))
                    } else {
                        shared[key] = id
                        defs += element + "\n"
                    }
                    inner = inner[end.upperBound...]
                }
                kept += inner
                body.replaceSubrange(defsRange.upperBound..<defsEnd.lowerBound, with: kept)
                cursor = body.index(defsRange.upperBound, offsetBy: kept.count)
                search = body.range(of: "</defs>", range: cursor..<body.endIndex)?.upperBound ?? body.endIndex
            }
        }
        for (old, new) in renames {
            body = body.replacingOccurrences(of: "href=\"#\(old)\"", with: "href=\"#\(new)\"")
        }
        return body
    }

    static func fmt(_ v: Double, _ digits: Int = 2) -> String {
        var s = String(format: "%.\(digits)f", v)
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s
    }
}
