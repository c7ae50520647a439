import CCairo
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
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width.rounded(.up)), Int32(height.rounded(.up)))
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

    /// Finishes the document and returns its bytes.
    func finish() throws -> Data {
        switch format {
        case .png:
            cairo_surface_flush(handle)
            let sink = ByteSink()
            let status = cairo_surface_write_to_png_stream(handle, { closure, bytes, length in
                Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue().data.append(bytes!, count: Int(length))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque())
            try CairoError.check(status, "encoding PNG")
            return sink.data
        case .svg, .pdf:
            cairo_surface_finish(handle)
            try CairoError.check(cairo_surface_status(handle), "finishing \(format)")
            return sink!.data
        }
    }
}
