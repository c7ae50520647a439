import Foundation

/// ROAD: RemOve And Debias (Rong et al. 2022), as pytorch-grad-cam 1.5 defines it
/// (`pytorch_grad_cam/metrics/road.py`). For a map m `[H, W]` and a percentile p:
/// - MoRF (`ROADMostRelevantFirst(p)`): the pixels with m >= t, t = numpy's
///   `percentile(m, p)` (linear, in Float32), are removed: the most relevant 100 - p %.
/// - LeRF (`ROADLeastRelevantFirst(p)`): the same on 1 - m: the pixels with
///   1 - m >= percentile(1 - m, p) are removed, the least relevant 100 - p %.
/// Removed pixels are filled by noisy linear imputation (`NoisyLinearImputation`); the
/// score is the target's value on the imputed image minus its value on the image (both
/// the logit, grad-cam's `ClassifierOutputTarget`, and the softmax probability,
/// `ClassifierOutputSoftmaxTarget`). The averaged variants (`ROADMostRelevantFirstAverage`,
/// `...LeastRelevantFirstAverage`) take the mean over the percentiles (default 10, 20, ...,
/// 90), and `ROADCombined` is (LeRF - MoRF) / 2. A faithful map drops the score when its
/// most relevant pixels go (MoRF very negative) and keeps it when its least relevant go
/// (LeRF near 0): higher combined is better.
public struct ROAD: Sendable {
    /// One percentile's scores.
    public struct Point: Sendable {
        public let percentile: Int
        public let morfLogit: Double, lerfLogit: Double
        public let morfProbability: Double, lerfProbability: Double
    }

    public let points: [Point]
    public var morfLogit: Double { mean(\.morfLogit) }
    public var lerfLogit: Double { mean(\.lerfLogit) }
    public var morfProbability: Double { mean(\.morfProbability) }
    public var lerfProbability: Double { mean(\.lerfProbability) }
    /// `ROADCombined`: (LeRF - MoRF) / 2 of the probability.
    public var combinedProbability: Double { (lerfProbability - morfProbability) / 2 }
    public var combinedLogit: Double { (lerfLogit - morfLogit) / 2 }

    public static let defaultPercentiles = [10, 20, 30, 40, 50, 60, 70, 80, 90]

    private func mean(_ key: KeyPath<Point, Double>) -> Double {
        points.map { $0[keyPath: key] }.reduce(0, +) / Double(Swift.max(1, points.count))
    }

    /// `x` one image `[C, H, W]` in the model's input space, `map` `[H, W]` (larger: more
    /// relevant). `noise` is the imputer's absolute noise (grad-cam: 0.01), drawn from
    /// the seeded generator (so equal to grad-cam's in distribution, not sample by sample).
    public init(attributor: Attributor, image x: Tensor, map: Tensor, classIndex: Int,
                percentiles: [Int] = ROAD.defaultPercentiles, noise: Float = 0.01, batch: Int = 16, seed: UInt64 = 0) {
        let plane = x.shape[1] * x.shape[2]
        precondition(map.count == plane, "map \(map.shape) for image \(x.shape)")
        let inverse = map.data.map { 1 - $0 }
        // MoRF and LeRF at each percentile: the masks, then the imputations on every
        // core, each with a generator of its own (the same numbers whatever the cores),
        // taken from both ends of the list in turn (low percentiles impute the most).
        let keeps = percentiles.flatMap { p in [map.data, inverse].map { values in
            let t = Self.percentile(values, p)
            return values.map { $0 < t }
        }}
        var imputed = [Tensor](repeating: x, count: keeps.count)
        imputed.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            let n = keeps.count
            Parallel.forEachRange(n) { _, range in
                for r in range {
                    let j = r % 2 == 0 ? r / 2 : n - 1 - r / 2
                    var rng = SeededGenerator(seed: seed &+ 53 &+ UInt64(j))
                    out[j] = NoisyLinearImputation.impute(x, keep: keeps[j], height: x.shape[1], width: x.shape[2], noise: noise, rng: &rng)
                }
            }
        }
        let images = [x] + imputed
        var logits: [Float] = [], probabilities: [Double] = []
        for start in stride(from: 0, to: images.count, by: Swift.max(1, batch)) {
            let part = images[start..<Swift.min(images.count, start + Swift.max(1, batch))]
            let y = attributor.logits(Tensor(shape: [part.count] + x.shape, data: part.flatMap(\.data)))
            let k = y.shape[1]
            for i in 0..<part.count {
                let row = Array(y.data[i * k..<(i + 1) * k])
                logits.append(row[classIndex])
                probabilities.append(AttributionTarget.softmax(row)[classIndex])
            }
        }
        points = percentiles.enumerated().map { i, p in
            let (m, l) = (1 + 2 * i, 2 + 2 * i)
            func logit(_ j: Int) -> Double { Double(logits[j] - logits[0]) }
            func probability(_ j: Int) -> Double { probabilities[j] - probabilities[0] }
            return Point(percentile: p, morfLogit: logit(m), lerfLogit: logit(l), morfProbability: probability(m), lerfProbability: probability(l))
        }
    }

    /// numpy's `percentile(values, p)` (method "linear") on Float32 values, computed as
    /// numpy computes it: index (n - 1) p / 100, interpolation in Float32 from whichever
    /// end is nearer.
    public static func percentile(_ values: [Float], _ p: Int) -> Float {
        let sorted = values.sorted()
        let n = sorted.count
        guard n > 1 else { return sorted.first ?? 0 }
        let index = Double(n - 1) * (Double(p) / 100)
        let lo = Swift.min(Int(index.rounded(.down)), n - 1), hi = Swift.min(lo + 1, n - 1)
        let gamma = index - Double(lo)
        let (a, b) = (sorted[lo], sorted[hi])
        let d = b - a
        return gamma < 0.5 ? a + d * Float(gamma) : b - d * Float(1 - gamma)
    }
}

/// pytorch-grad-cam's `NoisyLinearImputer` (from Rong et al.'s `road_evaluation`): each
/// removed pixel becomes the weighted mean of its 8 neighbours inside the image (weight
/// 1/6 for the 4 sides, 1/12 for the 4 corners, renormalised over the neighbours that
/// exist), removed neighbours being unknowns too: one sparse linear system per channel,
/// solved here by conjugate gradients in Double (grad-cam: a sparse LU, `spsolve`); then
/// `noise` x N(0, 1) added to each imputed value.
public enum NoisyLinearImputation {
    static let neighbours: [(dy: Int, dx: Int, weight: Double)] = [
        (1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
        (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6),
    ]

    /// `x` `[C, H, W]`; `keep` `[H * W]`, false where a pixel is imputed (all channels).
    /// When nothing is kept (a map flat over more than the percentile: the threshold is
    /// its minimum) the system is singular with a zero right-hand side; grad-cam's
    /// `spsolve` then returns 0 for every pixel, and so does this: the image becomes 0
    /// (plus the noise).
    public static func impute(_ x: Tensor, keep: [Bool], height: Int, width: Int, noise: Float, rng: inout SeededGenerator) -> Tensor {
        let plane = height * width
        precondition(keep.count == plane && x.count % plane == 0, "mask \(keep.count) for image \(x.shape)")
        let unknowns = keep.indices.filter { !keep[$0] }
        guard !unknowns.isEmpty else { return x }
        var slot = [Int](repeating: -1, count: plane)
        for (i, p) in unknowns.enumerated() { slot[p] = i }
        // The system L v = r: L_ii = sum of the weights of the neighbours inside the
        // image, L_ij = -w for a removed neighbour j; r_i = sum of w x_j over kept ones.
        let n = unknowns.count
        var diagonal = [Double](repeating: 0, count: n)
        var links: [(Int32, Double)] = [], starts = [Int](repeating: 0, count: n + 1)
        var knownLinks: [[(Int, Double)]] = Array(repeating: [], count: n)
        for (i, p) in unknowns.enumerated() {
            let (y, xx) = (p / width, p % width)
            for (dy, dx, w) in neighbours {
                let (ny, nx) = (y + dy, xx + dx)
                guard ny >= 0, ny < height, nx >= 0, nx < width else { continue }
                diagonal[i] += w
                let q = ny * width + nx
                if keep[q] { knownLinks[i].append((q, w)) } else { links.append((Int32(slot[q]), w)) }
            }
            starts[i + 1] = links.count
        }
        var out = x
        for c in 0..<(x.count / plane) where unknowns.count < plane {
            let base = c * plane
            let rhs = (0..<n).map { i in knownLinks[i].reduce(0.0) { $0 + $1.1 * Double(x.data[base + $1.0]) } }
            let v = conjugateGradients(diagonal: diagonal, links: links, starts: starts, rhs: rhs)
            for (i, p) in unknowns.enumerated() { out.data[base + p] = Float(v[i]) }
        }
        if unknowns.count == plane { out = Tensor(shape: x.shape) }
        if noise != 0 {
            for c in 0..<(x.count / plane) { for p in unknowns { out.data[c * plane + p] += noise * rng.normal() } }
        }
        return out
    }

    /// Solves the symmetric positive definite system (diagonal minus links) v = rhs to a
    /// relative residual of 1e-12.
    static func conjugateGradients(diagonal: [Double], links: [(Int32, Double)], starts: [Int], rhs: [Double]) -> [Double] {
        let n = rhs.count
        func apply(_ v: [Double], into out: inout [Double]) {
            for i in 0..<n {
                var s = diagonal[i] * v[i]
                for k in starts[i]..<starts[i + 1] { s -= links[k].1 * v[Int(links[k].0)] }
                out[i] = s
            }
        }
        // Start from the Jacobi guess of the known neighbours' mean.
        var v = (0..<n).map { rhs[$0] / diagonal[$0] }
        var r = [Double](repeating: 0, count: n), q = r
        apply(v, into: &q)
        for i in 0..<n { r[i] = rhs[i] - q[i] }
        var d = r
        var rr = r.reduce(0) { $0 + $1 * $1 }
        let goal = 1e-24 * Swift.max(rhs.reduce(0) { $0 + $1 * $1 }, 1e-300)
        var iteration = 0
        while rr > goal && iteration < 10 * n + 100 {
            apply(d, into: &q)
            var dq = 0.0
            for i in 0..<n { dq += d[i] * q[i] }
            guard dq > 0 else { break }
            let alpha = rr / dq
            var next = 0.0
            for i in 0..<n { v[i] += alpha * d[i]; r[i] -= alpha * q[i]; next += r[i] * r[i] }
            let beta = next / rr
            for i in 0..<n { d[i] = r[i] + beta * d[i] }
            rr = next
            iteration += 1
        }
        return v
    }
}
