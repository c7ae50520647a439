/// Width estimates for laying out text before it is drawn (Pango measures exactly
/// when drawing; layout needs a bound earlier). CJK ideographs and full-width forms
/// are one em wide; Latin text averages well under that.
public enum TextMetrics {
    /// Whether `scalar` is drawn full width (CJK ideographs, kana, hangul, full-width
    /// punctuation).
    public static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x20000...0x3FFFD: true
        default: false
        }
    }

    /// An upper estimate of `text`'s width at `size` points: 0.62 em per narrow
    /// character (DejaVu Sans's widest typical average), 1 em per wide one.
    public static func width(_ text: String, size: Double, narrowEm: Double = 0.62) -> Double {
        var ems = 0.0
        for s in text.unicodeScalars { ems += isWide(s) ? 1.0 : narrowEm }
        return ems * size
    }

    /// DejaVu Sans's average width of running English text, in em: what a wrapped line
    /// is measured with, so captions do not break early and leave one word alone (the
    /// frame is still sized by the upper bound, so nothing is clipped).
    public static let typicalNarrowEm = 0.55

    /// Whether the text holds any CJK character.
    public static func containsCJK(_ text: String) -> Bool { text.unicodeScalars.contains(where: isWide) }

    /// Breaks `text` into lines no wider than `maxWidth`: at spaces in Latin text, and
    /// between any two wide characters (Chinese has no spaces). A word longer than a
    /// line gets a line of its own.
    public static func wrap(_ text: String, size: Double, maxWidth: Double) -> [String] {
        func width(_ s: String, size: Double) -> Double { Self.width(s, size: size, narrowEm: typicalNarrowEm) }
        guard width(text, size: size) > maxWidth else { return [text] }
        // Break opportunities: after a space, and before or after a wide character
        // (but never before closing punctuation like "，" or "。").
        var pieces: [String] = []
        var current = ""
        for ch in text {
            let wide = ch.unicodeScalars.first.map(isWide) ?? false
            let closing = "，。、；：）」』！？%".contains(ch)
            if wide && !closing && !current.isEmpty && !current.hasSuffix("（") {
                pieces.append(current); current = ""
            }
            // Closing punctuation never starts a line: it joins the piece before it.
            if closing && current.isEmpty && !pieces.isEmpty {
                current = pieces.removeLast()
            }
            current.append(ch)
            if ch == " " || (wide && !"（「『".contains(ch)) { pieces.append(current); current = "" }
        }
        if !current.isEmpty { pieces.append(current) }
        var lines: [String] = []
        var line = ""
        for piece in pieces {
            if !line.isEmpty && width(line + piece.trimmingTrailingSpaces, size: size) > maxWidth {
                lines.append(line.trimmingTrailingSpaces)
                line = ""
            }
            if line.isEmpty && piece == " " { continue }
            line += piece
        }
        if !line.trimmingTrailingSpaces.isEmpty { lines.append(line.trimmingTrailingSpaces) }
        return lines
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
