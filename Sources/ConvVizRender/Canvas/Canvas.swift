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
    public static func renderRaster(_ scene: Scene, pngScale: Double = 1) throws -> RasterImage {
        let surface = try Surface(format: .png, width: scene.width * pngScale, height: scene.height * pngScale)
        guard let cr = cairo_create(surface.handle) else { throw CairoError(operation: "cairo_create", status: CAIRO_STATUS_NO_MEMORY) }
        defer { cairo_destroy(cr) }
        try CairoError.check(cairo_status(cr), "cairo_create")
        if pngScale != 1 { cairo_scale(cr, pngScale, pngScale) }
        try drawPage(scene, cr, .png)
        let (rgb, width, height) = try surface.rgbPixels()
        var image = RasterImage(width: width, height: height)
        for i in 0..<(width * height) {
            image.pixels[4 * i] = rgb[3 * i]; image.pixels[4 * i + 1] = rgb[3 * i + 1]; image.pixels[4 * i + 2] = rgb[3 * i + 2]; image.pixels[4 * i + 3] = 255
        }
        return image
    }

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

    private static func drawPage(_ scene: Scene, _ cr: OpaquePointer, _ format: OutputFormat) throws {
        setColor(cr, scene.background)
        cairo_paint(cr)
        let text = TextRenderer(cr)
        for item in scene.items { try draw(item, cr, text, format) }
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
        guard let s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(image.width), Int32(image.height)) else { return }
        defer { cairo_surface_destroy(s) }
        try CairoError.check(cairo_surface_status(s), "creating an image")
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
        cairo_save(cr)
        cairo_translate(cr, origin.x, origin.y)
        cairo_scale(cr, Double(scale), Double(scale))
        cairo_set_source_surface(cr, s, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_rectangle(cr, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(cr)
        cairo_restore(cr)
    }
}
