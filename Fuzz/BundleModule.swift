// SwiftPM generates `Bundle.module` for a target with resources; the fuzz build compiles
// ConvVizCore's sources with swiftc directly, so it provides its own (the readers under
// test never load resources).
import Foundation

extension Foundation.Bundle {
    static var module: Bundle { Bundle.main }
}
