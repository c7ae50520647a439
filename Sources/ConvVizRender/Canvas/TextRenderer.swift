import CCairo
import CPango

/// Draws text through PangoCairo, so labels in any script (CJK included) shape and
/// fall back across fonts correctly. Sizes are absolute, in points.
final class TextRenderer {
    private let cr: OpaquePointer
    private let layout: OpaquePointer

    /// Font descriptions by (size, bold): parsing one per label is measurable.
    private var fonts: [String: OpaquePointer] = [:]
    private var current: (text: String, font: String)?

    init(_ cr: OpaquePointer) {
        self.cr = cr
        layout = pango_cairo_create_layout(cr)
    }

    deinit {
        for f in fonts.values { pango_font_description_free(f) }
        g_object_unref(UnsafeMutableRawPointer(layout))
    }

    /// Width and height of `text` at `size`.
    func measure(_ text: String, size: Double, bold: Bool = false) -> (width: Double, height: Double) {
        configure(text, size: size, bold: bold)
        var ink = PangoRectangle(), logical = PangoRectangle()
        pango_layout_get_pixel_extents(layout, &ink, &logical)
        return (Double(logical.width), Double(logical.height))
    }

    /// Draws one line of `text`: `at.y` is the line's vertical centre, and `anchor` says
    /// whether `at.x` is its start, middle or end.
    func draw(_ text: String, at: Point, size: Double, color: Color, anchor: Scene.TextAnchor, bold: Bool) {
        let (w, h) = measure(text, size: size, bold: bold)
        let x: Double = switch anchor { case .start: at.x; case .middle: at.x - w / 2; case .end: at.x - w }
        Canvas.setColor(cr, color)
        cairo_move_to(cr, x, at.y - h / 2)
        pango_cairo_update_layout(cr, layout)
        pango_cairo_show_layout(cr, layout)
        cairo_new_path(cr)
    }

    private func configure(_ text: String, size: Double, bold: Bool) {
        let key = "\(size)-\(bold)"
        if let current, current.text == text, current.font == key { return }
        let desc: OpaquePointer
        if let cached = fonts[key] { desc = cached } else {
            desc = pango_font_description_from_string(Canvas.fontFamilies)
            pango_font_description_set_absolute_size(desc, size * Double(PANGO_SCALE))
            pango_font_description_set_weight(desc, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
            fonts[key] = desc
        }
        if current?.font != key { pango_layout_set_font_description(layout, desc) }
        pango_layout_set_text(layout, text, -1)
        current = (text, key)
    }
}
