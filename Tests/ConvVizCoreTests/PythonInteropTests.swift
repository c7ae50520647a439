import Foundation
import XCTest
@testable import ConvVizCore

/// Files written by Python's `safetensors` and NumPy (by
/// `Benchmarks/pytorch_smallconvnet.py write-tensor`), read by ConvViz.
final class PythonInteropTests: XCTestCase {
    var dir: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/python") }

    func check(_ w: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(w.shape, [4, 3, 5, 5], file: file, line: line)
        XCTAssertEqual(w.data[0], 0.1257302165031433, file: file, line: line)
        XCTAssertEqual(w[1, 2, 3, 4], 0.31941423, file: file, line: line)
        XCTAssertEqual(w[3, 0, 0, 1], 1.0023983, file: file, line: line)
        XCTAssertEqual(w.sum, -10.745077233761549, accuracy: 1e-5, file: file, line: line)
    }

    func testReadsNumPyFile() throws {
        check(try NPY.read(contentsOf: dir.appendingPathComponent("conv1.npy")))
    }

    func testReadsSafetensorsFileWithFloat64() throws {
        let file = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("weights.safetensors"))
        XCTAssertEqual(Set(file.names), ["conv1.weight", "other"])
        check(try file.tensor("conv1.weight"))
        let other = try file.tensor("other")
        XCTAssertEqual(file.entries.first { $0.name == "other" }?.dtype, .f64)
        XCTAssertEqual(other.shape, [2, 3])
        XCTAssertEqual(other.data, [0, 1, 2, 3, 4, 5])
    }
}
