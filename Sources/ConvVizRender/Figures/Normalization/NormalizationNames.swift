import ConvVizCore

/// The course's names for normalizations, in the figure's language, so that cubes,
/// legends and captions name a method the same way.
extension Language {
    public func name(_ kind: NormalizationKind) -> String {
        switch kind {
        case .batch: self(.batchNorm)
        case .layer: self(.layerNorm)
        case .instance: self(.instanceNorm)
        case .group: self(.groupNorm)
        }
    }

    /// "BatchNorm", "GroupNorm (G=4)", "no normalization" (or their Chinese).
    public func name(_ choice: Architecture.NormalizationChoice) -> String {
        switch choice {
        case .batch: self(.batchNorm)
        case .layer: self(.layerNorm)
        case .instance: self(.instanceNorm)
        case let .group(g): "\(self(.groupNorm)) (G=\(g))"
        case .none: self(.noNormalization)
        }
    }
}

/// Numbers as figures print them.
public enum FigureNumber {
    /// Whole numbers without decimals, others with `digits` decimals ("-0.00" as "0.00").
    public static func format(_ v: Float, digits: Int = 2) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return fixed(v, digits: digits)
    }

    /// Always `digits` decimals, so a column of numbers lines up ("-0.00" as "0.00").
    public static func fixed(_ v: Float, digits: Int) -> String {
        let s = String(format: "%.\(digits)f", v)
        return s.hasPrefix("-") && Float(s) == 0 ? String(s.dropFirst()) : s
    }

    /// Thousands separated by commas: 4704 -> "4,704".
    public static func grouped(_ v: Int) -> String {
        let digits = String(v.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (v < 0 ? "-" : "") + out
    }

    /// A percentage with one decimal: 0.8412 -> "84.1%".
    public static func percent(_ v: Float) -> String { String(format: "%.1f%%", v * 100) }
}
