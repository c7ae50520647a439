/// Which output an attribution map explains: a class index, the predicted class, or
/// each of the k most probable classes (k maps per image).
public enum AttributionTarget: Equatable, Sendable, CustomStringConvertible {
    case top
    case index(Int)
    case topK(Int)

    /// `top`, `topK` (e.g. `top3`) or a class index.
    public init?(_ text: String) {
        if text == "top" { self = .top; return }
        if text.hasPrefix("top"), let k = Int(text.dropFirst(3)), k >= 1 { self = .topK(k); return }
        guard let k = Int(text), k >= 0 else { return nil }
        self = .index(k)
    }

    public var description: String {
        switch self {
        case .top: "top"
        case let .index(k): "\(k)"
        case let .topK(k): "top\(k)"
        }
    }

    /// The (image, class) pairs to explain, for logits `[N, K]` and one target for every
    /// image or one each. Throws when a class index is out of range.
    public static func resolve(_ targets: [AttributionTarget], logits: Tensor) throws -> [(image: Int, classIndex: Int)] {
        precondition(logits.rank == 2, "logits \(logits.shape)")
        let (n, k) = (logits.shape[0], logits.shape[1])
        guard targets.count == 1 || targets.count == n else {
            throw GradientError("\(targets.count) targets for \(n) images: give one for all or one each")
        }
        var pairs: [(Int, Int)] = []
        for image in 0..<n {
            let row = Array(logits.data[image * k..<(image + 1) * k])
            switch targets.count == 1 ? targets[0] : targets[image] {
            case .top: pairs.append((image, ranked(row)[0]))
            case let .index(c):
                guard c < k else { throw GradientError("class \(c) is out of range: the network has \(k) outputs (0...\(k - 1))") }
                pairs.append((image, c))
            case let .topK(m): pairs += ranked(row).prefix(m).map { (image, $0) }
            }
        }
        return pairs
    }

    /// Class indices by decreasing score (ties by index).
    public static func ranked(_ row: [Float]) -> [Int] {
        row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
    }

    /// Softmax of one row of logits, in Double for the probabilities a caption shows.
    public static func softmax(_ row: [Float]) -> [Double] {
        let m = Double(row.max() ?? 0)
        let e = row.map { Foundation.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

import Foundation
