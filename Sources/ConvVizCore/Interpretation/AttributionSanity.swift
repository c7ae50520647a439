/// Adebayo et al.'s (2018) cascading parameter randomisation: the layers with weights
/// (convolutions, linear layers) are re-initialised from the logits down, one more group
/// each step, and each method's map recomputed for the same image and class. A map that
/// explains the network changes as its weights go; one that barely changes (guided
/// backpropagation, in the paper) shows the image more than the model. The change is
/// measured by Spearman's rank correlation with the original map.
public struct CascadingRandomisation {
    public struct Step: Sendable {
        /// The deepest layer randomised so far (nil: the original network).
        public let through: String?
        /// One display map `[H, W]` per method, in `methods` order.
        public let maps: [Tensor]
        /// Spearman's rank correlation of each map with the original one (NaN where a
        /// map is constant): CAMs' raw maps at the layer, the others' display maps.
        public let correlations: [Double]
    }

    public let methods: [AttributionMethod]
    public let steps: [Step]

    /// `x` is one image `[1, C, H, W]`; `groups` cascading steps (the layers with weights
    /// split into that many groups, from the output down). The graph's weights are put
    /// back afterwards. Re-initialisation is PyTorch's default for each layer, from `seed`.
    public init(graph: Graph, image x: Tensor, classIndex: Int, methods: [AttributionMethod], settings: AttributionSettings,
                groups: Int = 5, seed: UInt64 = 0) throws {
        self.methods = methods
        let attributor = Attributor(graph: graph)
        // Correlations of CAMs use the raw map (before ReLU): a randomised network's CAM is
        // often all negative, and after the ReLU a constant that no rank describes.
        func maps() throws -> [AttributionMap] {
            try methods.map { try attributor.attribute($0, inputs: x, pairs: [(0, classIndex)], settings: settings)[0] }
        }
        func compared(_ m: AttributionMap) -> [Float] { m.method.isCAM ? m.raw.data : m.display.data }
        let original = try maps()
        var steps = [Step(through: nil, maps: original.map(\.display), correlations: original.map { Self.spearman(compared($0), compared($0)) })]
        let weighted = graph.operations.indices.reversed().filter { i in
            if case let .layer(l) = graph.operations[i] { return l is Conv2D || l is Linear }
            return false
        }
        let fresh = try graph.architecture.makeGraph(seed: seed &+ 101)
        let saved = graph.operations.map { $0.parameters.map(\.value) }
        defer { for (op, values) in zip(graph.operations, saved) { for (p, v) in zip(op.parameters, values) { p.value = v } } }
        let count = Swift.max(1, Swift.min(groups, weighted.count))
        var done = 0
        for g in 0..<count {
            let end = (g + 1) * weighted.count / count
            for i in weighted[done..<end] {
                for (p, q) in zip(graph.operations[i].parameters, fresh.operations[i].parameters) where p.trainable { p.value = q.value }
            }
            done = end
            let now = try maps()
            steps.append(Step(through: graph.operations[weighted[end - 1]].name, maps: now.map(\.display),
                              correlations: zip(original, now).map { Self.spearman(compared($0), compared($1)) }))
        }
        self.steps = steps
    }

    /// Spearman's rank correlation (average ranks for ties); NaN when either is constant.
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
        func ranks(_ v: [Float]) -> [Double] {
            let order = v.indices.sorted { v[$0] < v[$1] }
            var r = [Double](repeating: 0, count: v.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
                for k in i...j { r[order[k]] = Double(i + j) / 2 }
                i = j + 1
            }
            return r
        }
        let (ra, rb) = (ranks(a), ranks(b))
        let n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in 0..<a.count { let (da, db) = (ra[i] - ma, rb[i] - mb); sab += da * db; saa += da * da; sbb += db * db }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }
}
