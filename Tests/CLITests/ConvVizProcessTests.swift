import ConvVizCore
import Foundation
import XCTest

/// The harness every CLI test runs `convviz` through.
final class ConvVizProcessTests: XCTestCase {
    /// A child that writes 200 KB to stderr and 100 KB to stdout (more than a pipe holds,
    /// on both) is read to the end; with one stream read after the other it would block
    /// on a full pipe for ever. The child is killed after 30 s, so a hang fails the test.
    func testReadsBothStreamsWhateverTheirSize() throws {
        let pidFile = CLIFiles.temporaryDirectory("harness").appendingPathComponent("child.pid")
        let script = "echo $$ > '\(pidFile.path)'; head -c 200000 /dev/zero | tr '\\0' e >&2; head -c 100000 /dev/zero | tr '\\0' o; echo done >&2"
        let finished = DispatchSemaphore(value: 0)
        let result = Box()
        Thread.detachNewThread {
            result.run = try? ConvVizProcess.run(["-c", script], executable: URL(fileURLWithPath: "/bin/sh"))
            finished.signal()
        }
        if finished.wait(timeout: .now() + 30) == .timedOut {
            if let pid = Int32((try? String(contentsOf: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") { kill(pid, SIGKILL) }
            _ = finished.wait(timeout: .now() + 10)
            XCTFail("the harness did not return within 30 s (a full pipe it was not reading)")
            return
        }
        let run = try XCTUnwrap(result.run)
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(run.stderr.count, 200_005)
        XCTAssert(run.stderr.hasPrefix("eeee") && run.stderr.hasSuffix("eedone\n"))
        XCTAssertEqual(run.stdout, String(repeating: "o", count: 100_000))
    }

    /// Children multiply with the test process's OpenBLAS kernel unless a test says
    /// otherwise; a nil value removes a variable.
    func testChildrenGetTheTestProcessKernel() {
        let env = ConvVizProcess.environment([:])
        XCTAssertEqual(env["OPENBLAS_CORETYPE"], ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? BLAS.coreName)
        XCTAssertNil(ConvVizProcess.environment(["OPENBLAS_CORETYPE": nil])["OPENBLAS_CORETYPE"])
        XCTAssertEqual(ConvVizProcess.environment(["OPENBLAS_CORETYPE": "Zen"])["OPENBLAS_CORETYPE"], "Zen")
    }

    private final class Box: @unchecked Sendable { var run: ConvVizProcess.Run? }
}
