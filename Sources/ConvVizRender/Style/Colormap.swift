/// A colormap: a value in [0, 1] to a colour, from exact published 256-entry tables.
public enum Colormap: String, CaseIterable, Sendable {
    /// Perceptually uniform, colour-blind friendly (matplotlib's default).
    case viridis
    /// Perceptually uniform, black to light yellow.
    case magma
    /// Black to white.
    case gray
    /// Diverging blue-white-red (ColorBrewer RdBu reversed): for signed values around 0.
    case redBlue = "red-blue"

    var table: [(Float, Float, Float)]? {
        switch self {
        case .viridis: Colormap.viridisTable
        case .magma: Colormap.magmaTable
        case .redBlue: Colormap.redBlueTable
        case .gray: nil
        }
    }

    /// The colour for `t` (clamped to [0, 1]); NaN gives nil.
    public func color(_ t: Float) -> (r: UInt8, g: UInt8, b: UInt8)? {
        guard !t.isNaN else { return nil }
        let u = min(max(t, 0), 1)
        guard let table else { let v = UInt8((u * 255).rounded()); return (v, v, v) }
        let e = table[Int((u * 255).rounded())]
        return (UInt8((e.0 * 255).rounded()), UInt8((e.1 * 255).rounded()), UInt8((e.2 * 255).rounded()))
    }

    public func swatch(_ t: Float) -> Color {
        guard let c = color(t) else { return Color(1, 0, 1) }
        return Color(Double(c.r) / 255, Double(c.g) / 255, Double(c.b) / 255)
    }

    /// Paints `values` (`height x width`, row-major) into an RGBA raster, mapping
    /// `[low, high]` to the colormap; NaN and infinities are magenta, which no colormap
    /// here contains.
    public func raster(_ values: UnsafeBufferPointer<Float>, width: Int, height: Int, low: Float, high: Float) -> RasterImage {
        var image = RasterImage(width: width, height: height)
        let span = high > low ? high - low : 1
        image.pixels.withUnsafeMutableBufferPointer { px in
            for i in 0..<(width * height) {
                let v = values[i]
                let o = 4 * i
                if let c = v.isFinite ? color((v - low) / span) : nil {
                    px[o] = c.r; px[o + 1] = c.g; px[o + 2] = c.b
                } else {
                    px[o] = 255; px[o + 1] = 0; px[o + 2] = 255
                }
                px[o + 3] = 255
            }
        }
        return image
    }
}
