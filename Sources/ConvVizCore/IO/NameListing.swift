/// Names for an error message: all of a few, the first and last of many, so that a
/// 320-tensor model does not print a 10 KB line.
public enum NameListing {
    public static func abbreviated(_ names: [String], limit: Int = 16) -> String {
        guard names.count > limit else { return names.joined(separator: ", ") }
        return (names.prefix(limit / 2) + ["... (\(names.count - limit) more) ..."] + names.suffix(limit / 2)).joined(separator: ", ")
    }
}

extension Architecture {
    /// The layer names for a message about a name that was not found.
    public var layerListing: String { NameListing.abbreviated(layers.map { $0.name! }, limit: 24) }
}
