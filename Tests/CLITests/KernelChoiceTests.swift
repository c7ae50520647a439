import ConvVizCore
import Foundation
import XCTest

/// Every `convviz` process picks the same OpenBLAS kernels, and trained files record
/// them with the CPU and OpenBLAS's version (`BLAS.machine`).
final class KernelChoiceTests: XCTestCase {
    func kernel(_ environment: [String: String?]) throws -> String {
        let r = try ConvVizProcess.run(["--version"], environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let match = try XCTUnwrap(r.stdout.range(of: #"kernel [A-Za-z0-9]+"#, options: .regularExpression), r.stdout)
        XCTAssert(r.stdout.hasPrefix("convviz ") && r.stdout.contains("OpenBLAS \(BLAS.version)") && r.stdout.contains("CPU \(BLAS.cpuModel())"), r.stdout)
        return String(r.stdout[match].dropFirst("kernel ".count))
    }

    /// A child runs the kernels it is told to; left to itself, it never keeps OpenBLAS's
    /// generic SSE3 kernels on a CPU with AVX2 and FMA (every command, not only those
    /// that train: `--version` is not a command at all).
    func testEveryProcessRunsTheChosenKernels() throws {
        XCTAssertEqual(try kernel([:]), BLAS.coreName, "the harness passes the test process's kernel")
        XCTAssertEqual(try kernel(["OPENBLAS_CORETYPE": "Prescott"]), "Prescott", "a user's choice stands")
        let chosen = try kernel(["OPENBLAS_CORETYPE": nil])
        let flags = (try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        if Set(flags.split(separator: " ")).isSuperset(of: ["avx2", "fma"]) { XCTAssertNotEqual(chosen, "Prescott") }
    }

    /// `summary.json` and the checkpoint's metadata name the CPU, OpenBLAS's version and
    /// the kernel the run multiplied with.
    func testTrainedFilesRecordTheMachine() throws {
        let dir = CLIFiles.temporaryDirectory("machine")
        let arch = dir.appendingPathComponent("a.json")
        try #"{"name": "m", "input": [3, 8, 8], "layers": [{"type": "conv", "out": 2, "kernel": 3}, {"type": "flatten"}, {"type": "linear", "out": 7}]}"#
            .write(to: arch, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let r = try ConvVizProcess.run(["train", "--data", "samples", "--arch", arch.path, "--max-steps", "2", "--batch", "8", "--overwrite", "--out", run.path],
                                       environment: ["OPENBLAS_CORETYPE": "Sandybridge"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let expected = ["cpu": BLAS.cpuModel(), "openblas_version": BLAS.version, "openblas_kernel": "Sandybridge"]
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json"))) as? [String: Any])
        XCTAssertEqual(summary["machine"] as? [String: String], expected)
        let checkpoint = try SafeTensorsFile(contentsOf: run.appendingPathComponent("checkpoint.safetensors"))
        let recorded = try XCTUnwrap(checkpoint.metadata[Checkpoint.machineKey])
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(recorded.utf8)) as? [String: String], expected)
        XCTAssertNotEqual(BLAS.version, "unknown")
    }
}
