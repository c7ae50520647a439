import CCairo

/// A Cairo call that failed, with Cairo's own explanation.
public struct CairoError: Error, CustomStringConvertible {
    public let operation: String
    public let status: cairo_status_t
    public var description: String { "\(operation) failed: \(String(cString: cairo_status_to_string(status)))" }

    /// The one place a Cairo status becomes a Swift error.
    static func check(_ status: cairo_status_t, _ operation: String) throws {
        if status != CAIRO_STATUS_SUCCESS { throw CairoError(operation: operation, status: status) }
    }
}
