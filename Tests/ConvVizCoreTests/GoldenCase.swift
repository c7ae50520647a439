import Foundation
import XCTest
@testable import ConvVizCore

/// One reference case from the golden set (schema in Fixtures/golden/README.md).
struct GoldenCase {
    let name: String
    let op: String
    let params: [String: Any]
    let inputs: [String: Tensor]
    let outputs: [String: Tensor]
    let integerInputs: [String: [Int]]

    init(url: URL) throws {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        name = url.deletingPathExtension().lastPathComponent
        guard let op = root["op"] as? String else { throw GoldenError.malformed("\(name): no 'op'") }
        self.op = op
        params = root["params"] as? [String: Any] ?? [:]
        func tensors(_ key: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (k, v) in root[key] as? [String: Any] ?? [:] {
                let d = v as! [String: Any]
                let shape = (d["shape"] as! [NSNumber]).map(\.intValue)
                let data = (d["data"] as! [NSNumber]).map(\.floatValue)
                out[k] = Tensor(shape: shape, data: data)
            }
            return out
        }
        inputs = tensors("inputs")
        outputs = tensors("outputs")
        var ints: [String: [Int]] = [:]
        for (k, v) in root["inputs"] as? [String: Any] ?? [:] {
            ints[k] = ((v as! [String: Any])["data"] as! [NSNumber]).map(\.intValue)
        }
        integerInputs = ints
    }

    func int(_ key: String, default value: Int? = nil) -> Int {
        if let v = params[key] as? NSNumber { return v.intValue }
        guard let value else { XCTFail("\(name): missing param \(key)"); return 0 }
        return value
    }

    func float(_ key: String) -> Float { (params[key] as? NSNumber)?.floatValue ?? 1e-5 }

    func input(_ key: String) -> Tensor {
        guard let t = inputs[key] else { XCTFail("\(name): no input \(key)"); return Tensor(shape: [0]) }
        return t
    }

    /// Checks `got` against the reference output `key` with the golden README's rule:
    /// `|got - ref| <= 1e-4 * max|ref| + 1e-4 * |ref|` for every element.
    func check(_ key: String, _ got: Tensor?, file: StaticString = #filePath, line: UInt = #line) {
        guard let ref = outputs[key] else { XCTFail("\(name): no reference output \(key)", file: file, line: line); return }
        guard let got else { XCTFail("\(name).\(key): nothing computed", file: file, line: line); return }
        XCTAssertEqual(got.count, ref.count, "\(name).\(key): element count", file: file, line: line)
        guard got.count == ref.count else { return }
        let scale = ref.maxAbs
        var worst = 0 as Float, worstIndex = 0
        for i in 0..<ref.count {
            let err = abs(got.data[i] - ref.data[i])
            let allowed = 1e-4 * scale + 1e-4 * abs(ref.data[i])
            if err - allowed > worst { worst = err - allowed; worstIndex = i }
        }
        XCTAssert(worst <= 0, "\(name).\(key)[\(worstIndex)]: expected \(ref.data[worstIndex]), got \(got.data[worstIndex]) (max|ref| \(scale))", file: file, line: line)
    }
}

enum GoldenError: Error { case malformed(String) }
