import ArgumentParser
import ConvVizCore
import Foundation

/// An error as the one line `convviz` prints: our errors' own descriptions (which name
/// the file; a shape error gets the command's first input file), a Foundation error reduced to its file and reason instead of its
/// `NSCocoaErrorDomain Code=...` dump, and every control character escaped so that a
/// file name with a newline cannot split the line.
struct ErrorLine: Error, CustomStringConvertible {
    let description: String

    init(_ error: Error) {
        description = OneLine.escaped(Self.text(error))
    }

    /// ArgumentParser's own errors keep its handling (usage, help, exit codes), including
    /// its internal ones (a subcommand's `--help` arrives from `run()` as one).
    static func passesThrough(_ error: Error) -> Bool {
        error is ExitCode || error is CleanExit || error is ValidationError || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    private static func text(_ error: Error) -> String {
        // A layer's shape error says which layer, not which file: name the command's first
        // input (the architecture, checkpoint or model it read).
        if error is ShapeError || error is ArchitectureError, let input = InputFiles.paths.first {
            return "\(input): \(error)"
        }
        if !isBridged(error) {
            return String(describing: error)
        }
        let ns = error as NSError
        let file = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let reason = FileReading.reason(error)
        return file.map { "\($0): \(reason)" } ?? reason
    }

    /// Whether `error` is a Foundation (Cocoa or POSIX) error rather than one of ours.
    private static func isBridged(_ error: Error) -> Bool {
        error is CocoaError || error is POSIXError || (error as NSError).domain == NSCocoaErrorDomain || (error as NSError).domain == NSPOSIXErrorDomain
    }
}
