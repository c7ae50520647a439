import CCairo

/// A Cairo call that failed, with Cairo's own explanation. The C status stays inside
/// this module: callers see what failed and why, not a C type.
public struct CairoError: Error, CustomStringConvertible {
    public let operation: String
    /// Cairo's explanation of the failure (`cairo_status_to_string`).
    public let reason: String
    public var description: String { "\(operation) failed: \(reason)" }

    init(operation: String, status: cairo_status_t) {
        self.operation = operation
        reason = String(cString: cairo_status_to_string(status))
    }

    /// The one place a Cairo status becomes a Swift error.
    static func check(_ status: cairo_status_t, _ operation: String) throws {
        if status != CAIRO_STATUS_SUCCESS { throw CairoError(operation: operation, status: status) }
    }
}
