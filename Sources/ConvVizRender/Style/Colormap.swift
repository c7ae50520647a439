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

    /// The 256 entries as bytes, r g b interleaved.
    var bytes: [UInt8] {
        switch self {
        case .viridis: Colormap.viridisBytes
        case .magma: Colormap.magmaBytes
        case .redBlue: Colormap.redBlueBytes
        case .gray: Colormap.grayBytes
        }
    }

    private static func bytes(_ table: [(Float, Float, Float)]) -> [UInt8] {
        table.flatMap { [UInt8(($0.0 * 255).rounded()), UInt8(($0.1 * 255).rounded()), UInt8(($0.2 * 255).rounded())] }
    }
    static let viridisBytes = bytes(viridisTable), magmaBytes = bytes(magmaTable), redBlueBytes = bytes(redBlueTable)
    static let grayBytes = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }

    /// The colour for `t` (clamped to [0, 1]); NaN gives nil.
    public func color(_ t: Float) -> (r: UInt8, g: UInt8, b: UInt8)? {
        guard !t.isNaN else { return nil }
        let i = 3 * Int((min(max(t, 0), 1) * 255).rounded())
        let b = bytes
        return (b[i], b[i + 1], b[i + 2])
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
        // In Double: high - low overflows Float for values near ±3e38 (then inf * 0 is NaN).
        let scale = high > low ? 255 / (Double(high) - Double(low)) : 255
        let lut = bytes
        image.pixels.withUnsafeMutableBufferPointer { px in
            for i in 0..<(width * height) {
                let v = values[i]
                let o = 4 * i
                if v.isFinite {
                    let k = 3 * Int(RasterImage.byte((Double(v) - Double(low)) * scale / 255))
                    px[o] = lut[k]; px[o + 1] = lut[k + 1]; px[o + 2] = lut[k + 2]
                } else {
                    px[o] = 255; px[o + 1] = 0; px[o + 2] = 255
                }
                px[o + 3] = 255
            }
        }
        return image
    }
}
