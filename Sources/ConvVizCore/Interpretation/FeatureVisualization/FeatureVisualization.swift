import Foundation

/// Feature visualization by optimization (Olah, Mordvintsev & Schubert, Distill 2017):
/// Lucid's `render_vis`. The image of each unit starts as noise in a parameterization
/// (`FourierImage` or `PixelImage`), goes through colour decorrelation and a sigmoid to
/// pixels in [0, 1], then through random transformations, a resize to the model's input
/// and its input normalization into the network; Adam changes the parameters to raise
/// the unit's objective.
///
/// One batch holds one image per unit (times `groupSize` for diversity), so 16 channels
/// are one optimization of 16 images. The parts are apart and tested alone: the
/// parameterization and each transform against their adjoints, the objective against
/// finite differences; this type only loops.
public struct FeatureVisualization {
    public enum Parameterization: Equatable, Sendable {
        /// Lucid's `fft_image` with 1/f^decay scaling.
        case fourier(decay: Float)
        /// Lucid's `pixel_image`.
        case pixel
    }

    public struct Settings: Sendable {
        /// Image side in pixels (Lucid: 128).
        public var size: Int = 128
        public var steps: Int = 512
        public var learningRate: Float = 0.05
        public var parameterization: Parameterization = .fourier(decay: 1)
        /// For 3-channel images; nil: none (always none for other channel counts).
        public var decorrelation: ColorDecorrelation? = .imageNet
        public var transforms: [ImageTransform] = ImageTransform.lucid
        /// The model's input normalization, applied after the transforms.
        public var normalization: Standardization
        /// Steps after which the images are kept (the filmstrip); 0 is the initial image.
        public var snapshots: [Int] = []
        /// Lucid's redirected ReLU gradient for the first steps (Lucid: 16); 0: off.
        public var redirectedReLUSteps: Int = 0
        public var seed: UInt64 = 0

        public init(normalization: Standardization) { self.normalization = normalization }
    }

    /// The images after some step, in pixel space, and their objectives then.
    public struct Snapshot: Sendable {
        public var step: Int
        /// `[N, C, size, size]` in [0, 1].
        public var images: Tensor
        /// Per image, its objective for the image as it is (resized and normalized, not
        /// randomly transformed).
        public var values: [Float]
    }

    public struct Result: Sendable {
        /// `[N, C, size, size]` in [0, 1], before the model's input normalization.
        public var images: Tensor
        /// Per image, the objective reached (the final image untransformed).
        public var values: [Float]
        /// Per diversity group, Lucent's Gram similarity of the final images.
        public var similarities: [Float]
        /// The snapshots asked for, in step order.
        public var snapshots: [Snapshot]
        /// The loss at every step (of the transformed images the step saw).
        public var losses: [Double]
    }

    public let graph: Graph
    /// The layer whose output the objective reads.
    public let layer: Int
    public let objective: BatchObjective
    public let settings: Settings

    public init(graph: Graph, layer: Int, objective: BatchObjective, settings: Settings) {
        precondition(settings.size > 0 && settings.steps >= 0)
        precondition(settings.normalization.mean.count == graph.inputShape[0])
        self.graph = graph
        self.layer = layer
        self.objective = objective
        self.settings = settings
    }

    var channels: Int { graph.inputShape[0] }
    var imageShape: [Int] { [objective.units.count, channels, settings.size, settings.size] }

    func makeParameterization() -> ImageParameterization {
        switch settings.parameterization {
        case let .fourier(decay): return FourierImage(shape: imageShape, decay: decay)
        case .pixel: return PixelImage(shape: imageShape)
        }
    }

    var decorrelation: ColorDecorrelation? { channels == 3 ? settings.decorrelation : nil }

    /// Parameters -> pixels in [0, 1] (and the pre-sigmoid image is not kept: the sigmoid's
    /// gradient needs only its output).
    func pixels(_ parameters: [Float], _ parameterization: ImageParameterization) -> Tensor {
        var x = parameterization.image(parameters)
        if let decorrelation { x = decorrelation.apply(x) }
        return PixelSigmoid.apply(x)
    }

    /// The deterministic part after the random transforms: resize to the model's input
    /// (when the size differs) and the input normalization.
    struct Feed {
        let resize: Resampling?
        let mean: [Float], std: [Float]

        func apply(_ x: Tensor) -> Tensor {
            var y = resize?.apply(x) ?? x
            let plane = y.shape[2] * y.shape[3], c = y.shape[1]
            for i in 0..<y.count { let ch = (i / plane) % c; y.data[i] = (y.data[i] - mean[ch]) / std[ch] }
            return y
        }

        func adjoint(_ g: Tensor) -> Tensor {
            var g = g
            let plane = g.shape[2] * g.shape[3], c = g.shape[1]
            for i in 0..<g.count { g.data[i] /= std[(i / plane) % c] }
            return resize?.adjoint(g) ?? g
        }
    }

    func feed(from size: (Int, Int)) -> Feed {
        let input = (graph.inputShape[1], graph.inputShape[2])
        let resize = size == input ? nil : Resampling.resize(height: size.0, width: size.1, to: input)
        return Feed(resize: resize, mean: settings.normalization.mean, std: settings.normalization.std)
    }

    /// The transforms at this image size: Lucid's pixel amounts are for 128-pixel images;
    /// smaller images get them scaled (`ImageTransform.scaled`).
    var effectiveTransforms: [ImageTransform] {
        settings.size >= 128 ? settings.transforms : settings.transforms.map { $0.scaled(by: Double(settings.size) / 128) }
    }

    /// Objective values of images as they are (no random transform).
    public func values(of images: Tensor) -> (values: [Float], similarities: [Float]) {
        let x = feed(from: (images.shape[2], images.shape[3])).apply(images)
        let out = graph.output(x, mode: .evaluation, through: layer)
        let e = objective.evaluate(out)
        return (e.values, e.similarities)
    }

    /// The loss of the images `parameters` make, through the transforms `maps`, and its
    /// gradient with respect to the parameters: one step's work.
    public func lossAndGradient(_ parameters: [Float], _ parameterization: ImageParameterization, maps: [Resampling],
                                redirectingReLU redirect: Bool = false) -> (BatchObjective.Evaluation, [Float]) {
        let image = pixels(parameters, parameterization)
        var x = image
        for map in maps { x = map.apply(x) }
        let feed = feed(from: (x.shape[2], x.shape[3]))
        let outputs = graph.forward(feed.apply(x), mode: .evaluationWithGradients, through: layer)
        let evaluation = objective.evaluate(outputs[layer]!)
        var g = inputGradient(evaluation.gradient, rule: redirect ? .redirected : .plain)
        // Back through the feed, the transforms, the sigmoid, the colours, the spectrum.
        g = feed.adjoint(g)
        for map in maps.reversed() { g = map.adjoint(g) }
        g = PixelSigmoid.gradient(g, output: image)
        if let decorrelation { g = decorrelation.adjoint(g) }
        return (evaluation, parameterization.parameterGradient(g))
    }

    /// dLoss/d(input) without weight gradients (convolutions skip their weight products),
    /// after the recording forward pass `lossAndGradient` just ran.
    func inputGradient(_ seed: Tensor, rule: ReLURule = .plain) -> Tensor {
        do { return try graph.gradients(seed, from: layer, at: [-1], rule: rule, parameterGradients: false)[-1]! } catch {
            preconditionFailure("\(error)")  // the forward pass through `layer` was just recorded
        }
    }

    /// Runs the optimization; `progress(step, loss)` after each step.
    public func run(progress: (Int, Double) -> Void = { _, _ in }) -> Result {
        var rng = SeededGenerator(seed: settings.seed)
        let parameterization = makeParameterization()
        var parameters = parameterization.initialParameters(using: &rng)
        var adam = Adam(count: parameters.count, learningRate: settings.learningRate)
        let transforms = effectiveTransforms
        var snapshots: [Snapshot] = [], losses: [Double] = []
        func snapshot(_ step: Int) {
            guard settings.snapshots.contains(step) else { return }
            let images = pixels(parameters, parameterization)
            snapshots.append(Snapshot(step: step, images: images, values: values(of: images).values))
        }
        snapshot(0)
        for step in 1...max(settings.steps, 1) where settings.steps > 0 {
            // This step's draw of the transforms.
            var maps: [Resampling] = []
            var size = (settings.size, settings.size)
            for t in transforms {
                maps.append(t.draw(for: size, using: &rng))
                size = maps.last!.outputSize
            }
            let (evaluation, gradient) = lossAndGradient(parameters, parameterization, maps: maps,
                                                         redirectingReLU: step <= settings.redirectedReLUSteps)
            losses.append(evaluation.loss)
            adam.update(&parameters, gradient: gradient)
            progress(step, evaluation.loss)
            snapshot(step)
        }
        let images = pixels(parameters, parameterization)
        let final = values(of: images)
        return Result(images: images, values: final.values, similarities: final.similarities,
                      snapshots: snapshots, losses: losses)
    }
}
