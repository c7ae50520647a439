/// The math shared by every normalization: `xhat = (x - mean)/sqrt(var + eps)` with the
/// biased variance, then `y = gamma * xhat + beta`, and the matching backward pass.
enum NormalizationKernel {
    /// How gamma/beta broadcast: one per channel (runs of `plane` elements share one),
    /// or one per element of the per-sample shape.
    enum Affine { case perChannel(channels: Int, plane: Int), perElement(size: Int) }

    /// Calls `body(start, length, affineStart, affineStep)` for the runs of group `g`
    /// over which gamma's index starts at `affineStart` and advances by `affineStep`
    /// (0: one gamma for the run; 1: element-wise).
    @inline(__always)
    static func forEachRun(_ layout: NormalizationGroups, _ affine: Affine, group g: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let s = layout.start(g)
        for k in 0..<layout.segments {
            let o = s + k * layout.stride
            switch affine {
            case let .perChannel(channels, plane):
                var i = o
                while i < o + layout.length {
                    body(i, plane, (i / plane) % channels, 0)
                    i += plane
                }
            case let .perElement(size):
                body(o, layout.length, o % size, 1)
            }
        }
    }

    /// Per-group mean and biased variance (see `moments`), groups in parallel.
    static func statistics(_ x: UnsafeBufferPointer<Float>, _ layout: NormalizationGroups) -> (mean: [Float], variance: [Float]) {
        var mean = [Float](repeating: 0, count: layout.groups)
        var variance = [Float](repeating: 0, count: layout.groups)
        mean.withUnsafeMutableBufferPointer { mb in variance.withUnsafeMutableBufferPointer { vb in
            let mean = mb.baseAddress!, variance = vb.baseAddress!
            Parallel.forEachRange(layout.groups) { _, groups in
                for g in groups {
                    let s = moments(x.baseAddress!, layout, group: g)
                    mean[g] = Float(s.mean)
                    variance[g] = Float(s.squares / Double(max(s.count, 1)))
                }
            }
        }}
        return (mean, variance)
    }

    /// Mean and sum of squared deviations of one group, in Double. Each run is read
    /// twice while it is in cache (its sum, then deviations from that mean: the corrected
    /// two-pass algorithm) and the runs are merged with Chan et al.'s pairwise update:
    /// one pass over memory, and no cancellation as a sum of squares minus a squared sum
    /// would have.
    static func moments(_ x: UnsafePointer<Float>, _ layout: NormalizationGroups, group g: Int) -> (mean: Double, squares: Double, count: Int) {
        let length = Double(layout.length)
        var count = 0.0, m = 0.0, m2 = 0.0
        for k in 0..<layout.segments {
            let run = x + layout.start(g) + k * layout.stride
            // The Float sum rounds the run's mean; the deviations from it correct it
            // (and its squares) to first order, which Chan's merge needs: it is exact
            // only for exact run means.
            let center = Float(Double(Vector.sum(run, count: layout.length)) / length)
            let d = Vector.deviations(run, count: layout.length, from: center)
            let runMean = Double(center) + Double(d.sum) / length
            let squares = Double(d.squares) - Double(d.sum) * Double(d.sum) / length
            let total = count + length
            let delta = runMean - m
            m += delta * length / total
            m2 += squares + delta * delta * count * length / total
            count = total
        }
        return (m, m2, layout.size)
    }

    /// Writes `y`, normalizing each group with the given statistics.
    static func normalize(_ x: Tensor, _ layout: NormalizationGroups, mean: [Float], variance: [Float], eps: Float,
                          gamma: Tensor, beta: Tensor, affine: Affine) -> (y: Tensor, invStd: [Float]) {
        var y = Tensor(uninitializedShape: x.shape)
        let invStd = variance.map { 1 / ($0 + eps).squareRoot() }
        x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
        gamma.data.withUnsafeBufferPointer { gmb in
        beta.data.withUnsafeBufferPointer { btb in
            let x = xb.baseAddress!, y = yb.baseAddress!, gm = gmb.baseAddress!, bt = btb.baseAddress!
            // Groups write disjoint elements, so they run in parallel.
            Parallel.forEachRange(layout.groups) { _, groups in
            for g in groups {
                let m = mean[g], s = invStd[g]
                forEachRun(layout, affine, group: g) { o, n, a, step in
                    if step == 0 {
                        let scale = gm[a] * s, shift = bt[a] - m * gm[a] * s
                        for i in o..<(o + n) { y[i] = x[i] * scale + shift }
                    } else {
                        for j in 0..<n {
                            let v = (x[o + j] - m) * s
                            y[o + j] = v * gm[a + j] + bt[a + j]
                        }
                    }
                }
            }
            }
        }}}}
        return (y, invStd)
    }

    /// Backward of `normalize` when the statistics came from the same batch:
    /// `dx = invStd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))` per group, with
    /// `dxhat = dy * gamma`. Accumulates dgamma and dbeta. `xhat` is recomputed from the
    /// input and the group statistics rather than stored by the forward pass: one less
    /// activation-sized array written and read per step.
    static func backward(_ dy: Tensor, input: Tensor, mean: [Float], invStd: [Float], _ layout: NormalizationGroups,
                         gamma: Tensor, gradGamma: inout Tensor, gradBeta: inout Tensor, affine: Affine,
                         needsInputGradient: Bool) -> Tensor? {
        var dx = needsInputGradient ? Tensor(uninitializedShape: dy.shape) : nil
        var sums = [Double](repeating: 0, count: 2 * layout.groups)
        // Phase 1: dgamma, dbeta and each group's sums of dxhat and dxhat*xhat. BatchNorm's
        // groups each own one channel's gamma, so they run in parallel; other layouts share
        // gamma between groups and accumulate serially.
        let ownsAffine: Bool = { if case .perChannel = affine, layout.segments > 1 { return true } else { return false } }()
        dy.data.withUnsafeBufferPointer { dyb in
        input.data.withUnsafeBufferPointer { xb in
        gamma.data.withUnsafeBufferPointer { gmb in
        gradGamma.data.withUnsafeMutableBufferPointer { dgb in
        gradBeta.data.withUnsafeMutableBufferPointer { dbb in
        sums.withUnsafeMutableBufferPointer { sb in
        withOptionalMutablePointer(&dx) { dx in
            let dy = dyb.baseAddress!, x = xb.baseAddress!, gm = gmb.baseAddress!
            let dg = dgb.baseAddress!, db = dbb.baseAddress!, sums = sb.baseAddress!
            let accumulate = { (groups: Range<Int>) in
                for g in groups {
                    var sumD = 0.0, sumDX = 0.0
                    let m = mean[g], s = invStd[g]
                    forEachRun(layout, affine, group: g) { o, n, a, step in
                        if step == 0 {
                            var sdy: Float = 0, sdyx: Float = 0
                            for i in o..<(o + n) { sdy += dy[i]; sdyx += dy[i] * (x[i] - m) }
                            sdyx *= s
                            dg[a] += sdyx
                            db[a] += sdy
                            sumD += Double(sdy * gm[a])
                            sumDX += Double(sdyx * gm[a])
                        } else {
                            for j in 0..<n {
                                let i = o + j
                                let xh = (x[i] - m) * s
                                dg[a + j] += dy[i] * xh
                                db[a + j] += dy[i]
                                let d = Double(dy[i] * gm[a + j])
                                sumD += d
                                sumDX += d * Double(xh)
                            }
                        }
                    }
                    sums[2 * g] = sumD
                    sums[2 * g + 1] = sumDX
                }
            }
            if ownsAffine { Parallel.forEachRange(layout.groups) { _, r in accumulate(r) } } else { accumulate(0..<layout.groups) }
            guard let dx else { return }
            // Phase 2: each group's input gradient (disjoint writes, parallel).
            let m = Float(layout.size)
            Parallel.forEachRange(layout.groups) { _, groups in
                for g in groups {
                    let meanD = Float(sums[2 * g]) / m, meanDX = Float(sums[2 * g + 1]) / m, s = invStd[g], mu = mean[g]
                    forEachRun(layout, affine, group: g) { o, n, a, step in
                        for j in 0..<n {
                            let i = o + j
                            dx[i] = s * (dy[i] * gm[a + j * step] - meanD - (x[i] - mu) * s * meanDX)
                        }
                    }
                }
            }
        }}}}}}}
        return dx
    }
}
