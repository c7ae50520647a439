/// Which elements of an NCHW tensor share one mean and variance: the one description
/// every normalization uses (the layers, the fused block, `NormalizationKind` for the
/// figures).
///
/// A *group* is `segments` runs of `length` contiguous elements, `stride` apart,
/// starting at `start(group)`. For an NCHW tensor with plane `P = H*W`:
/// - BatchNorm, channel c: N runs of P, stride C*P, start c*P (over N, H, W);
/// - GroupNorm, (n, g):    1 run of (C/G)*P, start (n*C + g*C/G)*P (over C/G, H, W);
///   LayerNorm is G = 1 and InstanceNorm is G = C.
struct NormalizationGroups {
    let groups: Int
    let segments: Int
    let length: Int
    let stride: Int
    let groupStride: Int
    var size: Int { segments * length }

    func start(_ group: Int) -> Int { group * groupStride }

    /// The group holding the element at `offset`.
    func group(containing offset: Int) -> Int {
        (segments > 1 ? offset % stride : offset) / groupStride
    }

    /// The element ranges of `group`, in memory order.
    func runs(of group: Int) -> [Range<Int>] {
        (0..<segments).map { k in
            let o = start(group) + k * stride
            return o..<(o + length)
        }
    }

    static func batch(_ shape: [Int]) -> NormalizationGroups {
        let (n, c, p) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
        return NormalizationGroups(groups: c, segments: n, length: p, stride: c * p, groupStride: p)
    }

    static func perSample(_ shape: [Int], groups g: Int) -> NormalizationGroups {
        let (c, p) = (shape[1], shape.dropFirst(2).reduce(1, *))
        let block = (c / g) * p
        return NormalizationGroups(groups: shape[0] * g, segments: 1, length: block, stride: 0, groupStride: block)
    }
}
