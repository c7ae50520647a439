import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's files replaced together: each file is written whole into
/// `.convviz-staging/` in the run directory, then a commit record (`COMMIT`, written
/// atomically: the commit point) lists what moves into place and what is removed, then
/// each staged file is renamed over its target. A process killed before the commit point
/// leaves the previous files untouched (the staging folder is dropped by the next run);
/// one killed during the renames is finished by the next run to open the directory, so
/// checkpoint, optimizer state and metrics never come from two different runs.
struct RunStaging {
    static let folderName = ".convviz-staging"
    static let commitName = "COMMIT"
    let run: URL
    var folder: URL { run.appendingPathComponent(Self.folderName, isDirectory: true) }

    /// Writes `data` as the next version of the run's file `name` (not yet visible).
    func stage(_ name: String, _ data: Data) throws {
        try AtomicFile.write(data, to: folder.appendingPathComponent(name), replacingInput: true)
    }

    /// The names staged so far.
    var staged: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") && $0 != Self.commitName }.sorted()
    }

    /// Moves every staged file into place and removes `removing`, as one step.
    func commit(removing: [String]) throws {
        let moving = staged
        for name in moving { try FaultInjection.check("before-commit", run.appendingPathComponent(name)) }
        let record = try JSONSerialization.data(withJSONObject: ["move": moving, "remove": removing], options: [.sortedKeys])
        try AtomicFile.write(record, to: folder.appendingPathComponent(Self.commitName), replacingInput: true)
        try apply(moving: moving, removing: removing)
    }

    /// Finishes a commit that was interrupted after its commit point, and drops files
    /// staged by a run that never committed them.
    func recover() throws {
        let record = folder.appendingPathComponent(Self.commitName)
        if let data = try? Data(contentsOf: record),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String]] {
            try apply(moving: object["move"] ?? [], removing: object["remove"] ?? [])
        } else if FileManager.default.fileExists(atPath: folder.path) {
            try? FileManager.default.removeItem(at: folder)
        }
    }

    private func apply(moving: [String], removing: [String]) throws {
        for name in moving where !name.contains("/") {
            let source = folder.appendingPathComponent(name).path, target = run.appendingPathComponent(name).path
            // Already moved by an interrupted commit: nothing left to do for this file.
            guard access(source, F_OK) == 0 else { continue }
            guard rename(source, target) == 0 else {
                throw WriteError(file: target, message: "cannot move the run's new file into place: \(String(cString: strerror(errno)))")
            }
        }
        for name in removing where !name.contains("/") { unlink(run.appendingPathComponent(name).path) }
        let fd = open(run.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        try? FileManager.default.removeItem(at: folder)
    }
}
