/// One (sample, channel) plane of an `N x C x H x W` tensor.
public struct SampleChannel: Hashable, Sendable {
    public var sample: Int
    public var channel: Int
    public init(_ sample: Int, _ channel: Int) { self.sample = sample; self.channel = channel }
}

/// Which (sample, channel) planes share one mean and variance in each normalization, for
/// an `N x C x H x W` tensor (every method pools over all of H and W):
/// - batch:    channel c, all samples      -> {(n, c) : n in 0..<N}
/// - layer:    sample n, all channels      -> {(n, c) : c in 0..<C}
/// - instance: one sample and one channel  -> {(n, c)}
/// - group:    sample n, C/G channels      -> {(n, c) : c in group g}
/// The sets are read from the layers' own `NormalizationGroups`, and the statistics come
/// from the layers' routine, so a figure shows what training computes.
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

    /// The layers' description of the sets for a tensor of `shape` `[N, C, ...]`;
    /// `groups` (group norm only) must divide C.
    func layout(_ shape: [Int], groups: Int) -> NormalizationGroups {
        switch self {
        case .batch: return .batch(shape)
        case .layer: return .perSample(shape, groups: 1)
        case .instance: return .perSample(shape, groups: shape[1])
        case .group:
            precondition(groups >= 1 && shape[1] % groups == 0, "\(groups) groups do not divide \(shape[1]) channels")
            return .perSample(shape, groups: groups)
        }
    }

    /// The set containing `plane` for a tensor with `n` samples, `c` channels and
    /// `groups` groups (group norm only).
    public func set(containing plane: SampleChannel, n: Int, c: Int, groups: Int) -> Set<SampleChannel> {
        let layout = layout([n, c], groups: groups)
        let group = layout.group(containing: plane.sample * c + plane.channel)
        return Set(layout.runs(of: group).joined().map { SampleChannel($0 / c, $0 % c) })
    }

    /// Mean and biased variance of a tensor `[N, C, H, W]` over the set containing
    /// `plane`, and how many values that set holds.
    public func statistics(_ x: Tensor, containing plane: SampleChannel, groups: Int) -> (mean: Double, variance: Double, count: Int) {
        let layout = layout(x.shape, groups: groups)
        let planeSize = x.shape.dropFirst(2).reduce(1, *)
        let group = layout.group(containing: (plane.sample * x.shape[1] + plane.channel) * planeSize)
        let s = x.data.withUnsafeBufferPointer { NormalizationKernel.moments($0.baseAddress!, layout, group: group) }
        return (s.mean, s.squares / Double(max(s.count, 1)), s.count)
    }
}
