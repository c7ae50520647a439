import CCairo
import CPango
import ConvVizCore
import Foundation

/// Renders a `Scene` with Cairo (shapes, images) and Pango (text, any script) to PNG,
/// SVG or PDF bytes.
public enum Canvas {
    /// Fonts tried in order: DejaVu Sans for Latin, Greek and Cyrillic; Noto Sans CJK
    /// for Chinese, Japanese and Korean labels.
    public static let fontFamilies = "DejaVu Sans, Noto Sans CJK SC"

    /// `pngScale` draws a PNG at that many pixels per point (2 for a 192-dpi slide
    /// image); SVG and PDF are vector formats and ignore it.
    public static func render(_ scene: Scene, format: OutputFormat, pngScale: Double = 1) throws -> Data {
        let scale = format == .png ? pngScale : 1
        let surface = try Surface(format: format, width: scene.width * scale, height: scene.height * scale)
        guard let cr = cairo_create(surface.handle) else { throw CairoError(operation: "cairo_create", status: CAIRO_STATUS_NO_MEMORY) }
        defer { cairo_destroy(cr) }
        try CairoError.check(cairo_status(cr), "cairo_create")
        if scale != 1 { cairo_scale(cr, scale, scale) }
        try drawPage(scene, cr, format)
        cairo_surface_flush(surface.handle)
        var data = try surface.finish()
        if format == .svg { data = SVGPostProcessing.finish(data, layer: SVGPostProcessing.structureLayer(scene)) }
        return data
    }

    /// The pixels the PNG of `scene` holds (opaque RGBA), for writers of other raster
    /// formats (GIF frames): the same drawing, so a frame equals its PNG pixel for pixel.
    /// With `tolerance`, drawn for a palette (`CoverageQuantizer`): every edge's coverage
    /// rounded to the few levels that keep each channel within `tolerance` (0-255) of
    /// Cairo's blend, flat colours exact, images on whole pixels.
    public static func renderRaster(_ scene: Scene, pngScale: Double = 1, tolerance: Int? = nil) throws -> RasterImage {
        let (words, width, height) = try renderWords(scene, pngScale: pngScale, tolerance: tolerance)
        var image = RasterImage(width: width, height: height)
        for i in 0..<(width * height) { image.setWord(i, words[i]); image.pixels[4 * i + 3] = 255 }
        return image
    }

    /// The same pixels as 0xRRGGBB words, row-major.
    static func renderWords(_ scene: Scene, pngScale: Double = 1, tolerance: Int? = nil) throws -> (words: [UInt32], width: Int, height: Int) {
        let surface = try Surface(format: .png, width: scene.width * pngScale, height: scene.height * pngScale)
        guard let cr = cairo_create(surface.handle) else { throw CairoError(operation: "cairo_create", status: CAIRO_STATUS_NO_MEMORY) }
        defer { cairo_destroy(cr) }
        try CairoError.check(cairo_status(cr), "cairo_create")
        if pngScale != 1 { cairo_scale(cr, pngScale, pngScale) }
        try drawPage(scene, cr, .png, quantizer: tolerance.map(CoverageQuantizer.init))
        return try surface.words()
    }

    /// The PNG of an indexed raster (8-bit RGB).
    public static func png(_ image: IndexedImage) throws -> Data { try PNGEncoder.encodeRGB(image.rgb, width: image.width, height: image.height) }

    /// A multi-page PDF, one scene per page, each page the size of its scene.
    public static func renderPDF(pages: [Scene]) throws -> Data {
        guard let first = pages.first else { throw CairoError(operation: "a PDF with no pages", status: CAIRO_STATUS_INVALID_SIZE) }
        let surface = try Surface(format: .pdf, width: first.width, height: first.height)
        guard let cr = cairo_create(surface.handle) else { throw CairoError(operation: "cairo_create", status: CAIRO_STATUS_NO_MEMORY) }
        defer { cairo_destroy(cr) }
        for page in pages {
            cairo_pdf_surface_set_size(surface.handle, page.width, page.height)
            try drawPage(page, cr, .pdf)
            cairo_show_page(cr)
        }
        return try surface.finish()
    }

    private static func drawPage(_ scene: Scene, _ cr: OpaquePointer, _ format: OutputFormat, quantizer: CoverageQuantizer? = nil) throws {
        setColor(cr, scene.background)
        cairo_paint(cr)
        let text = TextRenderer(cr)
        for item in scene.items {
            if let quantizer { try drawQuantized(item, cr, text, quantizer) } else { try draw(item, cr, text, format) }
        }
        try CairoError.check(cairo_status(cr), "drawing")
    }

    /// Renders and writes atomically (temporary file, then rename).
    /// A drawing error names the output and what it was drawn from.
    public static func write(_ scene: Scene, to path: String, pngScale: Double = 1) throws {
        let format = try OutputFormat(path: path)
        let data: Data
        do { data = try render(scene, format: format, pngScale: pngScale) } catch let e as CairoError {
            let inputs = InputFiles.paths
            let from = inputs.isEmpty ? "" : " from \(inputs.prefix(2).joined(separator: ", "))\(inputs.count > 2 ? ", ..." : "")"
            throw WriteError(file: path, message: "cannot draw the \(Int(scene.width * (format == .png ? pngScale : 1)))x\(Int(scene.height * (format == .png ? pngScale : 1))) figure\(from): \(e)")
        }
        try AtomicFile.write(data, to: URL(fileURLWithPath: path))
    }

    static func setColor(_ cr: OpaquePointer, _ c: Color) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) }

    private static func draw(_ item: Scene.Item, _ cr: OpaquePointer, _ text: TextRenderer, _ format: OutputFormat) throws {
        switch item {
        case let .rect(r, fill, stroke, lineWidth):
            cairo_rectangle(cr, r.x, r.y, r.width, r.height)
            if let fill { setColor(cr, fill); if stroke != nil { cairo_fill_preserve(cr) } else { cairo_fill(cr) } }
            if let stroke { setColor(cr, stroke); cairo_set_line_width(cr, lineWidth); cairo_stroke(cr) }
            cairo_new_path(cr)
        case let .image(image, origin, scale):
            // PNG and SVG scale in Cairo with a nearest filter (SVG gets a "pixelated"
            // hint); PDF embeds the upscaled pixels, since PDF viewers may smooth.
            if format != .pdf || scale == 1 {
                try drawImage(image, at: origin, scale: scale, cr)
            } else {
                try drawImage(image.upscaled(scale), at: origin, scale: 1, cr)
            }
        case let .text(string, at, size, color, anchor, bold):
            text.draw(string, at: at, size: size, color: color, anchor: anchor, bold: bold)
        case let .polyline(points, color, width, closed, fill, dash):
            guard let first = points.first else { return }
            cairo_move_to(cr, first.x, first.y)
            for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
            if closed { cairo_close_path(cr) }
            if let fill { setColor(cr, fill); cairo_fill_preserve(cr) }
            setColor(cr, color)
            cairo_set_line_width(cr, width)
            dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32(dash.count), 0) }
            cairo_stroke(cr)
            cairo_set_dash(cr, nil, 0, 0)
        case let .group(_, items):
            for i in items { try draw(i, cr, text, format) }
        }
    }

    /// Paints an RGBA raster with each pixel a `scale x scale` block.
    private static func drawImage(_ image: RasterImage, at origin: Point, scale: Int, _ cr: OpaquePointer) throws {
        guard let s = try imageSurface(image) else { return }
        defer { cairo_surface_destroy(s) }
        cairo_save(cr)
        cairo_translate(cr, origin.x, origin.y)
        cairo_scale(cr, Double(scale), Double(scale))
        cairo_set_source_surface(cr, s, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_rectangle(cr, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(cr)
        cairo_restore(cr)
    }

    /// A Cairo image surface holding `image` (the caller destroys it); nil for an empty image.
    private static func imageSurface(_ image: RasterImage) throws -> OpaquePointer? {
        guard image.width > 0, image.height > 0, let s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(image.width), Int32(image.height)) else { return nil }
        do { try CairoError.check(cairo_surface_status(s), "creating an image") } catch { cairo_surface_destroy(s); throw error }
        let stride = Int(cairo_image_surface_get_stride(s))
        let dst = cairo_image_surface_get_data(s)!
        // Cairo wants premultiplied, native-endian 0xAARRGGBB words.
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<image.height {
                let row = UnsafeMutableRawPointer(dst + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<image.width {
                    let o = 4 * (y * image.width + x)
                    let a = UInt32(src[o + 3])
                    if a == 255 {
                        row[x] = 0xFF00_0000 | UInt32(src[o]) << 16 | UInt32(src[o + 1]) << 8 | UInt32(src[o + 2])
                    } else {
                        let r = UInt32(src[o]) * a / 255, g = UInt32(src[o + 1]) * a / 255, b = UInt32(src[o + 2]) * a / 255
                        row[x] = a << 24 | r << 16 | g << 8 | b
                    }
                }
            }
        }
        cairo_surface_mark_dirty(s)
        return s
    }

    /// One item drawn for a palette (`CoverageQuantizer`): each fill, stroke and line of
    /// text on its own, its coverage rounded; a rectangle on whole pixels filled directly
    /// (its coverage is 0 or 1 already).
    private static func drawQuantized(_ item: Scene.Item, _ cr: OpaquePointer, _ text: TextRenderer, _ q: CoverageQuantizer) throws {
        switch item {
        case let .rect(r, fill, stroke, lineWidth):
            if let fill {
                if q.isPixelAligned(cr, r) && fill.a == 1 {
                    setColor(cr, fill)
                    cairo_rectangle(cr, r.x, r.y, r.width, r.height)
                    cairo_fill(cr)
                } else {
                    try q.paint(cr, fill, bounds: r) { cairo_rectangle(cr, r.x, r.y, r.width, r.height); cairo_fill(cr) }
                }
            }
            if let stroke {
                let m = lineWidth / 2 + 1
                try q.paint(cr, stroke, bounds: Rect(r.x - m, r.y - m, r.width + 2 * m, r.height + 2 * m)) {
                    cairo_rectangle(cr, r.x, r.y, r.width, r.height)
                    cairo_set_line_width(cr, lineWidth)
                    cairo_stroke(cr)
                }
            }
        case let .image(image, origin, scale):
            guard let s = try imageSurface(image) else { return }
            defer { cairo_surface_destroy(s) }
            q.image(cr, s, width: image.width, height: image.height, at: origin, scale: scale)
        case let .text(string, at, size, color, anchor, bold):
            // The line's box, with room for glyphs that reach past their advance.
            let (w, h) = text.measure(string, size: size, bold: bold)
            let x: Double = switch anchor { case .start: at.x; case .middle: at.x - w / 2; case .end: at.x - w }
            try q.paint(cr, color, bounds: Rect(x - size, at.y - h / 2 - size, w + 2 * size, h + 2 * size)) {
                text.draw(string, at: at, size: size, color: .black, anchor: anchor, bold: bold)
            }
        case let .polyline(points, color, width, closed, fill, dash):
            guard !points.isEmpty else { return }
            let xs = points.map(\.x), ys = points.map(\.y)
            let path = {
                cairo_move_to(cr, points[0].x, points[0].y)
                for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
                if closed { cairo_close_path(cr) }
            }
            if let fill {
                try q.paint(cr, fill, bounds: Rect(xs.min()!, ys.min()!, xs.max()! - xs.min()!, ys.max()! - ys.min()!)) { path(); cairo_fill(cr) }
            }
            // Room for the stroke's half width and its mitred corners.
            let m = 5 * width + 1
            try q.paint(cr, color, bounds: Rect(xs.min()! - m, ys.min()! - m, xs.max()! - xs.min()! + 2 * m, ys.max()! - ys.min()! + 2 * m)) {
                path()
                cairo_set_line_width(cr, width)
                dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32(dash.count), 0) }
                cairo_stroke(cr)
            }
        case let .group(_, items):
            for i in items { try drawQuantized(i, cr, text, q) }
        }
    }
}
