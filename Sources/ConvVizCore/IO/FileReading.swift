import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading whole files with a typed error that names the file.
///
/// Only regular files are read: a FIFO would block forever and `/dev/zero` never ends,
/// so both are refused by kind before any byte is read. Every file read is noted in
/// `InputFiles`, so that a later write over it is refused (`AtomicFile`).
public enum FileReading {
    public static func read(_ url: URL) throws -> Data {
        try checkRegularFile(url)
        InputFiles.note(url)
        do { return try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ReadError(url.path, .unsupported, "cannot read: \(reason(error))")
        }
    }

    /// Reads the file after checking its size against `maxBytes`, so an oversized file is
    /// refused before any of it is read.
    public static func read(_ url: URL, maxBytes: Int, what: String = "file") throws -> Data {
        try checkSize(url, maxBytes: maxBytes, what: what)
        return try read(url)
    }

    /// Throws, naming the file, unless it is a regular file of at most `maxBytes`.
    public static func checkSize(_ url: URL, maxBytes: Int, what: String = "file") throws {
        let size = try checkRegularFile(url)
        if size > Int64(maxBytes) {
            throw ReadError(url.path, .tooLarge, "\(what) is \(size) bytes, more than the limit of \(maxBytes)")
        }
    }

    /// Up to `count` leading bytes (for recognising a format without reading the file).
    public static func head(_ url: URL, count: Int = 64) throws -> Data {
        try checkRegularFile(url)
        InputFiles.note(url)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw ReadError(url.path, .unsupported, "cannot open: \(String(cString: strerror(errno)))") }
        defer { try? handle.close() }
        do { return try handle.read(upToCount: count) ?? Data() } catch {
            throw ReadError(url.path, .unsupported, "cannot read: \(reason(error))")
        }
    }

    /// The size of a regular file; throws, naming the file, for a missing path or anything
    /// that is not a regular file (a directory, FIFO, socket or device).
    @discardableResult
    public static func checkRegularFile(_ url: URL) throws -> Int64 {
        var s = stat()
        guard stat(url.path, &s) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw ReadError(url.path, .notFound, "no such file") }
            throw ReadError(url.path, .unsupported, "cannot read: \(String(cString: strerror(errno)))")
        }
        let kind: String
        switch s.st_mode & S_IFMT {
        case S_IFREG: return Int64(s.st_size)
        case S_IFDIR: kind = "a directory"
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFCHR, S_IFBLK: kind = "a device"
        case S_IFSOCK: kind = "a socket"
        default: kind = "a special file"
        }
        throw ReadError(url.path, .unsupported, "is \(kind), not a regular file; ConvViz reads files it can measure before reading")
    }

    /// The system's reason for a failed read or write, in one line: the POSIX message
    /// when there is one, else a phrase for Foundation's file error codes (never
    /// "The operation could not be completed. (NSCocoaErrorDomain error 512.)").
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if ns.domain == NSCocoaErrorDomain, let phrase = cocoaPhrases[ns.code] { return phrase }
        return OneLine.escaped(ns.localizedFailureReason ?? ns.localizedDescription)
    }

    private static let cocoaPhrases: [Int: String] = [
        4: "no such file or directory", 260: "no such file or directory", 256: "cannot read the file",
        257: "permission denied", 513: "permission denied", 261: "not valid text in its encoding",
        512: "cannot write there (a parent is not a folder, or the file system refused)", 516: "a file of that name already exists",
        640: "no space left on the device", 642: "the file system is read-only", 3840: "not valid JSON",
    ]
}
