import ConvVizCore

/// Layer names for an error message: all of a small network's, the first and last few
/// of a large one's.
enum LayerListing {
    static func names(_ architecture: Architecture, limit: Int = 24) -> String {
        let names = architecture.layers.map { $0.name! }
        guard names.count > limit else { return names.joined(separator: ", ") }
        return (names.prefix(limit / 2) + ["... (\(names.count - limit) more) ..."] + names.suffix(limit / 2)).joined(separator: ", ")
    }
}
