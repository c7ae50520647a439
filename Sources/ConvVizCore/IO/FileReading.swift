import Foundation

/// Reading whole files with a typed error that names the file.
public enum FileReading {
    public static func read(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ReadError(url.path, .notFound, "no such file") }
        do { return try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ReadError(url.path, .unsupported, "cannot read: \(error.localizedDescription)")
        }
    }
}
