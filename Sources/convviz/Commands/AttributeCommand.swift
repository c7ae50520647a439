import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz attribute --model MODEL --image IMG.png --method gradcam -o map.png`.
struct AttributeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute",
        abstract: "Draw which pixels made a network choose a class: Grad-CAM and its family, gradients, integrated gradients, occlusion.",
        discussion: """
        Class activation maps (gradcam, gradcam++, hirescam, xgradcam, layercam, eigencam, \
        eigengradcam, scorecam, ablationcam) follow pytorch-grad-cam 1.5 at --layer \
        (default: the last layer with a spatial output); the input-space methods \
        (saliency, input-x-gradient, integrated-gradients, smoothgrad, smoothgrad-ig: \
        SmoothGrad over integrated gradients, guided-backprop, deconvnet, guided-gradcam, \
        occlusion) follow Captum. The map explains the target's logit; a model ending in \
        Softmax or LogSoftmax is read without it. Formulas: docs/attribution.md.

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

    @Option(help: "Integrated gradients (and smoothgrad-ig, per sample): Gauss-Legendre steps.")
    var steps: Int = 50

    @Option(help: "Baseline of integrated gradients and occlusion: zero, blur or uniform.")
    var baseline: AttributionBaseline = .zero

    @Option(help: "SmoothGrad and smoothgrad-ig: noisy samples.")
    var samples: Int = 25

    @Option(help: "SmoothGrad: noise standard deviation as a fraction of the image's value range.")
    var noise: Float = 0.15

    @Option(help: "Occlusion: window side in pixels.")
    var window: Int = 16

    @Option(help: "Occlusion: stride in pixels (at most the window).")
    var stride: Int = 8

    @Option(help: "Images run at once for IG steps, SmoothGrad samples (and smoothgrad-ig's samples x steps), Score-CAM masks, Ablation-CAM channels and occlusion windows.")
    var batch: Int = 16

    @Option(help: "Also write the raw maps (.npy); see above.")
    var saveMap: String?

    @Flag(help: "Deletion and insertion AUC of each map (RISE protocol, 1% steps) beside random rankings (mean of 5 seeds), and ROAD's MoRF and LeRF (pytorch-grad-cam's definition).")
    var metrics = false

    @Option(help: ArgumentHelp("ROAD of --metrics: percentiles of the map, averaged (MoRF removes the pixels above each, LeRF those below 100 minus it).", valueName: "p,p,..."))
    var roadPercentiles: PercentileList = PercentileList(ROAD.defaultPercentiles)

    @Option(help: "Random rankings --metrics averages (seeds).")
    var randomRankings: Int = 5

    @Flag(help: "Cascading parameter randomisation (Adebayo et al. 2018) on the first image: a second figure, OUT.sanity.EXT, and Spearman correlations.")
    var sanity = false

    @Option(help: "Steps of --sanity: the layers with weights in this many groups, from the output down.")
    var sanitySteps: Int = 5

    @Option(help: "Write --metrics and --sanity results as JSON to this file.")
    var json: String?

    @Option(help: "Colormap of unsigned maps (signed maps use red-blue).")
    var colormap: Colormap = .magma

    @Option(help: "Opacity of the map over the photo, 0 to 1.")
    var alpha: Double = 0.6

    @Option(help: "Seed for random weights, noise and random baselines.")
    var seed: UInt64 = 0

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    /// For Benchmarks/compare_attribution.py: the maps computed this many times more
    /// after a first (warm-up) run, and one JSON line with each run's seconds and the
    /// process's peak resident memory.
    @Option(name: .customLong("repeat"), help: .hidden)
    var repeatRuns: Int = 0

    func validate() throws {
        guard network.model != nil else { throw ValidationError("give --model (MODEL.onnx, a run directory, or ARCH.json)") }
        guard image.isEmpty != (input == nil) else { throw ValidationError("give --image PHOTO.png (one or more) or --input ARRAY.npy") }
        guard steps >= 1 && steps <= 10_000 else { throw ValidationError("--steps must be 1 to 10000") }
        guard samples >= 1 && samples <= 10_000 else { throw ValidationError("--samples must be 1 to 10000") }
        guard noise >= 0 && noise.isFinite else { throw ValidationError("--noise must be 0 or more") }
        guard window >= 1, stride >= 1, stride <= window else { throw ValidationError("--window and --stride must be at least 1, the stride at most the window") }
        guard batch >= 1 && batch <= 4096 else { throw ValidationError("--batch must be 1 to 4096") }
        guard alpha >= 0 && alpha <= 1 else { throw ValidationError("--alpha must be between 0 and 1") }
        guard (1...100).contains(randomRankings) else { throw ValidationError("--random-rankings must be 1 to 100") }
        guard (1...64).contains(sanitySteps) else { throw ValidationError("--sanity-steps must be 1 to 64") }
        if json != nil && !metrics && !sanity { throw ValidationError("--json writes what --metrics and --sanity compute; give one of them") }
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
        if repeatRuns > 0 {
            var seconds: [Double] = []
            for _ in 0..<repeatRuns {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try AttributionStudy(graph: graph, inputs: batch, targets: target.targets, methods: methods, settings: settings)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let list = seconds.map { String(format: "%.5f", $0) }.joined(separator: ", ")
            print("{\"seconds\": [\(list)], \"peak_rss_mb\": \(String(format: "%.1f", Double(usage.ru_maxrss) / 1024))}")
        }
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
        var report: [String: Any] = [:]
        if metrics {
            let scores = study.scores(graph: graph, inputs: batch, settings: settings, randomRankings: randomRankings,
                                      roadPercentiles: roadPercentiles.values) { progress.show(label: "metrics", $0, $1) }
            progress.finish()
            print("method                 image  class  deletion AUC (random)  insertion AUC (random)")
            for s in scores {
                let c = s.curves
                let name = s.method.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)
                print(name + String(format: " %5d  %5d  %.4f (%.4f)        %.4f (%.4f)", s.image, s.classIndex,
                                    c.deletionAUC, c.randomDeletionAUC, c.insertionAUC, c.randomInsertionAUC))
            }
            report["metrics"] = scores.map { s -> [String: Any] in
                ["method": s.method.rawValue, "image": files[s.image], "class": s.classIndex,
                 "deletion_auc": s.curves.deletionAUC, "insertion_auc": s.curves.insertionAUC,
                 "random_deletion_auc": s.curves.randomDeletionAUC, "random_insertion_auc": s.curves.randomInsertionAUC,
                 "deletion": s.curves.deletion, "insertion": s.curves.insertion,
                 "road": Self.json(s.road)]
            }
            let percentiles = roadPercentiles.values.map(String.init).joined(separator: ",")
            print("\nROAD (noisy linear imputation; change of the target's probability, mean over percentiles \(percentiles)):")
            print("method                 image  class  MoRF      LeRF      combined (LeRF - MoRF) / 2")
            func value(_ v: Double) -> String { String(format: "%+.4f", v) }
            for s in scores {
                let name = s.method.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)
                print(name + String(format: " %5d  %5d  ", s.image, s.classIndex) + "\(value(s.road.morfProbability))   \(value(s.road.lerfProbability))   \(value(s.road.combinedProbability))")
            }
        }
        if sanity {
            let first = Tensor(shape: [1] + Array(batch.shape.dropFirst()), data: Array(batch.data.prefix(batch.count / batch.shape[0])))
            let result = try CascadingRandomisation(graph: graph, image: first, classIndex: study.pairs[0].classIndex, methods: methods,
                                                    settings: settings, groups: sanitySteps, seed: seed)
            var sanityFigure = AttributionSanityFigure(result)
            sanityFigure.colormap = colormap
            sanityFigure.text = FigureText(language: text.lang)
            let sanityPath = Self.path(output.output, inserting: "sanity")
            let scene = sanityFigure.scene()
            try Canvas.write(scene, to: sanityPath, pngScale: FigureOutputOptions.pngScale(output.scale, for: scene).scale)
            print("wrote \(sanityPath)")
            for (m, method) in methods.enumerated() {
                let list = result.steps.dropFirst().map { $0.correlations[m].isNaN ? "n/a" : String(format: "%.2f", $0.correlations[m]) }
                print("sanity \(method.rawValue): Spearman with the original, layers randomised from the output down: \(list.joined(separator: ", "))")
            }
            report["sanity"] = ["image": files[0], "class": study.pairs[0].classIndex,
                                "steps": result.steps.dropFirst().map { $0.through ?? "" },
                                "spearman": Dictionary(uniqueKeysWithValues: methods.enumerated().map { m, method in
                                    (method.rawValue, result.steps.dropFirst().map { $0.correlations[m].isNaN ? NSNull() : $0.correlations[m] as Any })
                                })]
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(data, to: URL(fileURLWithPath: json))
        }
    }

    /// ROAD's numbers for the JSON.
    static func json(_ road: ROAD) -> [String: Any] {
        return ["percentiles": road.points.map(\.percentile),
                "morf_probability": road.points.map { $0.morfProbability }, "lerf_probability": road.points.map { $0.lerfProbability },
                "morf_logit": road.points.map { $0.morfLogit }, "lerf_logit": road.points.map { $0.lerfLogit },
                "mean_morf_probability": road.morfProbability, "mean_lerf_probability": road.lerfProbability,
                "combined_probability": road.combinedProbability,
                "mean_morf_logit": road.morfLogit, "mean_lerf_logit": road.lerfLogit, "combined_logit": road.combinedLogit]
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

/// `--road-percentiles 10,20,30`: whole percentiles 0 to 100.
struct PercentileList: ExpressibleByArgument {
    var values: [Int]
    init(_ values: [Int]) { self.values = values }
    init?(argument: String) {
        let parts = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0.map { (0...100).contains($0) } ?? false }) else { return nil }
        values = parts.map { $0! }
    }
    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

extension AttributionBaseline: ExpressibleByArgument {}

/// Progress of the long methods on stderr, on a terminal only.
final class AttributionProgress {
    private let live = isatty(STDERR_FILENO) != 0
    private var shown = false
    func show(_ method: AttributionMethod, _ done: Int, _ total: Int) { show(label: method.rawValue, done, total) }
    func show(label: String, _ done: Int, _ total: Int) {
        guard live, total > 1 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(label): \(done)/\(total)".utf8))
        shown = true
    }
    func finish() { if shown { FileHandle.standardError.write(Data("\n".utf8)); shown = false } }
}
