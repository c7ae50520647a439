import ConvVizCore
import Foundation

/// `--arch small` or a JSON file.
enum ArchitectureLoading {
    static func load(_ spec: String) throws -> Architecture {
        if spec == "small" { return .smallConvNet() }
        let url = URL(fileURLWithPath: spec)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ReadError(spec, .notFound, "no such architecture file (or use --arch small)")
        }
        do { return try Architecture(contentsOf: url) } catch let e as ArchitectureError {
            throw ReadError(spec, .corrupt, e.description)
        }
    }
}
