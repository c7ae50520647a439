/// The attribution methods, with the reference each follows exactly (formulas in
/// docs/attribution.md).
public enum AttributionMethod: String, CaseIterable, Sendable {
    // Class activation maps at a layer: pytorch-grad-cam 1.5.
    case gradcam, gradcamPlusPlus = "gradcam++", hirescam, xgradcam, layercam, eigencam, eigengradcam, scorecam, ablationcam
    // Maps in the input space: Captum.
    case saliency, inputXGradient = "input-x-gradient", integratedGradients = "integrated-gradients", smoothgrad
    /// SmoothGrad over integrated gradients: Captum's `NoiseTunnel(IntegratedGradients)`.
    case smoothgradIG = "smoothgrad-ig"
    case guidedBackprop = "guided-backprop", deconvnet, guidedGradcam = "guided-gradcam", occlusion

    /// Whether the method explains a layer's activations (a coarse map upsampled).
    public var isCAM: Bool { CAMMethod(rawValue: rawValue) != nil }
    /// Whether the map has both signs worth showing (a diverging scale).
    public var isSigned: Bool { [.inputXGradient, .integratedGradients, .smoothgradIG, .guidedBackprop, .deconvnet, .guidedGradcam, .occlusion].contains(self) }
    /// Whether the method needs a layer (CAMs and Guided Grad-CAM).
    public var usesLayer: Bool { isCAM || self == .guidedGradcam }
}

/// What a method needs beside the image and the class.
public struct AttributionSettings: Sendable {
    /// The layer a CAM explains (index in the graph).
    public var layer: Int?
    /// Integrated gradients: Gauss-Legendre points (Captum's default method).
    public var steps = 50
    public var baseline: AttributionBaseline = .zero
    /// SmoothGrad: noisy copies, and the noise's standard deviation as a fraction of the
    /// image's value range (max - min), as Smilkov et al. propose (10-20%).
    public var samples = 25
    public var noise: Float = 0.15
    /// Occlusion: square window and stride in pixels, over all channels; occluded
    /// pixels take the baseline's value.
    public var window = 16
    public var stride = 8
    /// Images the network runs at once for the many-pass methods (IG steps, SmoothGrad
    /// samples, Score-CAM masks, Ablation-CAM channels, occlusion windows).
    public var batch = 16
    public var seed: UInt64 = 0

    public init() {}
}

/// The reference input integrated gradients (and occlusion) start from.
public enum AttributionBaseline: String, CaseIterable, Sendable {
    /// All zeros in the model's input space (the standardized mean image).
    case zero
    /// The image blurred (Gaussian, sigma = 1/16 of the shorter side).
    case blur
    /// Uniform noise over the image's value range (seeded).
    case uniform
}

/// One map: a method's answer for one image and one class.
public struct AttributionMap: Sendable {
    public let method: AttributionMethod
    public let image: Int
    public let classIndex: Int
    /// Raw values before any display normalisation: CAMs `[h, w]` at the layer's
    /// resolution before ReLU and min-max; the others `[C, H, W]` in the input space.
    public let raw: Tensor
    /// What is drawn, `[H, W]`: CAMs as pytorch-grad-cam returns them (ReLU, min-max,
    /// upsampled, in [0, 1]); the others summed over channels (signed where the method is).
    public let display: Tensor
    /// Integrated gradients: F(x) - F(baseline) - sum(attributions), the completeness gap.
    public let completenessGap: Double?
}

/// A network ready to explain: the graph and the output layer whose logits are the
/// targets.
public struct Attributor {
    public let graph: Graph
    /// The layer whose values are the logits (the network's output).
    public let output: Int
    public typealias Progress = (_ done: Int, _ total: Int) -> Void

    public init(graph: Graph, output: Int? = nil) {
        self.graph = graph
        self.output = output ?? graph.operations.count - 1
    }

    /// Logits `[N, K]` of a batch.
    public func logits(_ x: Tensor) -> Tensor {
        let y = graph.output(x, through: output)
        return y.reshaped([y.shape[0], y.count / y.shape[0]])
    }

    /// The default CAM layer: the last layer with a spatial output (`[C, H, W]`, H*W > 1)
    /// that feeds the output.
    public func defaultLayer() -> Int? {
        let feeding = Wiring.ancestors(of: output, in: graph.wiring)
        return graph.shapes.indices.last { feeding.contains($0) && graph.shapes[$0].count == 3 && graph.shapes[$0][1] * graph.shapes[$0][2] > 1 }
    }

    /// Maps for each (image, class) pair; `x` is `[N, C, H, W]` in the model's input
    /// space. Throws when a layer is needed and missing, or does not feed the output.
    public func attribute(_ method: AttributionMethod, inputs x: Tensor, pairs: [(image: Int, classIndex: Int)],
                          settings: AttributionSettings = AttributionSettings(), progress: Progress? = nil) throws -> [AttributionMap] {
        guard !pairs.isEmpty else { return [] }
        let batch = Self.gather(x, pairs.map(\.image))
        let classes = pairs.map(\.classIndex)
        if let cam = CAMMethod(rawValue: method.rawValue) {
            let layer = try checkedLayer(settings.layer)
            let result = try CAMPipeline(attributor: self, layer: layer).run(cam, inputs: batch, classes: classes, settings: settings, progress: progress)
            return pairs.indices.map { i in
                AttributionMap(method: method, image: pairs[i].image, classIndex: classes[i], raw: result.raw[i], display: result.maps[i], completenessGap: nil)
            }
        }
        return try InputAttribution(attributor: self).run(method, inputs: batch, classes: classes, settings: settings, progress: progress).enumerated().map { i, r in
            AttributionMap(method: method, image: pairs[i].image, classIndex: classes[i], raw: r.raw, display: Self.channelSum(r.raw), completenessGap: r.gap)
        }
    }

    func checkedLayer(_ layer: Int?) throws -> Int {
        guard let layer = layer ?? defaultLayer() else { throw GradientError("the network has no layer with a spatial output to explain") }
        guard graph.shapes[layer].count == 3 else {
            throw GradientError("layer '\(graph.operations[layer].name)' has output \(graph.shapes[layer]); a CAM needs a [C, H, W] layer")
        }
        guard Wiring.ancestors(of: output, in: graph.wiring).contains(layer), layer != output else {
            throw GradientError("layer '\(graph.operations[layer].name)' does not feed the output '\(graph.operations[output].name)'")
        }
        return layer
    }

    /// The rows `indices` of a batch.
    static func gather(_ x: Tensor, _ indices: [Int]) -> Tensor {
        let per = x.count / x.shape[0]
        var data = [Float](); data.reserveCapacity(per * indices.count)
        for i in indices { data += x.data[i * per..<(i + 1) * per] }
        return Tensor(shape: [indices.count] + Array(x.shape.dropFirst()), data: data)
    }

    /// Sample `i` of a batch, without its batch axis.
    static func sample(_ x: Tensor, _ i: Int) -> Tensor {
        let per = x.count / x.shape[0]
        return Tensor(shape: Array(x.shape.dropFirst()), data: Array(x.data[i * per..<(i + 1) * per]))
    }

    /// `[C, H, W]` summed over channels to `[H, W]`.
    static func channelSum(_ t: Tensor) -> Tensor {
        let (c, plane) = (t.shape[0], t.count / t.shape[0])
        var out = [Float](repeating: 0, count: plane)
        for k in 0..<c { for i in 0..<plane { out[i] += t.data[k * plane + i] } }
        return Tensor(shape: Array(t.shape.dropFirst()), data: out)
    }

    /// One-hot seeds `[N, K]` for the target classes.
    func seed(classes: [Int]) -> Tensor {
        let k = graph.shapes[output].reduce(1, *)
        var s = Tensor(shape: [classes.count] + graph.shapes[output])
        for (i, c) in classes.enumerated() { s.data[i * k + c] = 1 }
        return s
    }

    /// The target logits of a batch's output `[N, K]`: row i's class `classes[i]`.
    func scores(_ y: Tensor, classes: [Int]) -> [Float] {
        let k = y.count / y.shape[0]
        return classes.enumerated().map { y.data[$0.offset * k + $0.element] }
    }

    /// Runs `x` (any batch) in slices of `size` and gives each slice's logits.
    func logitsInSlices(_ x: Tensor, size: Int, _ body: (Range<Int>, Tensor) -> Void) {
        let n = x.shape[0]
        for start in stride(from: 0, to: n, by: Swift.max(1, size)) {
            let range = start..<Swift.min(n, start + Swift.max(1, size))
            body(range, logits(Self.gather(x, Array(range))))
        }
    }
}
