import CCairo
import CPango

/// The versions of the drawing libraries linked in (for manifests), so that only the
/// canvas's wrapper files import the C modules.
public enum DrawingLibraries {
    public static var cairo: String { String(cString: cairo_version_string()) }
    public static var pango: String { String(cString: pango_version_string()) }
}
