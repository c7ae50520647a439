/// How far to trust a map: Petsiuk et al.'s (RISE, 2018) deletion and insertion curves.
/// Pixels are ranked by the map (largest first); deletion sets them, 1% of the pixels at
/// a time, to the baseline (0 in the model's input space) and insertion copies them into
/// a blurred image; the curve is the target's softmax probability after each step and
/// its area (trapezoid, x from 0 to 1) the score. A good map deletes steeply (low area)
/// and inserts steeply (high area). The same for random rankings (mean of `seeds`
/// seeds) says what chance gives.
public struct DeletionInsertion: Sendable {
    public let deletion: [Double]
    public let insertion: [Double]
    public var deletionAUC: Double { Self.area(deletion) }
    public var insertionAUC: Double { Self.area(insertion) }
    /// Mean areas of random rankings.
    public let randomDeletionAUC: Double
    public let randomInsertionAUC: Double

    /// Normalised trapezoid area of a curve sampled at equal steps over [0, 1].
    public static func area(_ curve: [Double]) -> Double {
        guard curve.count > 1 else { return curve.first ?? 0 }
        let inner = curve.dropFirst().dropLast().reduce(0, +)
        return (inner + (curve.first! + curve.last!) / 2) / Double(curve.count - 1)
    }

    /// `x` one image `[C, H, W]`, `map` `[H, W]` (larger: more important).
    public init(attributor: Attributor, image x: Tensor, map: Tensor, classIndex: Int, fraction: Double = 0.01,
                seeds: Int = 5, batch: Int = 16, seed: UInt64 = 0) {
        let plane = x.shape[1] * x.shape[2]
        precondition(map.count == plane, "map \(map.shape) for image \(x.shape)")
        let blurred = AttributionBaselines.blurred(x, sigma: Double(Swift.min(x.shape[1], x.shape[2])) / 16)
        let zero = Tensor(shape: x.shape)
        let order = map.data.indices.sorted { map.data[$0] != map.data[$1] ? map.data[$0] > map.data[$1] : $0 < $1 }
        func curve(_ order: [Int], from start: Tensor, to end: Tensor) -> [Double] {
            Self.curve(attributor: attributor, order: order, from: start, to: end, classIndex: classIndex, fraction: fraction, batch: batch)
        }
        deletion = curve(order, from: x, to: zero)
        insertion = curve(order, from: blurred, to: x)
        var rng = SeededGenerator(seed: seed &+ 41)
        var del = 0.0, ins = 0.0
        for _ in 0..<Swift.max(1, seeds) {
            var random = Array(0..<plane)
            for i in stride(from: plane - 1, to: 0, by: -1) { random.swapAt(i, rng.below(i + 1)) }
            del += Self.area(curve(random, from: x, to: zero))
            ins += Self.area(curve(random, from: blurred, to: x))
        }
        randomDeletionAUC = del / Double(Swift.max(1, seeds))
        randomInsertionAUC = ins / Double(Swift.max(1, seeds))
    }

    /// Probabilities of the class as the pixels of `order` (all channels) go from `start`'s
    /// values to `end`'s, `ceil(fraction * pixels)` at a time: steps + 1 points.
    static func curve(attributor: Attributor, order: [Int], from start: Tensor, to end: Tensor, classIndex: Int,
                      fraction: Double, batch: Int) -> [Double] {
        let (c, plane) = (start.shape[0], start.shape[1] * start.shape[2])
        let step = Swift.max(1, Int((Double(plane) * fraction).rounded(.up)))
        let steps = (plane + step - 1) / step
        var probabilities: [Double] = []
        var current = start
        var pending: [Tensor] = []
        func flush() {
            guard !pending.isEmpty else { return }
            let x = Tensor(shape: [pending.count] + start.shape, data: pending.flatMap(\.data))
            let logits = attributor.logits(x)
            let k = logits.shape[1]
            for i in 0..<pending.count {
                probabilities.append(AttributionTarget.softmax(Array(logits.data[i * k..<(i + 1) * k]))[classIndex])
            }
            pending.removeAll()
        }
        for s in 0...steps {
            if s > 0 {
                for p in order[((s - 1) * step)..<Swift.min(plane, s * step)] {
                    for ch in 0..<c { current.data[ch * plane + p] = end.data[ch * plane + p] }
                }
            }
            pending.append(current)
            if pending.count >= Swift.max(1, batch) { flush() }
        }
        flush()
        return probabilities
    }
}
