import ConvVizCore

/// An sRGB colour with alpha, components in [0, 1].
public struct Color: Equatable, Hashable, Sendable {
    public var r: Double, g: Double, b: Double, a: Double
    public init(_ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) { self.r = r; self.g = g; self.b = b; self.a = a }

    public static let white = Color(1, 1, 1), black = Color(0, 0, 0), clear = Color(0, 0, 0, 0)

    /// `#rrggbb`, `#rgb` or a few names (`white`, `black`, `gray`).
    public init?(parsing text: String) {
        let names: [String: Color] = ["white": .white, "black": .black, "gray": Color(0.5, 0.5, 0.5), "grey": Color(0.5, 0.5, 0.5)]
        if let c = names[text.lowercased()] { self = c; return }
        var hex = text.hasPrefix("#") ? String(text.dropFirst()) : text
        if hex.count == 3 { hex = hex.map { "\($0)\($0)" }.joined() }
        guard hex.count == 6, let v = UInt32(hex, radix: 16) else { return nil }
        self.init(Double(v >> 16 & 255) / 255, Double(v >> 8 & 255) / 255, Double(v & 255) / 255)
    }

    public func with(alpha: Double) -> Color { Color(r, g, b, alpha) }
}

public struct Point: Equatable, Sendable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

public struct Rect: Equatable, Sendable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(_ x: Double, _ y: Double, _ width: Double, _ height: Double) { self.x = x; self.y = y; self.width = width; self.height = height }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var center: Point { Point(x + width / 2, y + height / 2) }
}

/// An 8-bit RGBA raster (row-major, unpremultiplied), drawn pixel for pixel.
public struct RasterImage: Equatable, Sendable {
    public let width: Int, height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: Color = .clear) {
        self.width = width
        self.height = height
        let p = [Self.byte(fill.r), Self.byte(fill.g), Self.byte(fill.b), Self.byte(fill.a)]
        pixels = [UInt8](repeating: 0, count: 4 * width * height)
        if p != [0, 0, 0, 0] { for i in 0..<(width * height) { for c in 0..<4 { pixels[4 * i + c] = p[c] } } }
    }

    public subscript(x: Int, y: Int) -> Color {
        get { let o = 4 * (y * width + x); return Color(Double(pixels[o]) / 255, Double(pixels[o + 1]) / 255, Double(pixels[o + 2]) / 255, Double(pixels[o + 3]) / 255) }
        set { set(x, y, newValue) }
    }

    public mutating func set(_ x: Int, _ y: Int, _ c: Color) {
        let o = 4 * (y * width + x)
        pixels[o] = Self.byte(c.r); pixels[o + 1] = Self.byte(c.g); pixels[o + 2] = Self.byte(c.b); pixels[o + 3] = Self.byte(c.a)
    }

    /// Pixel `i`'s colour (row-major index) as a 0xRRGGBB word, alpha aside.
    public func word(_ i: Int) -> UInt32 { UInt32(pixels[4 * i]) << 16 | UInt32(pixels[4 * i + 1]) << 8 | UInt32(pixels[4 * i + 2]) }

    /// Sets pixel `i`'s colour from a 0xRRGGBB word, keeping its alpha.
    public mutating func setWord(_ i: Int, _ c: UInt32) {
        pixels[4 * i] = UInt8(truncatingIfNeeded: c >> 16); pixels[4 * i + 1] = UInt8(truncatingIfNeeded: c >> 8); pixels[4 * i + 2] = UInt8(truncatingIfNeeded: c)
    }

    /// A fraction in [0, 1] as a byte; NaN (a value no colour can show) is 0, not a trap.
    static func byte(_ v: Double) -> UInt8 { v.isNaN ? 0 : UInt8(max(0, min(255, (v * 255).rounded()))) }

    /// Nearest-neighbour upscale by an integer factor: each pixel becomes a
    /// `factor x factor` block, so filter pixels stay crisp in every viewer.
    public func upscaled(_ factor: Int) -> RasterImage {
        guard factor > 1 else { return self }
        var out = RasterImage(width: width * factor, height: height * factor)
        for y in 0..<out.height {
            let sy = y / factor
            for x in 0..<out.width {
                let s = 4 * (sy * width + x / factor), d = 4 * (y * out.width + x)
                out.pixels[d] = pixels[s]; out.pixels[d + 1] = pixels[s + 1]; out.pixels[d + 2] = pixels[s + 2]; out.pixels[d + 3] = pixels[s + 3]
            }
        }
        return out
    }
}

/// What to draw: a size and a list of items in drawing order, in points (1 pt = 1 px
/// in PNG output). Figures build scenes; `Canvas` renders them; neither knows the other's
/// details, so a new figure kind never touches the canvas.
public struct Scene: Sendable {
    public enum TextAnchor: Sendable { case start, middle, end }

    public enum Item: Sendable {
        case rect(Rect, fill: Color?, stroke: Color? = nil, lineWidth: Double = 1)
        /// A raster drawn with each pixel as a `scale x scale` block (nearest neighbour).
        case image(RasterImage, at: Point, scale: Int = 1)
        case text(String, at: Point, size: Double, color: Color = .black, anchor: TextAnchor = .start, bold: Bool = false)
        case polyline([Point], color: Color, width: Double = 1, closed: Bool = false, fill: Color? = nil, dash: [Double] = [])
        /// A named group (one per filter, per map...), kept as `<g id>` in SVG.
        case group(String, [Item])
    }

    public var width: Double
    public var height: Double
    public var background: Color
    public var items: [Item] = []

    public init(width: Double, height: Double, background: Color = .white) {
        self.width = width
        self.height = height
        self.background = background
    }

    public mutating func add(_ item: Item) { items.append(item) }

    /// Every text string in the scene, in drawing order.
    public var texts: [String] {
        func collect(_ items: [Item]) -> [String] {
            items.flatMap { item -> [String] in
                switch item {
                case let .text(s, _, _, _, _, _): return [s]
                case let .group(_, inner): return collect(inner)
                default: return []
                }
            }
        }
        return collect(items)
    }
}
