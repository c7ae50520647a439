/// Which (sample, channel) pairs share one mean and variance in each normalization, for
/// an `N x C x H x W` tensor (every method pools over all of H and W):
/// - batch:    channel c, all samples      -> {(n, c) : n in 0..<N}
/// - layer:    sample n, all channels      -> {(n, c) : c in 0..<C}
/// - instance: one sample and one channel  -> {(n, c)}
/// - group:    sample n, C/G channels      -> {(n, c) : c in group g}
public enum NormalizationKind: String, CaseIterable, Sendable {
    case batch, layer, instance, group

    public var title: String {
        switch self {
        case .batch: "Batch Norm"
        case .layer: "Layer Norm"
        case .instance: "Instance Norm"
        case .group: "Group Norm"
        }
    }

    /// The set containing (sample, channel) for a tensor with `n` samples, `c` channels
    /// and `groups` groups (group norm only).
    public func set(containing sample: Int, _ channel: Int, n: Int, c: Int, groups: Int) -> Set<Pair> {
        switch self {
        case .batch: return Set((0..<n).map { Pair($0, channel) })
        case .layer: return Set((0..<c).map { Pair(sample, $0) })
        case .instance: return [Pair(sample, channel)]
        case .group:
            let size = c / max(groups, 1), g = channel / size
            return Set((g * size..<(g + 1) * size).map { Pair(sample, $0) })
        }
    }

    /// Mean and biased variance of a tensor `[N, C, H, W]` over the set containing
    /// (sample, channel).
    public func statistics(_ x: Tensor, sample: Int, channel: Int, groups: Int) -> (mean: Double, variance: Double, count: Int) {
        let (n, c) = (x.shape[0], x.shape[1])
        let plane = x.shape.dropFirst(2).reduce(1, *)
        var sum = 0.0, sq = 0.0, count = 0
        for p in set(containing: sample, channel, n: n, c: c, groups: groups) {
            let o = (p.h * c + p.w) * plane
            for i in o..<(o + plane) { sum += Double(x.data[i]); count += 1 }
        }
        let mean = sum / Double(max(count, 1))
        for p in set(containing: sample, channel, n: n, c: c, groups: groups) {
            let o = (p.h * c + p.w) * plane
            for i in o..<(o + plane) { let d = Double(x.data[i]) - mean; sq += d * d }
        }
        return (mean, sq / Double(max(count, 1)), count)
    }
}
