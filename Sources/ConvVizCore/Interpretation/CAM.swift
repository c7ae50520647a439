/// The class-activation-map family at one layer, as pytorch-grad-cam 1.5 computes it:
/// one pipeline (forward, backward to the layer, a per-method map, post-processing), each
/// method one small rule. With activations A `[C, h, w]` and gradients G = d score / d A
/// of the target class's logit:
public enum CAMMethod: String, CaseIterable, Sendable {
    /// w_c = mean_ij G_cij; cam = sum_c w_c A_c.
    case gradcam
    /// w_c = sum_ij relu(G) a_ij with a = G^2 / (2 G^2 + sum_ij A_c G^3 + 1e-6) (0 where G = 0).
    case gradcamPlusPlus = "gradcam++"
    /// cam = sum_c G_c * A_c (elementwise).
    case hirescam
    /// w_c = sum_ij G A / (sum_ij A_c + 1e-7).
    case xgradcam
    /// cam = sum_c relu(G_c) * A_c.
    case layercam
    /// cam = the projection of the centred activations (pixels x channels) on their first
    /// principal direction (no gradients).
    case eigencam
    /// The same on G * A.
    case eigengradcam
    /// w = softmax_c(score of the image times A_c upsampled and min-max scaled).
    case scorecam
    /// w_c = (score - score with channel c ablated) / score.
    case ablationcam

    var usesGradients: Bool { ![.eigencam, .scorecam, .ablationcam].contains(self) }
}

/// Runs a `CAMMethod` on a batch at one layer.
struct CAMPipeline {
    let attributor: Attributor
    let layer: Int

    /// Raw maps `[h, w]` (before ReLU and min-max) and grad-cam's maps `[H, W]` in [0, 1].
    func run(_ method: CAMMethod, inputs x: Tensor, classes: [Int], settings: AttributionSettings,
             progress: Attributor.Progress?) throws -> (raw: [Tensor], maps: [Tensor]) {
        let graph = attributor.graph, output = attributor.output
        let (n, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let activations: Tensor, gradients: Tensor?, logits: Tensor
        if method.usesGradients {
            let values = graph.forward(x, mode: .evaluationWithGradients, through: output, keep: [layer])
            activations = values[layer]!
            logits = values[output]!
            gradients = try graph.gradients(attributor.seed(classes: classes), from: output, at: [layer])[layer]!
        } else {
            let values = graph.forward(x, mode: .evaluation, through: output, keep: [layer])
            activations = values[layer]!
            logits = values[output]!
            gradients = nil
        }
        let (c, h, w) = (activations.shape[1], activations.shape[2], activations.shape[3])
        let plane = h * w
        var raws: [Tensor] = [], maps: [Tensor] = []
        for i in 0..<n {
            let a = Array(activations.data[i * c * plane..<(i + 1) * c * plane])
            let g = gradients.map { Array($0.data[i * c * plane..<(i + 1) * c * plane]) } ?? []
            var cam = [Float](repeating: 0, count: plane)
            func weighted(_ weights: [Float]) {
                for k in 0..<c { let wk = weights[k]; for p in 0..<plane { cam[p] += wk * a[k * plane + p] } }
            }
            switch method {
            case .gradcam:
                weighted((0..<c).map { k in Self.sum(g[k * plane..<(k + 1) * plane]) / Float(plane) })
            case .gradcamPlusPlus:
                weighted((0..<c).map { k in
                    let sumA = Self.sum(a[k * plane..<(k + 1) * plane])
                    var total: Float = 0
                    for p in k * plane..<(k + 1) * plane where g[p] != 0 {
                        let g2 = g[p] * g[p], g3 = g2 * g[p]
                        total += Swift.max(g[p], 0) * (g2 / (2 * g2 + sumA * g3 + 0.000001))
                    }
                    return total
                })
            case .xgradcam:
                weighted((0..<c).map { k in
                    let sumA = Self.sum(a[k * plane..<(k + 1) * plane])
                    var total: Float = 0
                    for p in k * plane..<(k + 1) * plane { total += g[p] * a[p] / (sumA + 1e-7) }
                    return total
                })
            case .hirescam:
                for k in 0..<c { for p in 0..<plane { cam[p] += g[k * plane + p] * a[k * plane + p] } }
            case .layercam:
                for k in 0..<c { for p in 0..<plane { cam[p] += Swift.max(g[k * plane + p], 0) * a[k * plane + p] } }
            case .eigencam:
                cam = CAMProjection.firstComponent(a, channels: c, pixels: plane)
            case .eigengradcam:
                cam = CAMProjection.firstComponent(zip(g, a).map { $0 * $1 }, channels: c, pixels: plane)
            case .scorecam:
                weighted(try scoreCAMWeights(x: Attributor.sample(x, i), activations: a, c: c, h: h, w: w, classIndex: classes[i],
                                             settings: settings, progress: progress.map { p in { p(i * c + $0, n * c) } }))
            case .ablationcam:
                let score = attributor.scores(logits.reshaped([n, logits.count / n]), classes: classes)[i]
                weighted(ablationWeights(x: Attributor.sample(x, i), activations: a, c: c, h: h, w: w, classIndex: classes[i], score: score,
                                         settings: settings, progress: progress.map { p in { p(i * c + $0, n * c) } }))
            }
            raws.append(Tensor(shape: [h, w], data: cam))
            maps.append(Tensor(shape: [height, width], data: Self.postprocess(cam, h: h, w: w, to: height, width)))
        }
        return (raws, maps)
    }

    /// pytorch-grad-cam's post-processing of one layer's map: ReLU, min-max, bilinear to
    /// the input size (`compute_cam_per_layer`), then ReLU and min-max again
    /// (`aggregate_multi_layers`).
    static func postprocess(_ cam: [Float], h: Int, w: Int, to height: Int, _ width: Int) -> [Float] {
        let scaled = AttributionResampling.minMax(cam.map { Swift.max($0, 0) })
        let resized = AttributionResampling.bilinear(scaled, height: h, width: w, to: height, width)
        return AttributionResampling.minMax(resized.map { Swift.max($0, 0) })
    }

    static func sum(_ values: ArraySlice<Float>) -> Float {
        Float(values.reduce(0.0) { $0 + Double($1) })
    }

    /// Score-CAM: each channel, upsampled with aligned corners and min-max scaled
    /// (+1e-8), masks the image; the masked images' target logits, softmaxed over
    /// channels, are the weights.
    private func scoreCAMWeights(x: Tensor, activations a: [Float], c: Int, h: Int, w: Int, classIndex: Int,
                                 settings: AttributionSettings, progress: ((Int) -> Void)?) throws -> [Float] {
        let (channels, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let plane = height * width
        var scores = [Float](); scores.reserveCapacity(c)
        for start in stride(from: 0, to: c, by: Swift.max(1, settings.batch)) {
            let count = Swift.min(Swift.max(1, settings.batch), c - start)
            var batch = Tensor(uninitializedShape: [count, channels, height, width])
            for j in 0..<count {
                let k = start + j
                let up = AttributionResampling.bilinearAlignedCorners(Array(a[k * h * w..<(k + 1) * h * w]), height: h, width: w, to: height, width)
                let lo = up.min()!, hi = up.max()!
                for ch in 0..<channels { for p in 0..<plane {
                    batch.data[(j * channels + ch) * plane + p] = x.data[ch * plane + p] * ((up[p] - lo) / (hi - lo + 1e-8))
                }}
            }
            scores += attributor.scores(attributor.logits(batch), classes: Array(repeating: classIndex, count: count))
            progress?(start + count)
        }
        return AttributionTarget.softmax(scores).map { Float($0) }
    }

    /// Ablation-CAM: the layer's activations with channel c set to 0 (or, when the
    /// layer's minimum is not 0, to that minimum - 1e7, as grad-cam's `AblationLayer`),
    /// run through the rest of the network.
    private func ablationWeights(x: Tensor, activations a: [Float], c: Int, h: Int, w: Int, classIndex: Int, score: Float,
                                 settings: AttributionSettings, progress: ((Int) -> Void)?) -> [Float] {
        let graph = attributor.graph
        let lowest = a.min() ?? 0
        let ablated: Float = lowest == 0 ? 0 : lowest - 1e7
        let plane = h * w
        var weights = [Float](); weights.reserveCapacity(c)
        for start in stride(from: 0, to: c, by: Swift.max(1, settings.batch)) {
            let count = Swift.min(Swift.max(1, settings.batch), c - start)
            var values = Tensor(uninitializedShape: [count, c, h, w])
            var inputs = Tensor(uninitializedShape: [count] + x.shape)
            for j in 0..<count {
                values.data.replaceSubrange(j * a.count..<(j + 1) * a.count, with: a)
                for p in 0..<plane { values.data[j * a.count + (start + j) * plane + p] = ablated }
                inputs.data.replaceSubrange(j * x.count..<(j + 1) * x.count, with: x.data)
            }
            let y = graph.forward(inputs, mode: .evaluation, through: attributor.output, replacing: [layer: values])[attributor.output]!
            for s in attributor.scores(y.reshaped([count, y.count / count]), classes: Array(repeating: classIndex, count: count)) {
                weights.append((score - s) / score)
            }
            progress?(start + count)
        }
        return weights
    }
}
