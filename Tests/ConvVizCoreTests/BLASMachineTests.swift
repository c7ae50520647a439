import XCTest
@testable import ConvVizCore

/// What `BLAS.machine` reports: the CPU model, OpenBLAS's version and kernel.
final class BLASMachineTests: XCTestCase {
    func testReadsTheCPUModelAndTheVersion() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\nflags\t\t: avx2\n"
        XCTAssertEqual(BLAS.cpuModel(cpuinfo: cpuinfo), "AMD EPYC 7B13 64-Core Processor")
        XCTAssertEqual(BLAS.cpuModel(cpuinfo: "processor\t: 0\nFeatures\t: fp asimd\n"), "unknown")
        XCTAssertEqual(BLAS.cpuModel(cpuinfo: nil), "unknown")
        // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
        XCTAssert(BLAS.configuration.hasPrefix("OpenBLAS \(BLAS.version) "), BLAS.configuration)
        XCTAssertEqual(BLAS.version.split(separator: ".").count, 3, BLAS.version)
        XCTAssertEqual(BLAS.machine["openblas_kernel"], BLAS.coreName)
        let json = try? JSONSerialization.jsonObject(with: Data(BLAS.machineJSON.utf8)) as? [String: String]
        XCTAssertEqual(json, BLAS.machine)
    }
}
