import Foundation

/// An animation's frames as its GIF holds them, each of at most 256 colours, so that the
/// GIF's frames are exactly these rasters and the PNG of frame k (`png(k)`, what
/// `animate ... --frame K -o f.png` writes) is exactly GIF frame k.
///
/// A figure has few colours of its own; Cairo's antialiasing makes thousands (a blend per
/// coverage value at every edge). Frames are drawn for a palette instead
/// (`Canvas.renderRaster(_:pngScale:tolerance:)`, `CoverageQuantizer`): the figure's
/// colours exact, each edge pixel one of a few blends of the two colours that meet,
/// within `tolerance` + 1 of Cairo's in every channel. The tolerance is the smallest of
/// `tolerances` at which every frame fits 256 colours, one for the whole animation so
/// that what stays still stays the same pixels.
public struct AnimationRaster {
    public let frameCount: Int
    public let pngScale: Double
    /// The largest change (0-255, in a channel) the rounding of an edge's coverage makes.
    public let tolerance: Int
    /// Whether every frame fits 256 colours at `tolerance` (only a frame full of
    /// colours of its own, such as a photograph, does not: the GIF encoder then
    /// quantizes it, and its GIF frame is no longer its PNG).
    public let fits: Bool
    private let scene: (Int) -> Scene

    /// The tolerances tried, smallest first: 3/255 is about what the eye tells apart at a
    /// glyph's edge; 64/255 leaves two or three levels to the strongest edges.
    public static let tolerances = [3, 4, 6, 8, 12, 16, 24, 32, 48, 64]

    /// Draws every frame at each tolerance in turn (the first and last frames first, where
    /// text and written cells are most) until all of them fit 256 colours.
    public init(_ animation: some Animation, pngScale: Double = 1) throws {
        precondition(animation.frameCount > 0 && pngScale > 0)
        frameCount = animation.frameCount
        self.pngScale = pngScale
        scene = { animation.rasterFrame($0) }
        let order = frameCount == 1 ? [0] : [0, frameCount - 1] + Array(1..<(frameCount - 1))
        var chosen: Int?
        search: for t in Self.tolerances {
            for k in order where Self.colourCount(try Canvas.renderRaster(animation.rasterFrame(k), pngScale: pngScale, tolerance: t), upTo: 256) > 256 {
                continue search
            }
            chosen = t
            break
        }
        tolerance = chosen ?? Self.tolerances[Self.tolerances.count - 1]
        fits = chosen != nil
    }

    /// Frame `k` (0-based) as the GIF holds it.
    public func frame(_ k: Int) throws -> RasterImage {
        precondition((0..<frameCount).contains(k), "frame \(k) of \(frameCount)")
        return try Canvas.renderRaster(scene(k), pngScale: pngScale, tolerance: tolerance)
    }

    /// The PNG of frame `k` (0-based): GIF frame k, pixel for pixel.
    public func png(_ k: Int) throws -> Data { try Canvas.png(frame(k)) }

    /// Distinct colours of `image`, counted up to `limit` + 1.
    static func colourCount(_ image: RasterImage, upTo limit: Int) -> Int {
        var seen = Set<UInt32>()
        image.pixels.withUnsafeBufferPointer { p in
            for i in stride(from: 0, to: p.count, by: 4) {
                if seen.insert(UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])).inserted && seen.count > limit { return }
            }
        }
        return seen.count
    }
}
