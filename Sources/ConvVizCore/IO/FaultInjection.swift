import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A test hook: a fault injected at a named point of a write, so tests can prove that
/// the previous file (or run) survives a failure exactly between writing and renaming,
/// which a kill at a random time rarely hits.
///
/// Set `CONVVIZ_FAULT=POINT:NAME[:exit|:stop]` in the environment, e.g.
/// `before-rename:checkpoint.safetensors` (a write error, thrown),
/// `before-commit:summary.json:exit` (the process ends at once with status 86, as a kill
/// would, leaving its temporary files) or `before-rename:mosaic.png:stop` (the process
/// stops itself with SIGSTOP, so that a test can SIGKILL it exactly inside the window;
/// continued, it carries on). Points: `before-rename` (AtomicFile, after the bytes are
/// written and flushed) and `before-commit` (RunDirectory, after a run's files are
/// staged). Unset, every check is one `getenv`.
public enum FaultInjection {
    public static let variable = "CONVVIZ_FAULT"
    public static let exitStatus: Int32 = 86

    /// Throws (or exits) when the environment asks for a fault at `point` for the file
    /// named like `url`.
    static func check(_ point: String, _ url: URL) throws {
        guard let raw = getenv(variable) else { return }
        let parts = String(cString: raw).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts[0] == point, parts[1] == url.lastPathComponent else { return }
        if parts.count >= 3, parts[2] == "exit" { _exit(exitStatus) }
        if parts.count >= 3, parts[2] == "stop" { raise(SIGSTOP); return }
        throw WriteError(file: url.path, message: "injected fault at \(point) (\(variable))")
    }
}
