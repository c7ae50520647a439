import Foundation

/// An animation's frames as its GIF holds them, each of at most 256 colours, so that the
/// GIF's frames are exactly these rasters and the PNG of frame k (`png(k)`, what
/// `animate ... --frame K -o f.png` writes) is exactly GIF frame k.
///
/// A figure has few colours of its own; Cairo's antialiasing makes thousands (a blend per
/// coverage value at every edge). Frames are drawn for a palette instead
/// (`Canvas.renderRaster(_:pngScale:tolerance:)`, `CoverageQuantizer`): the figure's
/// colours exact, each edge pixel one of a few blends of the two colours that meet,
/// within `tolerance` + 1 of Cairo's in every channel where one edge meets a flat colour.
/// The tolerance is the smallest of `tolerances` at which every frame fits 256 colours,
/// one for the whole animation so that what stays still stays the same pixels.
public struct AnimationRaster {
    public let frameCount: Int
    public let pngScale: Double
    /// The largest change (0-255, in a channel) the rounding of an edge's coverage makes.
    public let tolerance: Int
    /// Whether every frame fits 256 colours at `tolerance`. Only a frame full of colours
    /// of its own (a photograph) does not; its colours past the 256 most used then take
    /// the nearest of those, here, so that its GIF frame is still its PNG.
    public let fits: Bool
    private let scene: (Int) -> Scene
    /// Every frame, when they take at most `cacheBudget` pixels together (else drawn again
    /// when asked).
    private let cache: [IndexedImage]

    /// The tolerances tried, smallest first: 3/255 is about what the eye tells apart at a
    /// glyph's edge; at 64/255 the strongest edges keep two or three levels.
    public static let tolerances = [3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
    static let cacheBudget = 1 << 27

    /// Draws every frame at each tolerance in turn (the first and last frames first, where
    /// text and written cells are most) until all of them fit 256 colours.
    public init(_ animation: some Animation, pngScale: Double = 1) throws {
        precondition(animation.frameCount > 0 && pngScale > 0)
        frameCount = animation.frameCount
        self.pngScale = pngScale
        scene = { animation.rasterFrame($0) }
        let order = frameCount == 1 ? [0] : [0, frameCount - 1] + Array(1..<(frameCount - 1))
        var chosen: Int?, drawn: [Int: IndexedImage] = [:]
        search: for t in Self.tolerances {
            drawn = [:]
            var pixels = 0
            for k in order {
                let (words, width, height) = try Canvas.renderWords(animation.rasterFrame(k), pngScale: pngScale, tolerance: t)
                guard let image = IndexedImage(words: words, width: width, height: height) else { continue search }
                pixels += width * height
                if pixels <= Self.cacheBudget { drawn[k] = image }
            }
            chosen = t
            break
        }
        tolerance = chosen ?? Self.tolerances[Self.tolerances.count - 1]
        fits = chosen != nil
        cache = drawn.count == frameCount ? (0..<frameCount).map { drawn[$0]! } : []
    }

    /// Frame `k` (0-based) as the GIF holds it.
    public func indexed(_ k: Int) throws -> IndexedImage {
        precondition((0..<frameCount).contains(k), "frame \(k) of \(frameCount)")
        if !cache.isEmpty { return cache[k] }
        let (words, width, height) = try Canvas.renderWords(scene(k), pngScale: pngScale, tolerance: tolerance)
        return IndexedImage(words: words, width: width, height: height) ?? Self.reduced(words, width: width, height: height)
    }

    /// Frame `k` (0-based) as an RGBA raster.
    public func frame(_ k: Int) throws -> RasterImage { try indexed(k).raster }

    /// The PNG of frame `k` (0-based): GIF frame k, pixel for pixel.
    public func png(_ k: Int) throws -> Data { try Canvas.png(indexed(k)) }

    /// A frame of more than 256 colours on its 256 most used (ties: the smaller word),
    /// every other colour taking the nearest of them (squared RGB distance).
    static func reduced(_ words: [UInt32], width: Int, height: Int) -> IndexedImage {
        var counts: [UInt32: Int] = [:]
        for c in words { counts[c, default: 0] += 1 }
        let kept = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(256).map(\.key)
        let keptSet = Set(kept)
        var nearest: [UInt32: UInt32] = [:]
        for c in counts.keys where !keptSet.contains(c) { nearest[c] = kept[GIFEncoder.nearest(c, in: kept)] }
        return IndexedImage(words: words.map { nearest[$0] ?? $0 }, width: width, height: height)!
    }
}
