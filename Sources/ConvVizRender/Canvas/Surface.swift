import CCairo
import ConvVizCore
import Foundation

/// Owns one Cairo surface (destroyed in `deinit`) and, for vector formats, the bytes
/// Cairo streams out.
final class Surface {
    let handle: OpaquePointer
    let format: OutputFormat
    private let sink: ByteSink?

    /// Collects what Cairo writes through its stream callback.
    final class ByteSink { var data = Data() }

    init(format: OutputFormat, width: Double, height: Double) throws {
        self.format = format
        let sink = format == .png ? nil : ByteSink()
        self.sink = sink
        let write: cairo_write_func_t = { closure, bytes, length in
            let sink = Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue()
            sink.data.append(bytes!, count: Int(length))
            return CAIRO_STATUS_SUCCESS
        }
        let surface: OpaquePointer?
        switch format {
        case .png:
            // Figures are opaque: RGB24 lets the PNG skip an alpha channel.
            surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width.rounded(.up)), Int32(height.rounded(.up)))
        case .svg:
            surface = cairo_svg_surface_create_for_stream(write, Unmanaged.passUnretained(sink!).toOpaque(), width, height)
        case .pdf:
            surface = cairo_pdf_surface_create_for_stream(write, Unmanaged.passUnretained(sink!).toOpaque(), width, height)
        }
        guard let surface else { throw CairoError(operation: "creating a \(format) surface", status: CAIRO_STATUS_NO_MEMORY) }
        let status = cairo_surface_status(surface)
        if status != CAIRO_STATUS_SUCCESS {
            cairo_surface_destroy(surface)
            throw CairoError(operation: "creating a \(format) surface", status: status)
        }
        handle = surface
        if format == .pdf {
            // Same bytes for the same figure: no creation date in the document.
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "")
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "ConvViz")
        }
    }

    deinit { cairo_surface_destroy(handle) }

    /// The image surface's pixels as 8-bit RGB, row-major (PNG surfaces only).
    func rgbPixels() throws -> (rgb: [UInt8], width: Int, height: Int) {
        let (words, width, height) = try words()
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for (i, p) in words.enumerated() {
                out[3 * i] = UInt8(truncatingIfNeeded: p >> 16); out[3 * i + 1] = UInt8(truncatingIfNeeded: p >> 8); out[3 * i + 2] = UInt8(truncatingIfNeeded: p)
            }
        }
        return (rgb, width, height)
    }

    /// The image surface's pixels as 0xRRGGBB words, row-major (PNG surfaces only).
    func words() throws -> (words: [UInt32], width: Int, height: Int) {
        precondition(format == .png, "only an image surface has pixels")
        cairo_surface_flush(handle)
        try CairoError.check(cairo_surface_status(handle), "drawing")
        let width = Int(cairo_image_surface_get_width(handle)), height = Int(cairo_image_surface_get_height(handle))
        let stride = Int(cairo_image_surface_get_stride(handle))
        let src = cairo_image_surface_get_data(handle)!
        // Cairo's RGB24 pixels are native-endian 0x00RRGGBB words.
        var words = [UInt32](repeating: 0, count: width * height)
        words.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = UnsafeRawPointer(src + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<width { out[y * width + x] = row[x] & 0xFF_FFFF }
            }
        }
        return (words, width, height)
    }

    /// Finishes the document and returns its bytes.
    func finish() throws -> Data {
        switch format {
        case .png:
            let (rgb, width, height) = try rgbPixels()
            return try PNGEncoder.encodeRGB(rgb, width: width, height: height)
        case .svg, .pdf:
            cairo_surface_finish(handle)
            try CairoError.check(cairo_surface_status(handle), "finishing \(format)")
            return sink!.data
        }
    }
}
