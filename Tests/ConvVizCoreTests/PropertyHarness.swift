import ConvVizCore
import Foundation
import XCTest

/// A small seeded property-based harness (x-sheep/swift-property-based runs on Swift
/// Testing, which this suite's `--disable-swift-testing` runs skip): a property is checked
/// on `count` generated cases; a failure names the seed and case, and
/// `CONVVIZ_PROPERTY_SEED=N` replays it. A trap in a reader ends the test run, which is
/// the point: a trap reachable from input is the bug looked for.
enum PropertyHarness {
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["CONVVIZ_PROPERTY_SEED"].flatMap(UInt64.init) ?? 0x5EED_17
    }

    static func check(_ name: String, count: Int = 300, file: StaticString = #filePath, line: UInt = #line,
                      _ property: (inout SeededGenerator, Int) throws -> Void) {
        var rng = SeededGenerator(seed: seed)
        for i in 0..<count {
            do { try property(&rng, i) } catch {
                XCTFail("\(name): case \(i) of seed \(seed) failed: \(error)", file: file, line: line)
                return
            }
        }
    }
}

/// Hostile bytes made from valid ones.
enum Mutation {
    /// `data` with one of: flipped bytes, a byte set to an extreme, bytes cut off the end,
    /// random bytes inserted, a 4- or 8-byte field overwritten with a huge or zero value.
    static func mutate(_ data: Data, _ rng: inout SeededGenerator) -> Data {
        var b = [UInt8](data)
        guard !b.isEmpty else { return Data((0..<rng.below(16)).map { _ in UInt8(rng.below(256)) }) }
        for _ in 0...rng.below(3) {
            guard !b.isEmpty else { break }
            let at = rng.below(b.count)
            switch rng.below(6) {
            case 0: b[at] ^= UInt8(1 << rng.below(8))
            case 1: b[at] = [0, 0xFF, 0x7F, 0x80][rng.below(4)]
            case 2: b.removeLast(rng.below(b.count) + 1)
            case 3: b.insert(contentsOf: (0..<rng.below(9) + 1).map { _ in UInt8(rng.below(256)) }, at: at)
            case 4: for k in 0..<min(4, b.count - at) { b[at + k] = rng.below(2) == 0 ? 0xFF : 0 }
            default: for k in 0..<min(8, b.count - at) { b[at + k] = UInt8(rng.below(256)) }
            }
        }
        return Data(b)
    }

    /// `text` with a number replaced by an extreme one, a token removed, or a character changed.
    static func mutate(_ text: String, _ rng: inout SeededGenerator) -> String {
        var s = text
        let extremes = ["0", "-1", "1e308", "-1e308", "9223372036854775807", "4294967296", "1e9", "nan", "[]", "{}", "null", "\"\"", "1.5"]
        switch rng.below(4) {
        case 0:
            let digits = s.indices.filter { s[$0].isNumber }
            guard let at = digits.isEmpty ? nil : digits[rng.below(digits.count)] else { return s }
            var end = at
            while end < s.endIndex, s[end].isNumber { end = s.index(after: end) }
            s.replaceSubrange(at..<end, with: extremes[rng.below(extremes.count)])
        case 1:
            guard !s.isEmpty else { return s }
            let at = s.index(s.startIndex, offsetBy: rng.below(s.count))
            s.remove(at: at)
        case 2:
            guard !s.isEmpty else { return s }
            let at = s.index(s.startIndex, offsetBy: rng.below(s.count))
            let characters = Array("{}[],:\"0\n-")
            s.insert(characters[rng.below(characters.count)], at: at)
        default:
            let keys = ["\"out\"", "\"kernel\"", "\"stride\"", "\"padding\"", "\"input\"", "\"groups\"", "\"dilation\""]
            let key = keys[rng.below(keys.count)]
            if let r = s.range(of: key + ": ") {
                var end = r.upperBound
                while end < s.endIndex, s[end] != ",", s[end] != "}" { end = s.index(after: end) }
                s.replaceSubrange(r.upperBound..<end, with: extremes[rng.below(extremes.count)])
            }
        }
        return s
    }
}
