import XCTest
@testable import convviz

/// The start-up check for the instruction-set extensions the build needs.
final class CPUSupportTests: XCTestCase {
    func testNamesTheMissingExtensions() {
        let modern = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma bmi2 avx512f\nbugs\t\t: none\n"
        XCTAssertEqual(CPUSupport.missingExtensions(cpuinfo: modern), [])
        let old = "processor\t: 0\nflags\t\t: fpu sse2 sse4_2 avx\n"
        XCTAssertEqual(CPUSupport.missingExtensions(cpuinfo: old), ["avx2", "fma"])
        let noFMA = "flags\t\t: sse2 avx avx2\n"
        XCTAssertEqual(CPUSupport.missingExtensions(cpuinfo: noFMA), ["fma"])
        // Other architectures' cpuinfo has no flags line: nothing is known to be missing.
        XCTAssertEqual(CPUSupport.missingExtensions(cpuinfo: "processor\t: 0\nFeatures\t: fp asimd\n"), [])
    }
}
