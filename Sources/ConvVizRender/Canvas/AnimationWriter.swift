import ConvVizCore
import Foundation

/// The file formats an animation renders to, chosen by the output file's extension.
public enum AnimationFormat: String, CaseIterable, Sendable {
    /// giflib, a palette of the frames' exact colours (see `GIFEncoder`).
    case gif
    /// One SVG animated with SMIL (see `AnimatedSVG`).
    case svg
    /// One page per frame, for slides (as conv_arithmetic ships its PDFs).
    case pdf

    public struct Unsupported: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path): unknown animation format; use a .gif, .svg or .pdf file name" }
    }

    public init(path: String) throws {
        guard let f = AnimationFormat(rawValue: URL(fileURLWithPath: path).pathExtension.lowercased()) else { throw Unsupported(path: path) }
        self = f
    }
}

/// Renders an animation's frames to GIF, animated SVG or PDF pages, and writes them atomically.
public enum AnimationWriter {
    public struct Output {
        public let data: Data
        /// Frame size in pixels (GIF) or points (SVG, PDF).
        public let width: Int, height: Int
        /// What a user should know: a palette that had to be quantized.
        public let warnings: [String]
        /// The GIF's palette (nil for SVG and PDF).
        public let palette: GIFEncoder.Palette?
    }

    /// `fps` frames per second (GIF stores hundredths of a second: 1/fps rounded, at
    /// least 2, since browsers slow anything faster); `pngScale` pixels per point (GIF).
    public static func render(_ animation: some Animation, format: AnimationFormat, fps: Double, pngScale: Double = 1) throws -> Output {
        precondition(fps > 0 && animation.frameCount > 0)
        let first = animation.frame(0)
        switch format {
        case .gif:
            let delay = max(2, Int((100 / fps).rounded()))
            let (data, palette) = try GIFEncoder.encode(frameCount: animation.frameCount, delay: delay) { k in
                try Canvas.renderRaster(k == 0 ? first : animation.frame(k), pngScale: pngScale)
            }
            var warnings: [String] = []
            if !palette.isExact {
                warnings.append("\(palette.quantizedFrames.count) of \(animation.frameCount) frames had more than 256 colours (antialiased text): each keeps the figure's own colours exact (fills, strokes, the insides of glyphs), and \(palette.mappedColours) blended edge colours took the nearest of giflib's median-cut palette (at most \(palette.maxError)/255 off in a channel). Use .svg or .pdf for exact colours everywhere.")
            }
            return Output(data: data, width: Int((first.width * pngScale).rounded(.up)), height: Int((first.height * pngScale).rounded(.up)), warnings: warnings, palette: palette)
        case .svg:
            let pages = try (0..<animation.frameCount).map { try Canvas.render($0 == 0 ? first : animation.frame($0), format: .svg) }
            return Output(data: AnimatedSVG.combine(pages, width: first.width, height: first.height, fps: fps), width: Int(first.width), height: Int(first.height), warnings: [], palette: nil)
        case .pdf:
            return Output(data: try Canvas.renderPDF(pages: animation.frames()), width: Int(first.width), height: Int(first.height), warnings: [], palette: nil)
        }
    }

    /// Renders and writes atomically (temporary file, then rename).
    public static func write(_ animation: some Animation, to path: String, fps: Double, pngScale: Double = 1) throws -> Output {
        let output = try render(animation, format: try AnimationFormat(path: path), fps: fps, pngScale: pngScale)
        try AtomicFile.write(output.data, to: URL(fileURLWithPath: path))
        return output
    }
}
