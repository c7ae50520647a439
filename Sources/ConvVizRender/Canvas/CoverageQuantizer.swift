import CCairo
import Foundation

/// Draws a raster for a palette: a few blend levels between the colours that meet.
///
/// Cairo antialiases every edge: a pixel a shape covers by a fraction c becomes
/// dst + (src - dst)·c, for 256 values of c, so antialiased text in several colours gives
/// a frame thousands of colours. Here each paint operation (one fill, one stroke, one
/// line of text) is drawn by Cairo as a coverage mask only, and composited here with its
/// coverage rounded to L levels, L chosen per pixel from the contrast of the two colours
/// that meet there, Δ (the largest channel difference, 0-255), so that the rounding moves
/// a channel by at most `tolerance`: L = ⌈Δ·α / (2·tolerance)⌉ (α the colour's opacity).
/// So
/// - a pixel an opaque colour covers fully is that colour exactly, as Cairo draws it (the
///   figure's flat colours are exact; a translucent colour's full cover is the blend
///   dst + (src - dst)·α, within 1 of Cairo's);
/// - an edge pixel is one of L - 1 blends of the two colours that meet, within
///   `tolerance` + 1 of Cairo's blend in every channel (+1: Cairo's own 8-bit rounding),
///   2·`tolerance` + 1 where two edges overlap (both roundings add);
/// - black text on white (Δ = 255) keeps ⌈255 / (2·tolerance)⌉ levels, a light grid line
///   on a light fill one or two.
/// Images keep their pixels and are placed on whole device pixels (no blended border).
final class CoverageQuantizer {
    /// Largest change in a channel (0-255) that rounding the coverage may make.
    let tolerance: Int

    init(tolerance: Int) {
        precondition(tolerance >= 1)
        self.tolerance = tolerance
    }

    /// A colour's 8-bit channels as Cairo's image backend stores it: each component to
    /// 16 bits (x·65535 + 0.5, truncated), then the high byte.
    static func bytes(_ c: Color) -> (r: Int, g: Int, b: Int) {
        func byte(_ v: Double) -> Int { Int(UInt16(max(0, min(1, v)) * 65535 + 0.5) >> 8) }
        return (byte(c.r), byte(c.g), byte(c.b))
    }

    /// Paints `colour` where `shape` (a path filled or stroked, or text shown, with the
    /// current source) covers, inside `bounds` (user space; anything outside is cut off).
    func paint(_ cr: OpaquePointer, _ colour: Color, bounds: Rect, shape: () throws -> Void) throws {
        guard colour.a > 0, let box = deviceBox(cr, bounds) else { return }
        cairo_save(cr)
        clip(cr, box)
        cairo_push_group_with_content(cr, CAIRO_CONTENT_ALPHA)
        cairo_set_source_rgba(cr, 0, 0, 0, 1)
        try shape()
        guard let mask = cairo_pop_group(cr) else { cairo_restore(cr); throw CairoError(operation: "a coverage mask", status: CAIRO_STATUS_NO_MEMORY) }
        defer { cairo_pattern_destroy(mask) }
        cairo_restore(cr)
        try CairoError.check(cairo_pattern_status(mask), "a coverage mask")
        var group: OpaquePointer?
        try CairoError.check(cairo_pattern_get_surface(mask, &group), "reading a coverage mask")
        guard let group, cairo_surface_get_type(group) == CAIRO_SURFACE_TYPE_IMAGE, cairo_image_surface_get_format(group) == CAIRO_FORMAT_A8,
              let target = cairo_get_target(cr), cairo_image_surface_get_format(target) == CAIRO_FORMAT_RGB24 else {
            throw CairoError(operation: "a coverage mask (not an 8-bit image)", status: CAIRO_STATUS_SURFACE_TYPE_MISMATCH)
        }
        cairo_surface_flush(group)
        cairo_surface_flush(target)
        var dx = 0.0, dy = 0.0
        cairo_surface_get_device_offset(group, &dx, &dy)
        let (mw, mh) = (Int(cairo_image_surface_get_width(group)), Int(cairo_image_surface_get_height(group)))
        let maskStride = Int(cairo_image_surface_get_stride(group)), stride = Int(cairo_image_surface_get_stride(target))
        let (tw, th) = (Int(cairo_image_surface_get_width(target)), Int(cairo_image_surface_get_height(target)))
        guard let maskData = cairo_image_surface_get_data(group), let data = cairo_image_surface_get_data(target) else { return }
        let src = Self.bytes(colour), alpha = max(0, min(1, colour.a))
        let (ox, oy) = (Int(dx.rounded()), Int(dy.rounded()))
        let twice = 2 * Double(tolerance)
        for y in max(0, box.y0)..<min(th, box.y1) {
            let my = y + oy
            guard my >= 0, my < mh else { continue }
            let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in max(0, box.x0)..<min(tw, box.x1) {
                let mx = x + ox
                guard mx >= 0, mx < mw else { continue }
                let m = Int(maskData[my * maskStride + mx])
                guard m > 0 else { continue }
                let p = row[x]
                let d = (r: Int(p >> 16 & 255), g: Int(p >> 8 & 255), b: Int(p & 255))
                let delta = max(abs(src.r - d.r), abs(src.g - d.g), abs(src.b - d.b))
                guard delta > 0 else { continue }
                // Coverage rounded to L levels; then the colour's opacity.
                let levels = max(1, (Double(delta) * alpha / twice).rounded(.up))
                let t = (Double(m) / 255 * levels).rounded() / levels * alpha
                guard t > 0 else { continue }
                func mix(_ s: Int, _ d: Int) -> UInt32 { UInt32(d + Int((Double(s - d) * t).rounded())) }
                row[x] = mix(src.r, d.r) << 16 | mix(src.g, d.g) << 8 | mix(src.b, d.b)
            }
        }
        cairo_surface_mark_dirty_rectangle(target, Int32(box.x0), Int32(box.y0), Int32(box.x1 - box.x0), Int32(box.y1 - box.y0))
    }

    /// Whether `r` lies on whole device pixels (its fill covers each pixel fully or not at all).
    func isPixelAligned(_ cr: OpaquePointer, _ r: Rect) -> Bool {
        var (x0, y0, x1, y1) = (r.x, r.y, r.maxX, r.maxY)
        cairo_user_to_device(cr, &x0, &y0)
        cairo_user_to_device(cr, &x1, &y1)
        return [x0, y0, x1, y1].allSatisfy { abs($0 - $0.rounded()) < 1e-9 }
    }

    /// An image with its corners rounded to whole device pixels and each of its pixels a
    /// block (nearest neighbour), so that its border blends with nothing.
    func image(_ cr: OpaquePointer, _ surface: OpaquePointer, width: Int, height: Int, at origin: Point, scale: Int) {
        var (x0, y0, x1, y1) = (origin.x, origin.y, origin.x + Double(width * scale), origin.y + Double(height * scale))
        cairo_user_to_device(cr, &x0, &y0)
        cairo_user_to_device(cr, &x1, &y1)
        let (rx0, ry0, rx1, ry1) = (x0.rounded(), y0.rounded(), x1.rounded(), y1.rounded())
        guard rx1 > rx0, ry1 > ry0 else { return }
        cairo_save(cr)
        cairo_identity_matrix(cr)
        cairo_rectangle(cr, rx0, ry0, rx1 - rx0, ry1 - ry0)
        cairo_clip(cr)
        cairo_translate(cr, rx0, ry0)
        cairo_scale(cr, (rx1 - rx0) / Double(width), (ry1 - ry0) / Double(height))
        cairo_set_source_surface(cr, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD)
        cairo_paint(cr)
        cairo_restore(cr)
    }

    struct Box { let x0: Int, y0: Int, x1: Int, y1: Int }

    /// `bounds` in device pixels, rounded outward; nil when empty.
    private func deviceBox(_ cr: OpaquePointer, _ bounds: Rect) -> Box? {
        var xs = [bounds.x, bounds.maxX, bounds.x, bounds.maxX], ys = [bounds.y, bounds.y, bounds.maxY, bounds.maxY]
        for i in 0..<4 { cairo_user_to_device(cr, &xs[i], &ys[i]) }
        let box = Box(x0: Int(xs.min()!.rounded(.down)), y0: Int(ys.min()!.rounded(.down)), x1: Int(xs.max()!.rounded(.up)), y1: Int(ys.max()!.rounded(.up)))
        return box.x1 > box.x0 && box.y1 > box.y0 ? box : nil
    }

    /// Clips to a device-pixel box (no antialiasing: its sides are whole pixels).
    private func clip(_ cr: OpaquePointer, _ box: Box) {
        var matrix = cairo_matrix_t()
        cairo_get_matrix(cr, &matrix)
        cairo_identity_matrix(cr)
        cairo_new_path(cr)
        cairo_rectangle(cr, Double(box.x0), Double(box.y0), Double(box.x1 - box.x0), Double(box.y1 - box.y0))
        cairo_clip(cr)
        cairo_set_matrix(cr, &matrix)
    }
}
