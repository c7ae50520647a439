import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a run directory (`.convviz.lock` in it), held while a process
/// writes the run: a second `train` (or `learn-filters`, `demo`, `compare-norms`) into the
/// same `--out` is refused with the first one's process id instead of both writing the
/// same files. Held for as long as the value lives.
///
/// The lock is `flock(2)`: the kernel releases it when the process ends however it ends
/// (even SIGKILL), so a lock file left by a killed run is no obstacle; its recorded pid
/// is only for the message.
public final class RunLock {
    static let fileName = ".convviz.lock"
    private let descriptor: Int32

    /// Another process holds the lock.
    struct Busy: Error, CustomStringConvertible {
        let folder: String
        let holder: String
        var description: String {
            "\(OneLine.escaped(folder)): another convviz (\(holder)) is writing this run directory; wait for it to finish or give another --out"
        }
    }

    /// Locks `folder` (which must exist), or throws `Busy` naming the holder.
    public init(folder: URL) throws {
        let path = folder.appendingPathComponent(Self.fileName).path
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw WriteError(file: path, message: "cannot create the run's lock file: \(String(cString: strerror(errno)))") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let failure = errno
                let holder = Self.holder(fd)
                close(fd)
                if failure == EWOULDBLOCK { throw Busy(folder: folder.path, holder: holder) }
                throw WriteError(file: path, message: "cannot lock the run directory: \(String(cString: strerror(failure)))")
            }
            // The file may have been removed (a failed run discarding its empty folder)
            // between our open and our lock: then lock the file that is there now.
            var opened = stat(), current = stat()
            if fstat(fd, &opened) == 0, stat(path, &current) == 0, opened.st_ino == current.st_ino, opened.st_dev == current.st_dev {
                descriptor = fd
                break
            }
            close(fd)
        }
        let record = "pid \(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = record.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// "pid 1234", as recorded by the holder.
    private static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = pread(fd, &buffer, buffer.count, 0)
        let text = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return text.hasPrefix("pid ") ? text : "pid unknown"
    }
}
