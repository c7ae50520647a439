import Foundation

/// The input-space methods, with Captum's definitions. With F the target class's logit
/// and x one image `[C, H, W]`:
/// - saliency: |dF/dx| (`Saliency`, abs=True);
/// - input-x-gradient: x * dF/dx;
/// - integrated gradients: (x - b) * sum_i w_i dF/dx(b + a_i (x - b)), a_i and w_i the
///   Gauss-Legendre points and weights on [0, 1] (Captum's default `gausslegendre`);
/// - smoothgrad: the mean of |dF/dx| over noisy copies x + N(0, sigma^2) (`NoiseTunnel`
///   over `Saliency`); smoothgrad-ig: the mean of integrated gradients over the same
///   noisy copies, from the clean image's baseline (`NoiseTunnel` over
///   `IntegratedGradients`, nt_type "smoothgrad");
/// - guided-backprop and deconvnet: dF/dx with every ReLU's backward rule replaced
///   (`ReLURule`);
/// - guided-gradcam: guided backprop times Grad-CAM's ReLU'd map at the layer (no
///   min-max), upsampled by nearest neighbour (`GuidedGradCam`);
/// - occlusion: for each window position, F(x) - F(x with the window set to the
///   baseline), spread over the window and averaged over the windows covering a pixel.
struct InputAttribution {
    let attributor: Attributor

    struct Result { let raw: Tensor; let gap: Double? }

    func run(_ method: AttributionMethod, inputs x: Tensor, classes: [Int], settings: AttributionSettings,
             progress: Attributor.Progress?) throws -> [Result] {
        let n = x.shape[0]
        switch method {
        case .saliency:
            return try gradient(x, classes: classes, rule: .plain).map { Result(raw: Self.map($0) { abs($0) }, gap: nil) }
        case .inputXGradient:
            let g = try gradient(x, classes: classes, rule: .plain)
            return (0..<n).map { i in Result(raw: Self.product(Attributor.sample(x, i), g[i]), gap: nil) }
        case .guidedBackprop:
            return try gradient(x, classes: classes, rule: .guided).map { Result(raw: $0, gap: nil) }
        case .deconvnet:
            return try gradient(x, classes: classes, rule: .deconvnet).map { Result(raw: $0, gap: nil) }
        case .integratedGradients:
            return try (0..<n).map { i in try integratedGradients(Attributor.sample(x, i), classIndex: classes[i], settings: settings,
                                                                  progress: progress.map { p in { p(i * settings.steps + $0, n * settings.steps) } }) }
        case .smoothgrad, .smoothgradIG:
            let base: AttributionMethod = method == .smoothgrad ? .saliency : .integratedGradients
            let per = base == .saliency ? settings.samples : settings.samples * settings.steps
            return try (0..<n).map { i in
                let image = Attributor.sample(x, i)
                return try noiseTunnel(image, over: base, noise: noise(for: image, settings: settings), classIndex: classes[i], settings: settings,
                                       progress: progress.map { p in { p(i * per + $0, n * per) } })
            }
        case .guidedGradcam:
            return try guidedGradCAM(x, classes: classes, settings: settings)
        case .occlusion:
            return (0..<n).map { i in occlusion(Attributor.sample(x, i), classIndex: classes[i], settings: settings, progress: progress) }
        default:
            preconditionFailure("\(method) is a CAM")
        }
    }

    /// dF/dx per image of a batch (F each row's class logit), under a ReLU rule.
    func gradient(_ x: Tensor, classes: [Int], rule: ReLURule) throws -> [Tensor] {
        let graph = attributor.graph
        _ = graph.forward(x, mode: .evaluationWithGradients, through: attributor.output)
        let g = try graph.gradients(attributor.seed(classes: classes), from: attributor.output, at: [-1], rule: rule)[-1]!
        return (0..<x.shape[0]).map { Attributor.sample(g, $0) }
    }

    /// The gradients at `count` points (copies of one image made by `fill`, which writes
    /// point i into the buffer), computed in slices of at most `settings.batch`, as even as
    /// can be (50 steps at 16: 13, 13, 13, 11, not 16, 16, 16, 2, whose last slice runs at
    /// a small batch's lower speed); `body` gets each point's index and gradient, in order.
    private func gradients(at count: Int, shape: [Int], classIndex: Int, settings: AttributionSettings,
                           fill: (Int, inout ArraySlice<Float>) -> Void, progress: ((Int) -> Void)?,
                           _ body: (Int, Tensor) -> Void) throws {
        let per = shape.reduce(1, *)
        let cap = Swift.max(1, settings.batch)
        let slices = (count + cap - 1) / cap
        let size = Swift.max(1, (count + Swift.max(slices, 1) - 1) / Swift.max(slices, 1))
        for start in stride(from: 0, to: count, by: size) {
            let range = start..<Swift.min(count, start + size)
            var slice = Tensor(uninitializedShape: [range.count] + shape)
            for (j, i) in range.enumerated() { fill(i, &slice.data[j * per..<(j + 1) * per]) }
            let grads = try gradient(slice, classes: Array(repeating: classIndex, count: range.count), rule: .plain)
            for (j, g) in grads.enumerated() { body(range.lowerBound + j, g) }
            progress?(range.upperBound)
        }
    }

    private func integratedGradients(_ x: Tensor, classIndex: Int, settings: AttributionSettings, progress: ((Int) -> Void)?) throws -> Result {
        let b = AttributionBaselines.make(settings.baseline, for: x, seed: settings.seed)
        let attribution = try integratedGradients(x, baseline: b, classIndex: classIndex, settings: settings, progress: progress)
        let ends = attributor.logits(Attributor.gather(Tensor(shape: [2] + x.shape, data: x.data + b.data), [0, 1]))
        let scores = attributor.scores(ends, classes: [classIndex, classIndex])
        let gap = Double(scores[0]) - Double(scores[1]) - attribution.data.reduce(0.0) { $0 + Double($1) }
        return Result(raw: attribution, gap: gap)
    }

    /// (x - b) * sum_i w_i dF/dx(b + a_i (x - b)), Gauss-Legendre a_i and w_i on [0, 1].
    private func integratedGradients(_ x: Tensor, baseline b: Tensor, classIndex: Int, settings: AttributionSettings,
                                     progress: ((Int) -> Void)?) throws -> Tensor {
        guard settings.steps >= 1 else { throw GradientError("integrated gradients need at least 1 step, got \(settings.steps)") }
        let (alphas, weights) = GaussLegendre.unitInterval(settings.steps)
        let per = x.count
        var total = Tensor(shape: x.shape)
        try gradients(at: settings.steps, shape: x.shape, classIndex: classIndex, settings: settings, fill: { i, point in
            let a = Float(alphas[i]), start = point.startIndex
            for e in 0..<per { point[start + e] = b.data[e] + a * (x.data[e] - b.data[e]) }
        }, progress: progress) { i, g in
            let w = Float(weights[i])
            for e in 0..<per { total.data[e] += w * g.data[e] }
        }
        var attribution = Tensor(uninitializedShape: x.shape)
        for e in 0..<per { attribution.data[e] = (x.data[e] - b.data[e]) * total.data[e] }
        return attribution
    }

    /// SmoothGrad's noise `[samples, C, H, W]`: N(0, sigma^2), sigma = `settings.noise` x
    /// (max x - min x), from the seeded generator.
    func noise(for x: Tensor, settings: AttributionSettings) -> Tensor {
        let sigma = settings.noise * ((x.data.max() ?? 0) - (x.data.min() ?? 0))
        var rng = SeededGenerator(seed: settings.seed &+ 17)
        var noise = Tensor(uninitializedShape: [settings.samples] + x.shape)
        for e in 0..<noise.count { noise.data[e] = sigma * rng.normal() }
        return noise
    }

    /// Captum's `NoiseTunnel` (nt_type "smoothgrad"): the mean of `base`'s attributions of
    /// x + noise[s] over the samples s. Saliency's gradients run in slices of
    /// `settings.batch` over the samples; integrated gradients' over each sample's steps.
    func noiseTunnel(_ x: Tensor, over base: AttributionMethod, noise: Tensor, classIndex: Int, settings: AttributionSettings,
                     progress: ((Int) -> Void)?) throws -> Result {
        let samples = noise.shape[0], per = x.count
        guard samples >= 1 else { throw GradientError("smoothgrad needs at least 1 sample, got \(samples)") }
        func noisy(_ s: Int, _ out: inout ArraySlice<Float>) {
            let start = out.startIndex
            for e in 0..<per { out[start + e] = x.data[e] + noise.data[s * per + e] }
        }
        var total = Tensor(shape: x.shape)
        switch base {
        case .saliency:
            try gradients(at: samples, shape: x.shape, classIndex: classIndex, settings: settings, fill: noisy, progress: progress) { _, g in
                for e in 0..<per { total.data[e] += abs(g.data[e]) }
            }
        case .integratedGradients:
            // One stream of samples x steps points, so that a batch spans samples.
            guard settings.steps >= 1 else { throw GradientError("integrated gradients need at least 1 step, got \(settings.steps)") }
            let b = AttributionBaselines.make(settings.baseline, for: x, seed: settings.seed)
            let (alphas, weights) = GaussLegendre.unitInterval(settings.steps)
            let steps = settings.steps
            var sum = Tensor(shape: x.shape)
            try gradients(at: samples * steps, shape: x.shape, classIndex: classIndex, settings: settings, fill: { k, point in
                let (s, a, start) = (k / steps, Float(alphas[k % steps]), point.startIndex)
                for e in 0..<per { point[start + e] = b.data[e] + a * (x.data[e] + noise.data[s * per + e] - b.data[e]) }
            }, progress: progress) { k, g in
                let w = Float(weights[k % steps])
                for e in 0..<per { sum.data[e] += w * g.data[e] }
                guard k % steps == steps - 1 else { return }
                let s = k / steps
                for e in 0..<per {
                    total.data[e] += (x.data[e] + noise.data[s * per + e] - b.data[e]) * sum.data[e]
                    sum.data[e] = 0
                }
            }
        default:
            preconditionFailure("no noise tunnel over \(base)")
        }
        for e in 0..<per { total.data[e] /= Float(samples) }
        return Result(raw: total, gap: nil)
    }

    private func guidedGradCAM(_ x: Tensor, classes: [Int], settings: AttributionSettings) throws -> [Result] {
        let layer = try attributor.checkedLayer(settings.layer)
        let graph = attributor.graph
        let values = graph.forward(x, mode: .evaluationWithGradients, through: attributor.output, keep: [layer])
        let a = values[layer]!
        let g = try graph.gradients(attributor.seed(classes: classes), from: attributor.output, at: [layer])[layer]!
        let guided = try gradient(x, classes: classes, rule: .guided)
        let (c, h, w) = (a.shape[1], a.shape[2], a.shape[3])
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        return (0..<x.shape[0]).map { i in
            // Captum's LayerGradCam: sum_c mean(G_c) A_c, ReLU.
            var cam = [Float](repeating: 0, count: h * w)
            for k in 0..<c {
                let base = (i * c + k) * h * w
                let weight = CAMPipeline.sum(g.data[base..<base + h * w]) / Float(h * w)
                for p in 0..<(h * w) { cam[p] += weight * a.data[base + p] }
            }
            let up = AttributionResampling.nearest(cam.map { Swift.max($0, 0) }, height: h, width: w, to: height, width)
            var raw = guided[i]
            for ch in 0..<channels { for p in 0..<(height * width) { raw.data[ch * height * width + p] *= up[p] } }
            return Result(raw: raw, gap: nil)
        }
    }

    /// Captum's `Occlusion` with a window over all channels: positions k * stride for k
    /// up to ceil((H - window) / stride) (the last window cut at the edge).
    private func occlusion(_ x: Tensor, classIndex: Int, settings: AttributionSettings, progress: Attributor.Progress?) -> Result {
        let (channels, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (wh, ww) = (Swift.min(settings.window, height), Swift.min(settings.window, width))
        let s = Swift.max(1, settings.stride)
        let rows = (height - wh + s - 1) / s + 1, cols = (width - ww + s - 1) / s + 1
        let b = AttributionBaselines.make(settings.baseline, for: x, seed: settings.seed)
        let base = attributor.scores(attributor.logits(Tensor(shape: [1] + x.shape, data: x.data)), classes: [classIndex])[0]
        var total = [Float](repeating: 0, count: height * width), counts = total
        let windows = (0..<(rows * cols)).map { (y: $0 / cols * s, x: $0 % cols * s) }
        let plane = height * width
        for start in stride(from: 0, to: windows.count, by: Swift.max(1, settings.batch)) {
            let part = Array(windows[start..<Swift.min(windows.count, start + Swift.max(1, settings.batch))])
            var batch = Tensor(uninitializedShape: [part.count] + x.shape)
            for (j, win) in part.enumerated() {
                batch.data.replaceSubrange(j * x.count..<(j + 1) * x.count, with: x.data)
                for ch in 0..<channels { for yy in win.y..<Swift.min(height, win.y + wh) { for xx in win.x..<Swift.min(width, win.x + ww) {
                    let e = ch * plane + yy * width + xx
                    batch.data[j * x.count + e] = b.data[e]
                }}}
            }
            let scores = attributor.scores(attributor.logits(batch), classes: Array(repeating: classIndex, count: part.count))
            for (j, win) in part.enumerated() {
                for yy in win.y..<Swift.min(height, win.y + wh) { for xx in win.x..<Swift.min(width, win.x + ww) {
                    total[yy * width + xx] += base - scores[j]; counts[yy * width + xx] += 1
                }}
            }
            progress?(start + part.count, windows.count)
        }
        var raw = Tensor(uninitializedShape: x.shape)
        for ch in 0..<channels { for p in 0..<plane { raw.data[ch * plane + p] = total[p] / counts[p] } }
        return Result(raw: raw, gap: nil)
    }

    static func map(_ t: Tensor, _ f: (Float) -> Float) -> Tensor { Tensor(shape: t.shape, data: t.data.map(f)) }
    static func product(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor(shape: a.shape, data: zip(a.data, b.data).map { $0 * $1 }) }
}

/// Gauss-Legendre quadrature on [0, 1]: numpy's `leggauss(n)` mapped as Captum maps it
/// (a = (1 + t) / 2, w = w_t / 2).
enum GaussLegendre {
    static func unitInterval(_ n: Int) -> (points: [Double], weights: [Double]) {
        var points = [Double](repeating: 0, count: n), weights = points
        for i in 0..<n {
            // Newton's method on P_n from Chebyshev's guess; roots in increasing order.
            var t = -cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = t
                if n == 1 { p1 = t; p0 = 1 }
                for k in stride(from: 2, through: n, by: 1) {
                    let p2 = ((2 * Double(k) - 1) * t * p1 - (Double(k) - 1) * p0) / Double(k)
                    p0 = p1; p1 = p2
                }
                // p1 = P_n(t), p0 = P_{n-1}(t)
                derivative = Double(n) * (t * p1 - p0) / (t * t - 1)
                let step = p1 / derivative
                t -= step
                if abs(step) < 1e-15 { break }
            }
            points[i] = (1 + t) / 2
            weights[i] = 1 / ((1 - t * t) * derivative * derivative)
        }
        return (points, weights)
    }
}

/// Reference inputs for integrated gradients and occlusion.
enum AttributionBaselines {
    static func make(_ kind: AttributionBaseline, for x: Tensor, seed: UInt64) -> Tensor {
        switch kind {
        case .zero:
            return Tensor(shape: x.shape)
        case .uniform:
            var rng = SeededGenerator(seed: seed &+ 29)
            let lo = x.data.min() ?? 0, hi = x.data.max() ?? 0
            return Tensor(shape: x.shape, data: (0..<x.count).map { _ in rng.uniform(lo, hi) })
        case .blur:
            return blurred(x, sigma: Double(Swift.min(x.shape[1], x.shape[2])) / 16)
        }
    }

    /// A separable Gaussian blur per channel (radius 3 sigma, edges clamped).
    static func blurred(_ x: Tensor, sigma: Double) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let r = Swift.max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-r...r).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = kernel.reduce(0, +); kernel = kernel.map { $0 / total }
        var out = x, tmp = x
        for ch in 0..<c {
            let base = ch * h * w
            for y in 0..<h { for xx in 0..<w {
                var s: Float = 0
                for k in -r...r { s += kernel[k + r] * x.data[base + y * w + Swift.min(w - 1, Swift.max(0, xx + k))] }
                tmp.data[base + y * w + xx] = s
            }}
            for y in 0..<h { for xx in 0..<w {
                var s: Float = 0
                for k in -r...r { s += kernel[k + r] * tmp.data[base + Swift.min(h - 1, Swift.max(0, y + k)) * w + xx] }
                out.data[base + y * w + xx] = s
            }}
        }
        return out
    }
}
