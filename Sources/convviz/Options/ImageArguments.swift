import ArgumentParser

/// A picture size on the command line: `N` (square) or `HxW`, sides 1 to 8192.
struct ImageSize: ExpressibleByArgument {
    var height: Int, width: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ (1...8192).contains($0 ?? 0) }) else { return nil }
        height = parts[0]!
        width = parts.last!!
    }
}

/// One number per channel, comma-separated (`0.485,0.456,0.406`), all finite.
struct ChannelValues: ExpressibleByArgument {
    var values: [Float]

    init?(argument: String) {
        let parsed = argument.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0?.isFinite == true }) else { return nil }
        values = parsed.map { $0! }
    }
}
