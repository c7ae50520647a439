import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz attribute --model MODEL --image IMG.png --method gradcam -o map.png`.
struct AttributeCommand: ComputeCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute",
        abstract: "Draw which pixels made a network choose a class: Grad-CAM and its family, gradients, integrated gradients, occlusion.",
        discussion: """
        Class activation maps (gradcam, gradcam++, hirescam, xgradcam, layercam, eigencam, \
        eigengradcam, scorecam, ablationcam) follow pytorch-grad-cam 1.5 at --layer \
        (default: the last layer with a spatial output); the input-space methods \
        (saliency, input-x-gradient, integrated-gradients, smoothgrad, guided-backprop, \
        deconvnet, guided-gradcam, occlusion) follow Captum. Formulas: docs/attribution.md.

        --method takes one method, a comma list or 'all': one figure, a row per image and \
        class, a column per method. --target is 'top' (the predicted class), a class index, \
        or topK (the K most probable classes, a row each). --save-map writes raw values \
        before any display normalisation: CAMs [N, h, w] at the layer's resolution before \
        ReLU and min-max, the others [N, C, H, W] in the model's input space (with several \
        methods, one file each: MAP.METHOD.npy).
        """)

    @OptionGroup var network: ModelOptions

    @Option(help: "Input photo (PNG), resized to the network's input and standardized; repeat for several.")
    var image: [String] = []

    @Option(help: "Input array (.npy) [N, C, H, W] or [C, H, W], fed as it is.")
    var input: String?

    @Option(help: ArgumentHelp("Methods: a comma list of \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", ")), or all.", valueName: "methods"))
    var method: MethodList

    @Option(help: "Layer a CAM explains, by name or alias (default: the last layer with a spatial output).")
    var layer: String?

    @Option(help: ArgumentHelp("Class to explain: top, a class index, or topK (e.g. top3); one for all images or a comma list, one each.", valueName: "target"))
    var target: TargetList = TargetList([.top])

    @Option(help: "Class names, one per line (line K names class K).")
    var labels: String?

    @Option(help: "Integrated gradients: Gauss-Legendre steps.")
    var steps: Int = 50

    @Option(help: "Baseline of integrated gradients and occlusion: zero, blur or uniform.")
    var baseline: AttributionBaseline = .zero

    @Option(help: "SmoothGrad: noisy samples.")
    var samples: Int = 25

    @Option(help: "SmoothGrad: noise standard deviation as a fraction of the image's value range.")
    var noise: Float = 0.15

    @Option(help: "Occlusion: window side in pixels.")
    var window: Int = 16

    @Option(help: "Occlusion: stride in pixels (at most the window).")
    var stride: Int = 8

    @Option(help: "Images run at once for IG steps, SmoothGrad samples, Score-CAM masks, Ablation-CAM channels and occlusion windows.")
    var batch: Int = 16

    @Option(help: "Also write the raw maps (.npy); see above.")
    var saveMap: String?

    @Option(help: "Colormap of unsigned maps (signed maps use red-blue).")
    var colormap: Colormap = .magma

    @Option(help: "Opacity of the map over the photo, 0 to 1.")
    var alpha: Double = 0.6

    @Option(help: "Seed for random weights, noise and random baselines.")
    var seed: UInt64 = 0

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        guard network.model != nil else { throw ValidationError("give --model (MODEL.onnx, a run directory, or ARCH.json)") }
        guard image.isEmpty != (input == nil) else { throw ValidationError("give --image PHOTO.png (one or more) or --input ARRAY.npy") }
        guard steps >= 1 && steps <= 10_000 else { throw ValidationError("--steps must be 1 to 10000") }
        guard samples >= 1 && samples <= 10_000 else { throw ValidationError("--samples must be 1 to 10000") }
        guard noise >= 0 && noise.isFinite else { throw ValidationError("--noise must be 0 or more") }
        guard window >= 1, stride >= 1, stride <= window else { throw ValidationError("--window and --stride must be at least 1, the stride at most the window") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1 to 4096") }
        guard alpha >= 0 && alpha <= 1 else { throw ValidationError("--alpha must be between 0 and 1") }
    }

    func run() throws {
        let source = try network.load()
        let graph = try source.makeGraph(seed: seed)
        var settings = AttributionSettings()
        if let layer {
            guard let index = source.architecture.index(ofLayer: layer) else {
                throw ValidationError("no layer '\(layer)' in \(source.path); layers: \(source.architecture.layerListing)")
            }
            settings.layer = index
        }
        (settings.steps, settings.baseline, settings.samples, settings.noise) = (steps, baseline, samples, noise)
        (settings.window, settings.stride, settings.batch, settings.seed) = (window, stride, batch, seed)
        let names = try labels.map { try ClassLabels.read($0) }

        var photos: [Tensor?] = [], files: [String] = [], batch: Tensor
        if let input {
            batch = try ModelInput.array(at: input, channels: source.architecture.input[0]).batch
            photos = Array(repeating: nil, count: batch.shape[0])
            files = (0..<batch.shape[0]).map { "\(URL(fileURLWithPath: input).lastPathComponent)[\($0)]" }
        } else {
            let prepared = try image.map { try ModelInput.photo(at: $0, for: source) }
            batch = Tensor(shape: [prepared.count] + Array(prepared[0].batch.shape.dropFirst()), data: prepared.flatMap(\.batch.data))
            photos = prepared.map(\.display)
            files = image.map { URL(fileURLWithPath: $0).lastPathComponent }
        }
        let methods = method.methods
        let progress = AttributionProgress()
        let study: AttributionStudy
        do {
            study = try AttributionStudy(graph: graph, inputs: batch, targets: target.targets, methods: methods, settings: settings, progress: progress.show)
        } catch let e as GradientError {
            throw ValidationError("\(source.path): \(e)")
        }
        progress.finish()
        if let saveMap {
            for m in methods {
                let path = methods.count == 1 ? saveMap : Self.path(saveMap, inserting: m.rawValue)
                try AtomicFile.write(NPY.encode(study.rawMaps(m)), to: URL(fileURLWithPath: path))
            }
        }
        if let m = methods.firstIndex(of: .integratedGradients) {
            for map in study.maps[m] {
                print(String(format: "integrated gradients, %@ class %d: completeness gap %.4g", files[map.image], map.classIndex, map.completenessGap ?? 0))
            }
        }
        var figure = AttributionGrid(study: study, photos: photos, names: files, labels: names, language: text.lang)
        figure.colormap = colormap
        figure.alpha = alpha
        figure.text = text.figureText
        try output.write(figure.scene())
    }

    /// `map.npy` with `gradcam` inserted: `map.gradcam.npy`.
    static func path(_ path: String, inserting tag: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        return url.deletingPathExtension().path + ".\(tag)" + (ext.isEmpty ? "" : ".\(ext)")
    }
}

/// `--method gradcam,saliency` or `all`.
struct MethodList: ExpressibleByArgument {
    var methods: [AttributionMethod]
    init?(argument: String) {
        if argument == "all" { methods = AttributionMethod.allCases; return }
        let parts = argument.split(separator: ",").map { AttributionMethod(rawValue: String($0)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        methods = parts.map { $0! }
    }
    static var allValueStrings: [String] { AttributionMethod.allCases.map(\.rawValue) + ["all"] }
}

/// `--target top`, `3`, `top5` or a comma list, one per image.
struct TargetList: ExpressibleByArgument {
    var targets: [AttributionTarget]
    init(_ targets: [AttributionTarget]) { self.targets = targets }
    init?(argument: String) {
        let parts = argument.split(separator: ",").map { AttributionTarget(String($0)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        targets = parts.map { $0! }
    }
    var defaultValueDescription: String { targets.map(\.description).joined(separator: ",") }
}

extension AttributionBaseline: ExpressibleByArgument {}

/// Progress of the long methods on stderr, on a terminal only.
final class AttributionProgress {
    private let live = isatty(STDERR_FILENO) != 0
    private var shown = false
    func show(_ method: AttributionMethod, _ done: Int, _ total: Int) {
        guard live, total > 1 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(method.rawValue): \(done)/\(total)".utf8))
        shown = true
    }
    func finish() { if shown { FileHandle.standardError.write(Data("\n".utf8)); shown = false } }
}
