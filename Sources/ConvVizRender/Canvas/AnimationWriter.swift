import ConvVizCore
import Foundation

/// The file formats an animation renders to, chosen by the output file's extension.
public enum AnimationFormat: String, CaseIterable, Sendable {
    /// giflib, frames drawn for a palette of at most 256 colours (`AnimationRaster`),
    /// which the GIF keeps exactly (`GIFEncoder`).
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
        /// What a user should know: frames that had to lose colours of their own.
        public let warnings: [String]
        /// The GIF's palette (nil for SVG and PDF).
        public let palette: GIFEncoder.Palette?
        /// The GIF's edge tolerance (`AnimationRaster.tolerance`; nil for SVG and PDF).
        public var tolerance: Int? = nil
    }

    /// `fps` frames per second (GIF stores hundredths of a second: 1/fps rounded, at
    /// least 2, since browsers slow anything faster); `pngScale` pixels per point (GIF).
    public static func render(_ animation: some Animation, format: AnimationFormat, fps: Double, pngScale: Double = 1) throws -> Output {
        precondition(fps > 0 && animation.frameCount > 0)
        let first = animation.frame(0)
        switch format {
        case .gif:
            return try gif(AnimationRaster(animation, pngScale: pngScale), fps: fps)
        case .svg:
            // What every frame draws first, alike (title, caption, the input grid), is drawn
            // once, under the frames; each frame draws the rest on a clear background.
            let scenes = (0..<animation.frameCount).map { $0 == 0 ? first : animation.frame($0) }
            let shared = Self.sharedPrefix(scenes)
            var base = Scene(width: first.width, height: first.height, background: first.background)
            base.items = Array(first.items.prefix(shared))
            let pages = try scenes.map { scene in
                var rest = Scene(width: scene.width, height: scene.height, background: .clear)
                rest.items = Array(scene.items.dropFirst(shared))
                return try Canvas.render(rest, format: .svg)
            }
            let data = AnimatedSVG.combine(pages, base: try Canvas.render(base, format: .svg), width: first.width, height: first.height, fps: fps)
            return Output(data: data, width: Int(first.width), height: Int(first.height), warnings: [], palette: nil)
        case .pdf:
            return Output(data: try Canvas.renderPDF(pages: animation.frames()), width: Int(first.width), height: Int(first.height), warnings: [], palette: nil)
        }
    }

    /// Frame `k` (0-based) alone: PNG, the GIF's frame k pixel for pixel (`AnimationRaster`);
    /// SVG or PDF, the frame's vector drawing.
    public static func renderFrame(_ animation: some Animation, _ k: Int, format: OutputFormat, pngScale: Double = 1) throws -> Data {
        precondition((0..<animation.frameCount).contains(k), "frame \(k) of \(animation.frameCount)")
        switch format {
        case .png: return try AnimationRaster(animation, pngScale: pngScale).png(k)
        case .svg, .pdf: return try Canvas.render(animation.frame(k), format: format)
        }
    }

    /// Writes frame `k` (0-based) alone, atomically, as `renderFrame` draws it; returns its
    /// size (pixels for PNG, points for SVG and PDF).
    @discardableResult
    public static func writeFrame(_ animation: some Animation, _ k: Int, to path: String, pngScale: Double = 1) throws -> (width: Int, height: Int) {
        let format = try OutputFormat(path: path)
        try AtomicFile.write(try renderFrame(animation, k, format: format, pngScale: pngScale), to: URL(fileURLWithPath: path))
        let s = animation.frame(k), f = format == .png ? pngScale : 1
        return (Int((s.width * f).rounded(.up)), Int((s.height * f).rounded(.up)))
    }

    /// The GIF of frames drawn already (`AnimationRaster`): those frames exactly.
    public static func gif(_ raster: AnimationRaster, fps: Double) throws -> Output {
        precondition(fps > 0)
        let delay = max(2, Int((100 / fps).rounded()))
        let (data, palette) = try GIFEncoder.encode(frameCount: raster.frameCount, delay: delay) { try raster.indexed($0) }
        var warnings: [String] = []
        if !raster.fits {
            warnings.append("some frames have more than 256 colours of their own even with antialiased edges in steps of \(raster.tolerance)/255: their least used colours took the nearest of the 256 most used (the GIF is still each frame's PNG). Use .svg or .pdf for exact colours.")
        }
        let first = try raster.indexed(0)
        return Output(data: data, width: first.width, height: first.height, warnings: warnings, palette: palette, tolerance: raster.tolerance)
    }

    /// How many leading items every scene has alike (compared by their full description).
    static func sharedPrefix(_ scenes: [Scene]) -> Int {
        guard let first = scenes.first else { return 0 }
        var n = 0
        while n < first.items.count {
            let item = String(reflecting: first.items[n])
            guard scenes.dropFirst().allSatisfy({ n < $0.items.count && String(reflecting: $0.items[n]) == item }) else { break }
            n += 1
        }
        return n
    }

    /// Renders and writes atomically (temporary file, then rename).
    public static func write(_ animation: some Animation, to path: String, fps: Double, pngScale: Double = 1) throws -> Output {
        let output = try render(animation, format: try AnimationFormat(path: path), fps: fps, pngScale: pngScale)
        try AtomicFile.write(output.data, to: URL(fileURLWithPath: path))
        return output
    }

    /// A report figure's animation: `DIR/animations/ID.gif` and `.svg`, the GIF first;
    /// returns those paths relative to `directory` (`Report.Figure.animations`).
    public static func writeBesideReport(_ animation: some Animation, id: String, in directory: URL, fps: Double = 2) throws -> [String] {
        let folder = directory.appendingPathComponent("animations")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try ["gif", "svg"].map { ext in
            _ = try write(animation, to: folder.appendingPathComponent("\(id).\(ext)").path, fps: fps)
            return "animations/\(id).\(ext)"
        }
    }
}
