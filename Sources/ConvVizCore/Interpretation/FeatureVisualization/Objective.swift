import Foundation

/// One quantity of a layer's output for one image, to be maximized (Lucent's
/// `objectives`, signs turned so that larger is better). The output is `[C]` (a linear
/// layer: logits) or `[C, H, W]`; positions are (y, x).
public enum ObjectiveTerm: Equatable, Sendable, CustomStringConvertible {
    /// `channel(layer, c)`: the channel's mean over positions; for a `[C]` output (logits),
    /// the value of unit c.
    case channel(Int)
    /// `neuron(layer, c, x, y)`: one position of the channel, the centre (H/2, W/2) by
    /// default (the lower right of the central four for even sizes, as Lucent).
    case neuron(Int, y: Int? = nil, x: Int? = nil)
    /// `direction(layer, v)`: the cosine similarity between v and the channel vector at
    /// each position, averaged over positions.
    case direction([Float])

    public var description: String {
        switch self {
        case let .channel(c): return "channel \(c)"
        case let .neuron(c, y, x): return y == nil ? "neuron \(c)" : "neuron \(c) (\(y!), \(x!))"
        case .direction: return "direction"
        }
    }

    /// The value for one image's output `a` (`channels` x `positions`, row-major), and
    /// its gradient added into `grad` times `weight`.
    func evaluate(_ a: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                  gradient grad: UnsafeMutablePointer<Float>, weight: Float) -> Double {
        let positions = height * width
        switch self {
        case let .channel(c):
            var sum = 0.0
            for p in 0..<positions { sum += Double(a[c * positions + p]) }
            for p in 0..<positions { grad[c * positions + p] += weight / Float(positions) }
            return sum / Double(positions)
        case let .neuron(c, y, x):
            let p = (y ?? height / 2) * width + (x ?? width / 2)
            grad[c * positions + p] += weight
            return Double(a[c * positions + p])
        case let .direction(v):
            // torch.nn.CosineSimilarity(dim=1): v.a / (max(|v|, eps) max(|a|, eps)), eps 1e-8.
            let eps = 1e-8
            let vn = max(v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), eps)
            var total = 0.0
            for p in 0..<positions {
                var dot = 0.0, aa = 0.0
                for c in 0..<channels { let x = Double(a[c * positions + p]); dot += Double(v[c]) * x; aa += x * x }
                let an = aa.squareRoot(), cosine = dot / (vn * max(an, eps))
                total += cosine
                for c in 0..<channels {
                    let x = Double(a[c * positions + p])
                    // d cos / d a_c = v_c / (|v| |a|) - cos a_c / |a|^2 (the second term only where |a| > eps).
                    var d = Double(v[c]) / (vn * max(an, eps))
                    if an > eps { d -= cosine * x / aa }
                    grad[c * positions + p] += weight * Float(d / Double(positions))
                }
            }
            return total / Double(positions)
        }
    }

    /// Checks the term against a layer's per-sample output shape; the message says why not.
    public func problem(forOutput shape: [Int]) -> String? {
        let channels = shape.first ?? 0
        let (h, w) = shape.count >= 3 ? (shape[1], shape[2]) : (1, 1)
        switch self {
        case let .channel(c), let .neuron(c, _, _):
            if c < 0 || c >= channels { return "channel \(c) is out of range: the layer has \(channels)" }
            if case let .neuron(_, y?, x?) = self, !(0..<h).contains(y) || !(0..<w).contains(x) {
                return "position (\(y), \(x)) is outside the layer's \(h)x\(w) maps"
            }
        case let .direction(v):
            if v.count != channels { return "the direction has \(v.count) values, the layer has \(channels) channels" }
        }
        return nil
    }
}

/// What one image of the batch maximizes: a weighted sum of terms (Lucent's objectives
/// added and scaled).
public struct UnitObjective: Equatable, Sendable, CustomStringConvertible {
    public var terms: [Term]
    public struct Term: Equatable, Sendable {
        public var weight: Float
        public var term: ObjectiveTerm
        public init(_ weight: Float, _ term: ObjectiveTerm) { self.weight = weight; self.term = term }
    }

    public init(_ terms: [Term]) { self.terms = terms }
    public init(_ term: ObjectiveTerm) { terms = [Term(1, term)] }

    public var description: String {
        terms.map { $0.weight == 1 ? $0.term.description : "\($0.weight) x \($0.term)" }.joined(separator: " + ")
    }
}

/// The objective of a whole batch: image b maximizes `units[b]`; consecutive groups of
/// `groupSize` images (one unit's) are pushed apart by Lucent's `diversity` with weight
/// `diversity`. The loss minimized is -sum_b value_b + diversity * sum_groups D, with D
/// Lucent's (the batch-mean of the summed cosine similarities between the images' Gram
/// matrices of the layer's channels).
public struct BatchObjective: Sendable {
    public var units: [UnitObjective]
    public var groupSize: Int
    public var diversity: Float

    public init(units: [UnitObjective], groupSize: Int = 1, diversity: Float = 0) {
        precondition(groupSize >= 1 && units.count % groupSize == 0)
        self.units = units
        self.groupSize = groupSize
        self.diversity = diversity
    }

    public struct Evaluation {
        /// Per image, the value of its objective (what the figure reports).
        public var values: [Float]
        /// Per group, Lucent's diversity D (0 for groups of one).
        public var similarities: [Float]
        /// The loss minimized.
        public var loss: Double
        /// dLoss/d(activations), shaped as the activations.
        public var gradient: Tensor
    }

    /// Values, loss and gradient for the layer's output `[N, C]` or `[N, C, H, W]`.
    public func evaluate(_ activations: Tensor) -> Evaluation {
        let n = activations.shape[0]
        precondition(n == units.count, "\(n) images for \(units.count) objectives")
        let c = activations.shape.count > 1 ? activations.shape[1] : 1
        let h = activations.rank >= 4 ? activations.shape[2] : 1
        let w = activations.rank >= 4 ? activations.shape[3] : activations.count / max(1, n * c * h)
        let per = activations.count / max(n, 1)
        var gradient = Tensor(shape: activations.shape)
        var values = [Float](repeating: 0, count: n), loss = 0.0
        activations.data.withUnsafeBufferPointer { ab in gradient.data.withUnsafeMutableBufferPointer { gb in
            for b in 0..<n {
                var v = 0.0
                for t in units[b].terms {
                    // The loss is -value: its gradient is -weight times the term's.
                    v += Double(t.weight) * t.term.evaluate(ab.baseAddress! + b * per, channels: c, height: h, width: w,
                                                            gradient: gb.baseAddress! + b * per, weight: -t.weight)
                }
                values[b] = Float(v)
                loss -= v
            }
        }}
        var similarities: [Float] = []
        for g in stride(from: 0, to: n, by: groupSize) {
            let d = Self.diversity(activations, images: g..<(g + groupSize), channels: c,
                                   addingGradientTo: &gradient, weight: diversity)
            similarities.append(Float(d))
            loss += Double(diversity) * d
        }
        return Evaluation(values: values, similarities: similarities, loss: loss, gradient: gradient)
    }

    /// Lucent's `diversity(layer)` (negated: the similarity): for each image its Gram
    /// matrix G = F F^T of the channels F `[C, positions]`, normalized to unit Frobenius
    /// norm (eps 1e-12), then the sum over ordered pairs i != j of <G_i, G_j>, divided by
    /// the number of images. Adds `weight` times dD/d(activations) to `gradient` (nothing
    /// for weight 0).
    static func diversity(_ act: Tensor, images: Range<Int>, channels c: Int,
                          addingGradientTo gradient: inout Tensor, weight: Float) -> Double {
        let b = images.count
        guard b > 1 else { return 0 }
        let per = act.count / act.shape[0], p = per / c
        var grams = [[Float]](), norms = [Float]()
        act.data.withUnsafeBufferPointer { ab in
            for i in images {
                var g = [Float](repeating: 0, count: c * c)
                let f = ab.baseAddress! + i * per
                g.withUnsafeMutableBufferPointer { gp in
                    BLAS.gemm(transB: true, m: c, n: c, k: p, a: f, lda: p, b: f, ldb: p, c: gp.baseAddress!, ldc: c)
                }
                let norm = max(g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), 1e-12)
                norms.append(Float(norm))
                grams.append(g.map { $0 / Float(norm) })
            }
        }
        var total = 0.0
        for i in 0..<b { for j in 0..<b where j != i {
            total += zip(grams[i], grams[j]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }}
        let d = total / Double(b)
        guard weight != 0 else { return d }
        let sum = (0..<(c * c)).map { k in grams.reduce(Float(0)) { $0 + $1[k] } }
        for (slot, i) in images.enumerated() {
            // dD/dG^_i = (2/B) sum_{j != i} G^_j; through the normalization:
            // dD/dG_i = (H - <H, G^> G^) / |G|; through G = F F^T: dD/dF = 2 K F (K symmetric).
            let gi = grams[slot]
            let hmat = (0..<(c * c)).map { 2 / Float(b) * (sum[$0] - gi[$0]) }
            let proj = zip(hmat, gi).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let k = (0..<(c * c)).map { (hmat[$0] - proj * gi[$0]) / norms[slot] }
            act.data.withUnsafeBufferPointer { ab in gradient.data.withUnsafeMutableBufferPointer { gb in
                k.withUnsafeBufferPointer { kp in
                    BLAS.gemm(m: c, n: p, k: c, alpha: 2 * weight, a: kp.baseAddress!, lda: c,
                              b: ab.baseAddress! + i * per, ldb: p, beta: 1, c: gb.baseAddress! + i * per, ldc: p)
                }
            }}
        }
        return d
    }
}
