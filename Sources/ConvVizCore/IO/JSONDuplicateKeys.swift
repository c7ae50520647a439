import Foundation

/// Finds a key given twice in one JSON object. Foundation's `JSONSerialization` keeps one
/// of them without a word (which one is an accident of the parser), so formats whose keys
/// name things (a safetensors header's tensors, an architecture's layer keys) are scanned
/// here before they are parsed, and a duplicate is refused by name.
///
/// One pass over the bytes with an explicit stack (no recursion, so no depth limit to
/// reach); keys are compared as decoded strings, so `"a"` and `"\u0061"` are one key.
/// Malformed JSON gives nil: the parser that runs next reports it.
enum JSONDuplicateKeys {
    struct Duplicate: Equatable {
        /// The key given twice.
        let key: String
        /// Where the object holding it is: keys and `[index]`es from the top level.
        let path: [String]

        /// `layers[2]`, `'conv1.weight'`, or `the top level`.
        var location: String {
            guard !path.isEmpty else { return "the top level" }
            return path.enumerated().map { i, p in p.hasPrefix("[") ? p : (i == 0 ? "'\(p)'" : ".'\(p)'") }.joined()
        }
    }

    private struct Frame {
        var isObject: Bool
        var keys: Set<String> = []
        var expectingKey: Bool
        var lastKey: String?
        var index = 0
        /// This container's name in its parent.
        var name: String?
    }

    static func first(in data: Data) -> Duplicate? {
        data.withUnsafeBytes { raw -> Duplicate? in
            let b = raw.bindMemory(to: UInt8.self)
            var stack: [Frame] = []
            var i = 0
            while i < b.count {
                let c = b[i]
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let name: String? = stack.last.map { $0.isObject ? ($0.lastKey ?? "?") : "[\($0.index)]" }
                    stack.append(Frame(isObject: c == UInt8(ascii: "{"), expectingKey: c == UInt8(ascii: "{"), name: name))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard stack.popLast() != nil else { return nil }
                case UInt8(ascii: ","):
                    guard !stack.isEmpty else { return nil }
                    if stack[stack.count - 1].isObject { stack[stack.count - 1].expectingKey = true } else { stack[stack.count - 1].index += 1 }
                case UInt8(ascii: "\""):
                    // The string's end: the next quote not escaped by a backslash.
                    var j = i + 1, escaped = false
                    while j < b.count {
                        if escaped { escaped = false } else if b[j] == UInt8(ascii: "\\") { escaped = true } else if b[j] == UInt8(ascii: "\"") { break }
                        j += 1
                    }
                    guard j < b.count else { return nil }
                    if let top = stack.last, top.isObject, top.expectingKey {
                        guard let key = decodeString(UnsafeBufferPointer(rebasing: b[i...j])) else { return nil }
                        if stack[stack.count - 1].keys.contains(key) {
                            return Duplicate(key: key, path: stack.dropFirst().compactMap(\.name))
                        }
                        stack[stack.count - 1].keys.insert(key)
                        stack[stack.count - 1].lastKey = key
                        stack[stack.count - 1].expectingKey = false
                    }
                    i = j
                default:
                    break
                }
                i += 1
            }
            return nil
        }
    }

    /// A JSON string token (with its quotes) as a Swift string; escapes decoded.
    private static func decodeString(_ token: UnsafeBufferPointer<UInt8>) -> String? {
        let inner = UnsafeBufferPointer(rebasing: token[(token.startIndex + 1)..<(token.endIndex - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONSerialization.jsonObject(with: Data(token), options: .fragmentsAllowed)) as? String
    }
}
