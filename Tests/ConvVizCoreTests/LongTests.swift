import Foundation
import XCTest

extension XCTestCase {
    /// Whether the long checks run: `CONVVIZ_LONG_TESTS=1` (`make test-long`).
    static var runsLongTests: Bool { ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1" }

    /// Skips the rest of a test that takes more than a few seconds, unless
    /// `CONVVIZ_LONG_TESTS=1` (`make test-long`): `make test` stays within its budget.
    func skipUnlessLongTests(_ what: String) throws {
        try XCTSkipUnless(Self.runsLongTests, "\(what): a long test, run by `make test-long` (CONVVIZ_LONG_TESTS=1)")
    }
}
