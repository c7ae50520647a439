import Foundation

/// Reading whole files with a typed error that names the file.
public enum FileReading {
    public static func read(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ReadError(url.path, .notFound, "no such file") }
        do { return try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ReadError(url.path, .unsupported, "cannot read: \(error.localizedDescription)")
        }
    }

    /// Reads the file after checking its size against `maxBytes`, so an oversized file is
    /// refused before any of it is read.
    public static func read(_ url: URL, maxBytes: Int, what: String = "file") throws -> Data {
        if let size = try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber, size.int64Value > Int64(maxBytes) {
            throw ReadError(url.path, .tooLarge, "\(what) is \(size.int64Value) bytes, more than the limit of \(maxBytes)")
        }
        return try read(url)
    }

    /// Up to `count` leading bytes (for recognising a format without reading the file).
    public static func head(_ url: URL, count: Int = 64) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ReadError(url.path, .notFound, "no such file") }
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw ReadError(url.path, .unsupported, "cannot read") }
        defer { try? handle.close() }
        do { return try handle.read(upToCount: count) ?? Data() } catch {
            throw ReadError(url.path, .unsupported, "cannot read: \(error.localizedDescription)")
        }
    }
}
