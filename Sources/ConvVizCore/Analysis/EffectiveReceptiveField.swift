/// The effective receptive field (Luo, Li, Urtasun and Zemel, NeurIPS 2016): how much
/// each input pixel actually moves one unit, |d unit / d input|, averaged over inputs.
/// It is concentrated near the centre of the theoretical field and falls off roughly
/// like a Gaussian, so it is smaller than the theoretical box.
public struct EffectiveReceptiveField: Sendable {
    /// `[H, W]` mean |gradient| over inputs and channels.
    public let map: Tensor
    public let peak: Float

    /// `inputs` is a standardized batch `[N, C, H, W]`; the unit is position (y, x) of
    /// layer `layer`'s output, all channels summed.
    public init(model: Sequential, layer: Int, unit: (y: Int, x: Int), inputs: Tensor) {
        let out = model.forward(inputs, mode: .evaluationWithGradients, through: layer)
        self.init(output: out, unit: unit) { model.backward($0, from: layer) }
    }

    /// The same through any graph: gradients add up over every branch.
    public init(graph: Graph, layer: Int, unit: (y: Int, x: Int), inputs: Tensor) {
        let out = graph.output(inputs, mode: .evaluationWithGradients, through: layer)
        self.init(output: out, unit: unit) { graph.inputGradient($0, from: layer) }
    }

    private init(output out: Tensor, unit: (y: Int, x: Int), inputGradient: (Tensor) -> Tensor) {
        precondition(out.rank == 4, "the effective field needs a layer with spatial output")
        let (n, c, h, w) = (out.shape[0], out.shape[1], out.shape[2], out.shape[3])
        precondition(unit.y >= 0 && unit.y < h && unit.x >= 0 && unit.x < w, "unit \(unit) outside \(h)x\(w)")
        var grad = Tensor(shape: out.shape)
        for s in 0..<n { for k in 0..<c { grad[s, k, unit.y, unit.x] = 1 } }
        let dx = inputGradient(grad)
        let (ci, hi, wi) = (dx.shape[1], dx.shape[2], dx.shape[3])
        var map = Tensor(shape: [hi, wi])
        for s in 0..<n { for k in 0..<ci { for i in 0..<(hi * wi) {
            map.data[i] += abs(dx.data[(s * ci + k) * hi * wi + i]) / Float(n)
        }}}
        self.map = map
        peak = map.data.max() ?? 0
    }

    /// The image and noisy copies of it (standard deviation 0.5 in standardized units):
    /// the field is an average over inputs, not one photo's accident.
    public static func probeBatch(around image: Tensor, count: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed &+ 11)
        let per = image.count
        var batch = Tensor(shape: [count] + Array(image.shape.dropFirst()))
        for s in 0..<count { for i in 0..<per {
            batch.data[s * per + i] = image.data[i] + (s == 0 ? 0 : 0.5 * rng.normal())
        }}
        return batch
    }

    /// Bounding box `(y0, x0, y1, x1)` (inclusive) of the pixels at or above
    /// `fraction` of the peak.
    public func extent(fraction: Float) -> (y0: Int, x0: Int, y1: Int, x1: Int)? {
        let (h, w) = (map.shape[0], map.shape[1])
        var box: (Int, Int, Int, Int)?
        for y in 0..<h { for x in 0..<w where peak > 0 && map.data[y * w + x] >= fraction * peak {
            box = box.map { (min($0.0, y), min($0.1, x), max($0.2, y), max($0.3, x)) } ?? (y, x, y, x)
        }}
        return box
    }

    /// Gradient-weighted centre of mass (y, x).
    public var centroid: (y: Double, x: Double) {
        let w = map.shape[1]
        var sum = 0.0, sy = 0.0, sx = 0.0
        for (i, v) in map.data.enumerated() { sum += Double(v); sy += Double(v) * Double(i / w); sx += Double(v) * Double(i % w) }
        return sum > 0 ? (sy / sum, sx / sum) : (0, 0)
    }
}
