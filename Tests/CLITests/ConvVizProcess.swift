import ConvVizCore
import Foundation

/// Runs the `convviz` built beside the test bundle (`.build/<triple>/debug/`).
///
/// Every child multiplies with the test process's OpenBLAS kernel: `OPENBLAS_CORETYPE`
/// is set to it unless a test sets the variable itself, so that numbers computed here
/// and in a child round alike on any CPU (on one OpenBLAS does not recognise, the test
/// process runs the generic kernels and `convviz` alone would choose better ones).
enum ConvVizProcess {
    static var executable: URL {
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle.appendingPathComponent("convviz"), bundle.deletingLastPathComponent().appendingPathComponent("convviz")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    private final class Marker {}

    struct Run { let status: Int32; let stdout: String; let stderr: String }

    /// The environment of a child: this process's, the test process's kernel, then
    /// `changes` (a nil value removes the variable).
    static func environment(_ changes: [String: String?]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = env["OPENBLAS_CORETYPE"] ?? BLAS.coreName
        for (name, value) in changes { env[name] = value }
        return env
    }

    /// Runs to completion and captures both streams. They are read at the same time: a
    /// child that fills one pipe (64 KB) while the other is being read to its end would
    /// otherwise wait for ever, and so would the test.
    @discardableResult
    static func run(_ args: [String], environment: [String: String?] = [:], executable: URL? = nil) throws -> Run {
        let p = Process()
        p.executableURL = executable ?? Self.executable
        p.arguments = args
        p.environment = Self.environment(environment)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stderr = Drained(err.fileHandleForReading)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = stderr.wait()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Starts without waiting (for interruption tests); output is discarded.
    static func start(_ args: [String], environment: [String: String?] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.environment = Self.environment(environment)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// A pipe read to its end on a thread of its own.
    private final class Drained: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
