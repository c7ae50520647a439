/// Which elements share one mean and variance, for every kind of normalization.
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
    let start: (Int) -> Int
    var size: Int { segments * length }

    static func batch(_ shape: [Int]) -> NormalizationGroups {
        let (n, c, p) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
        return NormalizationGroups(groups: c, segments: n, length: p, stride: c * p, start: { $0 * p })
    }

    static func perSample(_ shape: [Int], groups g: Int) -> NormalizationGroups {
        let (n, c, p) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
        let block = (c / g) * p
        return NormalizationGroups(groups: n * g, segments: 1, length: block, stride: 0, start: { $0 * block })
    }

    func forEachSegment(_ group: Int, _ body: (Int) -> Void) {
        let s = start(group)
        for k in 0..<segments { body(s + k * stride) }
    }
}

/// The math shared by every normalization: `xhat = (x - mean)/sqrt(var + eps)` with the
/// biased variance, then `y = gamma * xhat + beta`, and the matching backward pass.
enum NormalizationKernel {
    /// How gamma/beta broadcast: one per channel, or one per element of `[C, H, W]`.
    enum Affine { case perChannel(channels: Int, plane: Int), perElement(size: Int) }

    static func affineIndex(_ affine: Affine, _ i: Int) -> Int {
        switch affine {
        case let .perChannel(channels, plane): return (i / plane) % channels
        case let .perElement(size): return i % size
        }
    }

    /// Per-group mean and biased variance, accumulated in Double.
    static func statistics(_ x: UnsafeBufferPointer<Float>, _ layout: NormalizationGroups) -> (mean: [Float], variance: [Float]) {
        var mean = [Float](repeating: 0, count: layout.groups)
        var variance = [Float](repeating: 0, count: layout.groups)
        for g in 0..<layout.groups {
            var sum = 0.0
            layout.forEachSegment(g) { o in for i in o..<(o + layout.length) { sum += Double(x[i]) } }
            let m = sum / Double(layout.size)
            var sq = 0.0
            layout.forEachSegment(g) { o in for i in o..<(o + layout.length) { let d = Double(x[i]) - m; sq += d * d } }
            mean[g] = Float(m)
            variance[g] = Float(sq / Double(layout.size))
        }
        return (mean, variance)
    }

    /// Writes `xhat` and `y`, normalizing each group with the given statistics.
    static func normalize(_ x: Tensor, _ layout: NormalizationGroups, mean: [Float], variance: [Float], eps: Float,
                          gamma: Tensor, beta: Tensor, affine: Affine) -> (y: Tensor, xhat: Tensor, invStd: [Float]) {
        var y = Tensor(shape: x.shape), xhat = Tensor(shape: x.shape)
        let invStd = variance.map { 1 / ($0 + eps).squareRoot() }
        x.data.withUnsafeBufferPointer { x in
        y.data.withUnsafeMutableBufferPointer { y in
        xhat.data.withUnsafeMutableBufferPointer { xh in
        gamma.data.withUnsafeBufferPointer { gm in
        beta.data.withUnsafeBufferPointer { bt in
            for g in 0..<layout.groups {
                let m = mean[g], s = invStd[g]
                layout.forEachSegment(g) { o in
                    for i in o..<(o + layout.length) {
                        let v = (x[i] - m) * s
                        let a = affineIndex(affine, i)
                        xh[i] = v
                        y[i] = v * gm[a] + bt[a]
                    }
                }
            }
        }}}}}
        return (y, xhat, invStd)
    }

    /// Backward of `normalize` when the statistics came from the same batch:
    /// `dx = invStd/M * (M*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))` per group, with
    /// `dxhat = dy * gamma`. Accumulates dgamma and dbeta.
    static func backward(_ dy: Tensor, xhat: Tensor, invStd: [Float], _ layout: NormalizationGroups,
                         gamma: Tensor, gradGamma: inout Tensor, gradBeta: inout Tensor, affine: Affine,
                         needsInputGradient: Bool) -> Tensor? {
        var dx = needsInputGradient ? Tensor(shape: dy.shape) : nil
        dy.data.withUnsafeBufferPointer { dy in
        xhat.data.withUnsafeBufferPointer { xh in
        gamma.data.withUnsafeBufferPointer { gm in
        gradGamma.data.withUnsafeMutableBufferPointer { dg in
        gradBeta.data.withUnsafeMutableBufferPointer { db in
            for g in 0..<layout.groups {
                var sumD = 0.0, sumDX = 0.0
                layout.forEachSegment(g) { o in
                    for i in o..<(o + layout.length) {
                        let a = affineIndex(affine, i)
                        dg[a] += dy[i] * xh[i]
                        db[a] += dy[i]
                        let d = Double(dy[i] * gm[a])
                        sumD += d
                        sumDX += d * Double(xh[i])
                    }
                }
                guard dx != nil else { continue }
                let m = Float(layout.size)
                let meanD = Float(sumD) / m, meanDX = Float(sumDX) / m, s = invStd[g]
                dx!.data.withUnsafeMutableBufferPointer { dx in
                    layout.forEachSegment(g) { o in
                        for i in o..<(o + layout.length) {
                            let d = dy[i] * gm[affineIndex(affine, i)]
                            dx[i] = s * (d - meanD - xh[i] * meanDX)
                        }
                    }
                }
            }
        }}}}}
        return dx
    }
}
