/// BatchNorm2D → ReLU → 2x2 max-pool (stride 2), run as one block: the commonest
/// sequence after a convolution, and, layer by layer, mostly memory traffic (five reads
/// and two writes of the convolution's output forward, as many backward).
///
/// Fused, the forward pass reads the convolution output twice (statistics, then
/// normalize-pool-rectify in one go) and writes only the pooled quarter; the backward
/// pass reads it once and writes the input gradient once. `Sequential` uses it in
/// training and evaluation whenever the three layers appear in this order; the result
/// equals the three layers run one by one (tests compare both), because ReLU commutes
/// with max: `maxpool(relu(z)) = relu(maxpool(z))`, and a window whose maximum is not
/// positive passes no gradient either way.
final class NormReLUPool {
    let norm: BatchNorm2D
    let pool: MaxPool2D

    /// What the backward pass needs from a training forward pass.
    private struct Record {
        let input: Tensor
        let mean: [Float], invStd: [Float]
        /// The pooled output (after ReLU), `[N, C, H/2, W/2]`.
        let output: Tensor
        /// Input value of each window's winning cell.
        let winnerInput: [Float]
        /// Which cell of each 2x2 window won: 0, 1 (top row), 2, 3 (bottom row), kept
        /// as Float so the vector code stores it without a lane-by-lane conversion.
        let winner: [Float]
    }
    private var record: Record?

    /// The block for three consecutive layers, or nil when they are not BatchNorm2D,
    /// ReLU and a 2x2 stride-2 unpadded max-pool.
    init?(_ a: Layer, _ b: Layer, _ c: Layer) {
        guard let norm = a as? BatchNorm2D, b is ReLU, let pool = c as? MaxPool2D,
              pool.window == Window2D(kernel: Pair(2), stride: Pair(2)) else { return nil }
        self.norm = norm
        self.pool = pool
    }

    func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let plane = h * w
        let mean: [Float], variance: [Float]
        if mode.usesBatchStatistics {
            (mean, variance) = x.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, .batch(x.shape)) }
            norm.updateRunningStatistics(mean: mean, variance: variance, count: n * plane)
        } else {
            (mean, variance) = (norm.runningMean.value.data, norm.runningVar.value.data)
        }
        let invStd = variance.map { 1 / ($0 + norm.eps).squareRoot() }
        let gamma = norm.weight.value.data, beta = norm.bias.value.data
        let scale = (0..<c).map { gamma[$0] * invStd[$0] }
        let shift = (0..<c).map { beta[$0] - mean[$0] * scale[$0] }
        let (oh, ow) = (h / 2, w / 2)
        let cells = n * c * oh * ow
        var y = Tensor(uninitializedShape: [n, c, oh, ow])
        var winner = [Float](unsafeUninitializedCapacity: cells) { _, k in k = cells }
        var winnerValue = [Float](unsafeUninitializedCapacity: cells) { _, k in k = cells }
        x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
        winner.withUnsafeMutableBufferPointer { wb in
        winnerValue.withUnsafeMutableBufferPointer { vb in
            let x = xb.baseAddress!, y = yb.baseAddress!, win = wb.baseAddress!, value = vb.baseAddress!
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
                for p in planes {
                    let ch = p % c, q = p * oh * ow
                    Self.poolPlane(x + p * plane, width: w, planeSize: plane, out: Pair(oh, ow), scale: scale[ch], shift: shift[ch],
                                   y + q, win + q, value + q)
                }
            }
        }}}}
        record = mode == .training
            ? Record(input: x, mean: mean, invStd: invStd, output: y, winnerInput: winnerValue, winner: winner) : nil
        return y
    }

    /// Back-propagates through pool, ReLU and normalization; accumulates the
    /// normalization's dgamma and dbeta. With `g` the output gradient routed to each
    /// window's winner where the output is positive (zero elsewhere),
    /// `dx = invStd * (gamma*g - mean(gamma*g) - xhat * mean(gamma*g*xhat))` per channel.
    func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let r = record else { preconditionFailure("\(norm.name): backward without a training forward") }
        let (n, c, h, w) = (r.input.shape[0], r.input.shape[1], r.input.shape[2], r.input.shape[3])
        let (oh, ow) = (h / 2, w / 2)
        let cellsPerPlane = oh * ow, plane = h * w
        precondition(gradOutput.shape == [n, c, oh, ow], "\(pool.name): grad \(gradOutput.shape)")
        let gamma = norm.weight.value.data
        // Phase 1, per channel: sum(g) and sum(g * xhat), over the pooled cells only.
        var sums = [Double](repeating: 0, count: 2 * c)
        gradOutput.data.withUnsafeBufferPointer { gb in
        r.output.data.withUnsafeBufferPointer { yb in
        r.winnerInput.withUnsafeBufferPointer { vb in
        sums.withUnsafeMutableBufferPointer { sb in
            let g = gb.baseAddress!, y = yb.baseAddress!, v = vb.baseAddress!, sums = sb.baseAddress!
            Parallel.forEachRange(c) { _, channels in
                for ch in channels {
                    let mean = SIMD8<Float>(repeating: r.mean[ch]), invStd = r.invStd[ch]
                    var sumG = 0.0, sumGX = 0.0
                    for s in 0..<n {
                        let base = (s * c + ch) * cellsPerPlane
                        var a = SIMD8<Float>(repeating: 0), b = a
                        var i = 0
                        while i + 8 <= cellsPerPlane {
                            let grad = Vector.load(g + base + i).replacing(with: 0, where: .!(Vector.load(y + base + i) .> 0))
                            a += grad
                            b += grad * (Vector.load(v + base + i) - mean)
                            i += 8
                        }
                        var tailG: Float = 0, tailGX: Float = 0
                        while i < cellsPerPlane {
                            let grad: Float = y[base + i] > 0 ? g[base + i] : 0
                            tailG += grad
                            tailGX += grad * (v[base + i] - r.mean[ch])
                            i += 1
                        }
                        sumG += Double(a.sum() + tailG)
                        sumGX += Double((b.sum() + tailGX) * invStd)
                    }
                    sums[2 * ch] = sumG
                    sums[2 * ch + 1] = sumGX
                }
            }
        }}}}
        for ch in 0..<c {
            norm.weight.grad.data[ch] += Float(sums[2 * ch + 1])
            norm.bias.grad.data[ch] += Float(sums[2 * ch])
        }
        guard needsInputGradient else { return nil }
        // Phase 2, per plane: the dense part `x * k1 + k0`, then the winners' share.
        let count = Double(n * plane)
        var dx = Tensor(uninitializedShape: r.input.shape)
        r.input.data.withUnsafeBufferPointer { xb in
        gradOutput.data.withUnsafeBufferPointer { gb in
        r.output.data.withUnsafeBufferPointer { yb in
        r.winner.withUnsafeBufferPointer { wb in
        dx.data.withUnsafeMutableBufferPointer { db in
            let x = xb.baseAddress!, g = gb.baseAddress!, y = yb.baseAddress!, win = wb.baseAddress!, dx = db.baseAddress!
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
                for p in planes {
                    let ch = p % c
                    let s = r.invStd[ch], mu = r.mean[ch], gm = gamma[ch]
                    let meanD = Float(Double(gm) * sums[2 * ch] / count), meanDX = Float(Double(gm) * sums[2 * ch + 1] / count)
                    // invStd * (-meanD - (x - mu) * invStd * meanDX) = x * k1 + k0
                    let k1 = -s * s * meanDX, k0 = -s * meanD + mu * s * s * meanDX
                    let out = dx + p * plane
                    Vector.affine(x + p * plane, count: plane, scale: k1, shift: k0, into: out)
                    let cells = p * cellsPerPlane, routed = s * gm
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let j = cells + oy * ow + ox
                            guard y[j] > 0 else { continue }
                            let k = Int(win[j])
                            out[(2 * oy + k / 2) * w + 2 * ox + k % 2] += routed * g[j]
                        }
                    }
                }
            }
        }}}}}
        return dx
    }

    /// Normalizes (`scale * x + shift`), pools 2x2 and rectifies one plane; records each
    /// window's winner and its input value. Ties go to the first cell in row order.
    private static func poolPlane(_ src: UnsafePointer<Float>, width w: Int, planeSize: Int, out: Pair, scale: Float, shift: Float,
                                  _ y: UnsafeMutablePointer<Float>, _ win: UnsafeMutablePointer<Float>, _ value: UnsafeMutablePointer<Float>) {
        for oy in 0..<out.h {
            let r0 = src + 2 * oy * w, r1 = r0 + w
            let o = oy * out.w
            var ox = 0
            while ox < out.w {
                // Eight windows at a time. A partial vector may read and write past the
                // row while it stays inside the plane (this worker's memory; later rows
                // overwrite what it wrote there); otherwise it goes through zeroed
                // vectors and lane by lane.
                let count = min(8, out.w - ox)
                let direct = count == 8 || (o + ox + 8 <= out.h * out.w && (2 * oy + 1) * w + 2 * ox + 16 <= planeSize)
                var top = SIMD16<Float>(repeating: 0), bottom = top
                if direct {
                    top = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                    bottom = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                } else {
                    withUnsafeMutableBytes(of: &top) { $0.copyMemory(from: UnsafeRawBufferPointer(start: r0 + 2 * ox, count: 8 * count)) }
                    withUnsafeMutableBytes(of: &bottom) { $0.copyMemory(from: UnsafeRawBufferPointer(start: r1 + 2 * ox, count: 8 * count)) }
                }
                var raw = top.evenHalf
                var best = raw * scale + shift
                var index = SIMD8<Float>(repeating: 0)
                // Each further cell is taken where it beats the best so far; written out
                // rather than called, which the compiler would not inline.
                // `!(v <= best)` also lets a NaN through, as the unfused pool does.
                let c1 = top.oddHalf, v1 = c1 * scale + shift, better1 = .!(v1 .<= best)
                best.replace(with: v1, where: better1); raw.replace(with: c1, where: better1); index.replace(with: 1, where: better1)
                let c2 = bottom.evenHalf, v2 = c2 * scale + shift, better2 = .!(v2 .<= best)
                best.replace(with: v2, where: better2); raw.replace(with: c2, where: better2); index.replace(with: 2, where: better2)
                let c3 = bottom.oddHalf, v3 = c3 * scale + shift, better3 = .!(v3 .<= best)
                best.replace(with: v3, where: better3); raw.replace(with: c3, where: better3); index.replace(with: 3, where: better3)
                let rectified = best.replacing(with: 0, where: best .<= 0)
                if direct {
                    Vector.store(rectified, y + o + ox)
                    Vector.store(raw, value + o + ox)
                    Vector.store(index, win + o + ox)
                } else {
                    for k in 0..<count {
                        y[o + ox + k] = rectified[k]
                        value[o + ox + k] = raw[k]
                        win[o + ox + k] = index[k]
                    }
                }
                ox += count
            }
        }
    }
}
