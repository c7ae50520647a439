import Foundation

/// One SVG that plays its frames with SMIL: what every frame draws alike first, once,
/// inside `<g data-name="static">`; then each frame, Cairo's SVG of the rest of its scene
/// (with its structure layer) inside `<g data-name="frame-k">`, shown in turn by a discrete
/// `visibility` animation on one looping timeline. Frame 0 is visible without SMIL, so a
/// viewer that does not animate shows the first frame. Ids are prefixed per frame
/// (`f3-i0`), and glyph definitions that several frames share are written once.
enum AnimatedSVG {
    /// `base`: drawn under every frame, always visible (`<g data-name="static">`).
    static func combine(_ frames: [Data], base: Data? = nil, width: Double, height: Double, fps: Double) -> Data {
        let n = frames.count
        let duration = Double(n) / fps
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="\(fmt(width))pt" height="\(fmt(height))pt" viewBox="0 0 \(fmt(width)) \(fmt(height))" version="1.1">

        """
        var shared: [[UInt8]: [UInt8]] = [:]  // a glyph's drawing -> the id it was first written under
        var sharedDefs: [UInt8] = []
        if let base {
            out += "<g data-name=\"static\">\n" + String(decoding: Self.frameBody([UInt8](base), prefix: Array("s-".utf8), shared: &shared, defs: &sharedDefs), as: UTF8.self) + "</g>\n"
        }
        for (k, data) in frames.enumerated() {
            let body = Self.frameBody([UInt8](data), prefix: Array("f\(k)-".utf8), shared: &shared, defs: &sharedDefs)
            let visible = k == 0
            out += "<g data-name=\"frame-\(k)\" visibility=\"\(visible ? "visible" : "hidden")\">\n"
            if n > 1 {
                let (a, b) = (fmt(Double(k) / Double(n), 6), fmt(Double(k + 1) / Double(n), 6))
                let (values, times): (String, String) = k == 0 ? ("visible;hidden", "0;\(b)")
                    : (k == n - 1 ? ("hidden;visible", "0;\(a)") : ("hidden;visible;hidden", "0;\(a);\(b)"))
                out += "<animate attributeName=\"visibility\" values=\"\(values)\" keyTimes=\"\(times)\" dur=\"\(fmt(duration, 3))s\" calcMode=\"discrete\" repeatCount=\"indefinite\"/>\n"
            }
            out += String(decoding: body, as: UTF8.self) + "</g>\n"
        }
        let sharedDefs_ = String(decoding: sharedDefs, as: UTF8.self)
        if !sharedDefs_.isEmpty {
            // Definitions may come after their use in SVG; put them first anyway, for readers.
            let header = out.range(of: "version=\"1.1\">\n")!.upperBound
            out.insert(contentsOf: "<defs>\n\(sharedDefs_)</defs>\n", at: header)
        }
        return Data((out + "</svg>\n").utf8)
    }

    /// One frame's SVG between its root `<svg ...>` and `</svg>`, in one pass: ids
    /// prefixed (`id="f3-i0"`, and every `href="#..."` and `url(#...)` to them), and each
    /// glyph (`<symbol ...>...</symbol>`) moved to the shared `defs`, or dropped and its
    /// uses pointed at the same drawing an earlier frame defined.
    static func frameBody(_ b: [UInt8], prefix: [UInt8], shared: inout [[UInt8]: [UInt8]], defs: inout [UInt8]) -> [UInt8] {
        let n = b.count
        func matches(_ at: Int, _ p: [UInt8]) -> Bool {
            guard at + p.count <= n else { return false }
            for k in 0..<p.count where b[at + k] != p[k] { return false }
            return true
        }
        func find(_ p: [UInt8], from: Int, to end: Int) -> Int? {
            var i = from
            while i + p.count <= end { if b[i] == p[0] && matches(i, p) { return i }; i += 1 }
            return nil
        }
        let svgOpen = Array("<svg".utf8), svgClose = Array("</svg>".utf8), gt = UInt8(ascii: ">"), quote = UInt8(ascii: "\"")
        guard let open = find(svgOpen, from: 0, to: n), let openEnd = find([gt], from: open, to: n) else { return [] }
        var close = n - svgClose.count
        while close > openEnd && !matches(close, svgClose) { close -= 1 }
        let start = openEnd + 1, end = max(close, start)

        // Pass 1: glyphs, and what their ids become.
        let symbolOpen = Array("<symbol ".utf8), symbolClose = Array("</symbol>".utf8), idAttr = Array("id=\"".utf8)
        var renamed: [[UInt8]: [UInt8]] = [:]
        var dropped: [Range<Int>] = []
        var i = start
        while let s = find(symbolOpen, from: i, to: end), let e = find(symbolClose, from: s, to: end) {
            let stop = e + symbolClose.count
            if let idStart = find(idAttr, from: s, to: stop), let idEnd = find([quote], from: idStart + idAttr.count, to: stop) {
                let id = Array(b[(idStart + idAttr.count)..<idEnd])
                let key = Array(b[s..<idStart]) + Array(b[idEnd..<stop])
                if let existing = shared[key] {
                    renamed[id] = existing
                } else {
                    let newID = prefix + id
                    shared[key] = newID
                    renamed[id] = newID
                    defs += Array(b[s..<idStart]) + idAttr + newID + Array(b[idEnd..<stop]) + [UInt8(ascii: "\n")]
                }
                dropped.append(s..<stop)
            }
            i = stop
        }
        // Pass 2: copy, without the glyphs, rewriting ids and references.
        let hrefAttr = Array("href=\"#".utf8), urlRef = Array("url(#".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var d = 0
        i = start
        while i < end {
            if d < dropped.count && i == dropped[d].lowerBound { i = dropped[d].upperBound; d += 1; continue }
            let c = b[i]
            var prefixLength = 0
            if c == UInt8(ascii: "i") && i > 0 && (b[i - 1] == UInt8(ascii: " ") || b[i - 1] == UInt8(ascii: "\n")) && matches(i, idAttr) { prefixLength = idAttr.count }
            else if c == UInt8(ascii: "h") && matches(i, hrefAttr) { prefixLength = hrefAttr.count }
            else if c == UInt8(ascii: "u") && matches(i, urlRef) { prefixLength = urlRef.count }
            if prefixLength > 0 {
                out += b[i..<(i + prefixLength)]
                var j = i + prefixLength
                while j < end && b[j] != quote && b[j] != UInt8(ascii: ")") { j += 1 }
                let id = Array(b[(i + prefixLength)..<j])
                out += renamed[id] ?? (prefix + id)
                i = j
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    static func fmt(_ v: Double, _ digits: Int = 2) -> String {
        var s = String(format: "%.\(digits)f", v)
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s
    }
}
