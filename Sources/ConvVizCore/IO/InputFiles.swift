import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files this process has read, by device and inode, so that a write over one of
/// them is refused wherever a command reads and writes (`export ck.safetensors NAME -o
/// ck.safetensors`, a figure written over its input image): the class of mistake, not
/// one command's case. A run directory that continues itself opts out explicitly.
///
/// Off until `track()`: the `convviz` tool turns it on for each command; a program using
/// the library (or a test that reads a fixture and writes it back) is not affected.
public enum InputFiles {
    private struct Identity: Hashable { let device: UInt64; let inode: UInt64 }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var read: [Identity: String] = [:]
    nonisolated(unsafe) private static var order: [String] = []
    nonisolated(unsafe) private static var tracking = false

    /// From now on, files read are noted and writes over them refused.
    public static func track() {
        lock.lock(); defer { lock.unlock() }
        tracking = true
    }

    private static func identity(_ url: URL) -> Identity? {
        var s = stat()
        guard stat(url.path, &s) == 0 else { return nil }
        return Identity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino))
    }

    /// Records that `url` was read.
    public static func note(_ url: URL) {
        lock.lock(); defer { lock.unlock() }
        guard tracking, let id = identity(url) else { return }
        if read[id] == nil { read[id] = url.path; order.append(url.path) }
    }

    /// The path under which the file at `url` was read, when it was.
    public static func readPath(of url: URL) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard tracking, let id = identity(url) else { return nil }
        return read[id]
    }

    /// The paths read so far, in the order first read (for messages).
    public static var paths: [String] {
        lock.lock(); defer { lock.unlock() }
        return order
    }

    /// Forgets every file and stops tracking (for tests).
    public static func reset() {
        lock.lock(); defer { lock.unlock() }
        read.removeAll()
        order.removeAll()
        tracking = false
    }
}
