import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers never see a half-written one, and an interrupted run
/// never destroys the previous file of the same name.
///
/// On Linux the bytes go to an *unnamed* file in the target directory (`O_TMPFILE`),
/// which the kernel deletes if the process dies, even by SIGKILL; once complete and
/// flushed it is linked under a temporary name and renamed over the target in one step.
/// Elsewhere (or on file systems without `O_TMPFILE`) a hidden temporary file is used;
/// such files left by a killed process (`.NAME.tmp-PID-N` whose PID is gone) are removed
/// the next time the same file is written.
///
/// A write over a file this process has read is refused (`InputFiles`): a command never
/// replaces its own input. `replacingInput: true` is for a run that continues itself.
public enum AtomicFile {
    /// Whether two paths name the same existing file (same device and inode, so links
    /// and `./` spellings count): an output that would replace an input.
    public static func sameFile(_ a: URL, _ b: URL) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a.path, &sa) == 0, stat(b.path, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    public static func write(_ data: Data, to url: URL, replacingInput: Bool = false) throws {
        if !replacingInput, let input = InputFiles.readPath(of: url) {
            throw WriteError(file: url.path, message: input == url.path ? "is an input of this command; write to another file"
                                                                      : "is the input file \(input); write to another file")
        }
        let dir = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw WriteError(file: url.path, message: "cannot create the folder \(dir.path): \(FileReading.reason(error))")
        }
        removeStaleTemporaries(of: url)
        let temp = dir.appendingPathComponent("\(temporaryPrefix(of: url))\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        #if os(Linux)
        // O_TMPFILE (__O_TMPFILE | O_DIRECTORY), which Swift's Glibc module does not export.
        let tmpFile: Int32 = 0o20000000 | O_DIRECTORY
        let unnamed = open(dir.path, tmpFile | O_WRONLY | O_CLOEXEC, 0o644)
        if unnamed >= 0 {
            defer { close(unnamed) }
            try writeAll(data, fd: unnamed, path: url.path)
            guard linkat(AT_FDCWD, "/proc/self/fd/\(unnamed)", AT_FDCWD, temp.path, AT_SYMLINK_FOLLOW) == 0 else {
                throw error(url.path, "cannot link the finished file")
            }
            return try replace(url, with: temp)
        }
        #endif
        let fd = open(temp.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error(url.path, "cannot create a file in \(dir.path)") }
        do {
            defer { close(fd) }
            try writeAll(data, fd: fd, path: url.path)
        } catch {
            unlink(temp.path)
            throw error
        }
        try replace(url, with: temp)
    }

    public static func write(_ string: String, to url: URL, replacingInput: Bool = false) throws {
        try write(Data(string.utf8), to: url, replacingInput: replacingInput)
    }

    /// `.NAME.tmp-`: what a temporary file for `url` is called, before `PID-N`.
    static func temporaryPrefix(of url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// Removes temporary files of `url` whose writing process no longer exists (killed
    /// between writing and renaming); a live process's are left alone.
    public static func removeStaleTemporaries(of url: URL) {
        let dir = url.deletingLastPathComponent(), prefix = temporaryPrefix(of: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { unlink(dir.appendingPathComponent(name).path) }
        }
    }

    private static func replace(_ url: URL, with temp: URL) throws {
        do { try FaultInjection.check("before-rename", url) } catch {
            unlink(temp.path)
            throw error
        }
        guard rename(temp.path, url.path) == 0 else {
            unlink(temp.path)
            throw error(url.path, "cannot rename into place")
        }
    }

    private static func writeAll(_ data: Data, fd: Int32, path: String) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw error(path, "write failed") }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw error(path, "fsync failed") }
    }

    private static func error(_ path: String, _ what: String) -> WriteError {
        WriteError(file: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}

/// An output that could not be written.
public struct WriteError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(file: String, message: String) { self.file = file; self.message = message }
    public var description: String { "\(OneLine.escaped(file)): \(OneLine.escaped(message))" }
}
