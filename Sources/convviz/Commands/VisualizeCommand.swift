import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz visualize --model MODEL --layer L --channels 0:16 -o units.png`: feature
/// visualization by optimization (Lucid's `render_vis`).
struct VisualizeCommand: ComputeCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Find the image each unit of a layer responds to most (feature visualization by optimization).",
        discussion: """
        Lucid's recipe (Olah et al., Distill 2017), each part an option: a Fourier \
        parameterization with 1/f scaling (--param, --decay), ImageNet's colour \
        decorrelation for 3-channel models (or one estimated from --data images), a \
        sigmoid to [0, 1], the random transformations pad 12, jitter 8, scale 0.9-1.1, \
        rotate ±10°, jitter 4 (--transforms; their pixel amounts scale down for images \
        under 128 px), a bilinear resize to the model's input, the model's input \
        normalization (--mean/--std; a ConvViz run's own statistics, else ImageNet's for \
        3 channels), and Adam at lr 0.05 for 512 steps.

        One unit per image, all in one batch: --channels 0:16 is one optimization of 16 \
        images. --batch N makes N images per unit, pushed apart by --diversity W (Lucent's \
        Gram-matrix diversity). --transforms takes lucid, none, or a list such as \
        pad:12,jitter:8,scale:0.9-1.1,rotate:10,jitter:4.
        """)

    @OptionGroup var network: ModelOptions

    @Option(help: "Layer whose units to visualize (name, alias, or ONNX value name); default with --logit: the output layer.")
    var layer: String?

    @Option(help: "One channel: the mean of its map (a linear layer's unit).")
    var channel: Int?

    @Option(help: ArgumentHelp("Several channels, one image each: START:END (END excluded), a comma list, or both.", valueName: "selection"))
    var channels: IndexSelection?

    @Option(help: ArgumentHelp("One neuron: channel C at the centre of its map, or at (y, x).", valueName: "C[,y,x]"))
    var neuron: String?

    @Option(help: ArgumentHelp("Class logits of the output layer, one image each (e.g. 7 or 0:10).", valueName: "selection"))
    var logit: IndexSelection?

    @Option(help: ArgumentHelp("A direction in the layer's channel space (.npy with C values): cosine similarity, averaged over positions.", valueName: "v.npy"))
    var direction: String?

    @Option(help: ArgumentHelp("One image maximizing a weighted sum of channels, e.g. 3:1,7:-0.5.", valueName: "C:W,..."))
    var mix: String?

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    @Option(help: "Also write the optimized images [N, C, H, W] float32 (.npy) in pixel space [0, 1], before the model's input normalization, one per unit in the order asked.")
    var saveImages: String?

    @Option(help: "Image side in pixels (default: 128, or the model's input side when smaller).")
    var size: Int?

    @Option(help: "Optimization steps.")
    var steps: Int = 512

    @Option(help: "Adam's learning rate.")
    var lr: Float = 0.05

    @Option(help: "Image parameterization: fft (Lucid's Fourier basis) or pixel.")
    var param: ParameterizationChoice = .fft

    @Option(help: "Spectrum decay of --param fft: 1/f^decay.")
    var decay: Float = 1

    @Option(help: ArgumentHelp("Random transformations: lucid, none, or a list (pad:N, jitter:N, scale:LO-HI, rotate:DEG).", valueName: "transforms"))
    var transforms: TransformChoice = TransformChoice(argument: "lucid")!

    @Option(help: ArgumentHelp("Per-channel mean of the model's input normalization, comma-separated.", valueName: "m1,m2,..."))
    var mean: ChannelValues?

    @Option(help: ArgumentHelp("Per-channel standard deviation of the model's input normalization.", valueName: "s1,s2,..."))
    var std: ChannelValues?

    @Option(help: ArgumentHelp("Estimate the colour decorrelation from these images instead of ImageNet's (fashion-mnist, cifar10:DIR, folder:DIR).", valueName: "data"),
            transform: { try DataSource(parsing: $0) })
    var data: DataSource?

    @Option(help: "Images per unit, made different from each other by --diversity.")
    var batch: Int = 1

    @Option(help: "Weight of Lucent's diversity term (with --batch N > 1; Lucent's examples use 100).")
    var diversity: Float = 0

    @Option(help: "ReLU gradients: plain, or redirect (Lucid's redirected ReLU for the first 16 steps, for units dead on noise).")
    var reluGradient: ReLUGradientChoice = .plain

    @Flag(help: "Draw the images after steps 0, 32, 128 and 512 (those within --steps), one column each.")
    var filmstrip = false

    @Option(help: "Seed of the initial noise and the transforms.")
    var seed: UInt64 = 0

    @OptionGroup var threads: ThreadOptions

    enum ParameterizationChoice: String, CaseIterable, ExpressibleByArgument { case fft, pixel }
    enum ReLUGradientChoice: String, CaseIterable, ExpressibleByArgument { case plain, redirect }

    func validate() throws {
        let given = [channel != nil, channels != nil, neuron != nil, logit != nil, direction != nil, mix != nil].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --channel, --channels, --neuron, --logit, --direction, --mix") }
        if layer == nil && logit == nil { throw ValidationError("--layer is needed (it may be left out only with --logit)") }
        if let size, !(8...1024).contains(size) { throw ValidationError("--size must be 8 to 1024 pixels") }
        guard (0...100_000).contains(steps) else { throw ValidationError("--steps must be 0 to 100000") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard (1...64).contains(batch) else { throw ValidationError("--batch must be 1 to 64") }
        if diversity != 0 && batch == 1 { throw ValidationError("--diversity pushes apart the --batch N images of a unit; give --batch 2 or more") }
        if let std, !std.values.allSatisfy({ $0 > 0 }) { throw ValidationError("--std must be positive") }
        if let neuron, Self.parseNeuron(neuron) == nil { throw ValidationError("--neuron takes C or C,y,x (got '\(neuron)')") }
        if let mix, Self.parseMix(mix) == nil { throw ValidationError("--mix takes C:W pairs, e.g. 3:1,7:-0.5 (got '\(mix)')") }
    }

    static func parseNeuron(_ s: String) -> ObjectiveTerm? {
        let v = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard v.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        switch v.count {
        case 1: return .neuron(v[0]!)
        case 3: return .neuron(v[0]!, y: v[1]!, x: v[2]!)
        default: return nil
        }
    }

    static func parseMix(_ s: String) -> UnitObjective? {
        var terms: [UnitObjective.Term] = []
        for piece in s.split(separator: ",") {
            let f = piece.split(separator: ":")
            guard f.count == 2, let c = Int(f[0]), c >= 0, let w = Float(f[1]), w.isFinite else { return nil }
            terms.append(.init(w, .channel(c)))
        }
        return terms.isEmpty ? nil : UnitObjective(terms)
    }

    func run() throws {
        let l = text.lang
        let source = try network.load()
        let layerName = layer ?? source.architecture.layers.last!.name!
        guard let index = source.architecture.index(ofLayer: layerName) else {
            throw ValidationError("no layer '\(layerName)' in \(source.path); layers: \(source.architecture.layerListing)")
        }
        let name = source.architecture.layers[index].name!
        let prefix = source.prefix(through: index)
        let graph = try prefix.makeGraph(seed: seed)
        let outShape = graph.shapes[index]
        let (units, labels) = try objectives(outputChannels: outShape.first ?? 0, name: name)
        for unit in units { for t in unit.terms {
            if let problem = t.term.problem(forOutput: outShape) { throw ValidationError("layer '\(name)' (output \(outShape)): \(problem)") }
        }}

        let input = source.architecture.input
        let normalization: Standardization
        if mean != nil || std != nil {
            let d = source.defaultStandardization.standardization
            let m = mean?.values ?? d.mean, s = std?.values ?? d.std
            guard m.count == input[0], s.count == input[0] else {
                throw ValidationError("--mean and --std need \(input[0]) values for this \(input[0])-channel model")
            }
            normalization = Standardization(mean: m, std: s)
        } else {
            normalization = source.defaultStandardization.standardization
        }
        var settings = FeatureVisualization.Settings(normalization: normalization)
        settings.size = size ?? min(128, max(input[1], input[2]))
        settings.steps = steps
        settings.learningRate = lr
        settings.parameterization = param == .fft ? .fourier(decay: decay) : .pixel
        settings.transforms = transforms.transforms
        settings.seed = seed
        settings.redirectedReLUSteps = reluGradient == .redirect ? 16 : 0
        if filmstrip { settings.snapshots = [0, 32, 128, 512].filter { $0 <= steps } }
        if let data, input[0] == 3 {
            let images = try data.load(input: input, seed: seed).train.images
            let n = min(images.shape[0], 2000), per = images.count / max(images.shape[0], 1)
            settings.decorrelation = .estimated(from: Tensor(shape: [n] + Array(images.shape.dropFirst()), data: Array(images.data.prefix(n * per))))
        }

        let expanded = units.flatMap { Array(repeating: $0, count: batch) }
        let objective = BatchObjective(units: expanded, groupSize: batch, diversity: diversity)
        let vis = FeatureVisualization(graph: graph, layer: index, objective: objective, settings: settings)
        let bar = ProgressDisplay()
        let start = Date()
        // A live bar redraws every step; a log gets about 20 lines.
        let every = isatty(STDERR_FILENO) != 0 ? 1 : max(1, steps / 20)
        let result = vis.run { step, loss in
            guard step % every == 0 || step == steps else { return }
            let rate = Double(step) / max(Date().timeIntervalSince(start), 1e-9)
            bar.showBar(step: step, total: steps, stats: String(format: "step %d/%d  loss %.4g  %.2f steps/s", step, steps, loss, rate))
        }
        bar.finish()

        if let saveImages { try AtomicFile.write(NPY.encode(result.images), to: URL(fileURLWithPath: saveImages)) }
        let imageLabels = labels.flatMap { label in batch == 1 ? [label] : (0..<batch).map { "\(label) #\($0 + 1)" } }
        var snapshots = result.snapshots.map { FeatureVisualizationGrid.Snapshot(step: $0.step, images: $0.images, values: $0.values) }
        if snapshots.isEmpty { snapshots = [.init(step: steps, images: result.images, values: result.values)] }
        var figure = FeatureVisualizationGrid(labels: imageLabels, snapshots: snapshots, layer: name)
        figure.columns = batch > 1 ? batch : nil
        figure.text = text.figureText
        figure.settingsNote = settingsNote(settings, source: source, language: l, similarities: batch > 1 ? result.similarities : [])
        try output.write(figure.scene())
    }

    /// Per unit asked for, its objective and its label.
    func objectives(outputChannels: Int, name: String) throws -> ([UnitObjective], [String]) {
        func chosen(_ s: IndexSelection, _ what: String) throws -> [Int] {
            do { return try s.indices(count: outputChannels, what: what) } catch let e as SelectionError {
                throw ValidationError("layer '\(name)': \(e.message)")
            }
        }
        if let channel { return ([UnitObjective(.channel(channel))], ["channel \(channel)"]) }
        if let channels {
            let list = try chosen(channels, "channel")
            return (list.map { UnitObjective(.channel($0)) }, list.map { "channel \($0)" })
        }
        if let logit {
            let list = try chosen(logit, "logit")
            return (list.map { UnitObjective(.channel($0)) }, list.map { "logit \($0)" })
        }
        if let neuron, let term = Self.parseNeuron(neuron) { return ([UnitObjective(term)], [term.description]) }
        if let mix, let unit = Self.parseMix(mix) { return ([unit], [unit.description]) }
        let v = try NPY.read(contentsOf: URL(fileURLWithPath: direction!))
        return ([UnitObjective(.direction(v.data))], ["direction \(URL(fileURLWithPath: direction!).lastPathComponent)"])
    }

    /// Three significant digits, for the caption.
    static func number(_ v: Float) -> String { String(format: "%.3g", v) }

    func settingsNote(_ s: FeatureVisualization.Settings, source: ModelSource, language l: Language, similarities: [Float]) -> String {
        let p: String
        switch s.parameterization {
        case let .fourier(decay): p = l("Fourier parameterization (1/f^\(Self.number(decay)))", "傅里叶参数化（1/f^\(Self.number(decay))）")
        case .pixel: p = l("pixel parameterization", "像素参数化")
        }
        let t = s.transforms.isEmpty ? l("no transforms", "无变换") : s.transforms.map(\.description).joined(separator: ", ")
        let norm = "mean \(s.normalization.mean.map { Self.number($0) }.joined(separator: ", ")), std \(s.normalization.std.map { Self.number($0) }.joined(separator: ", "))"
        let input = source.architecture.input
        let colours = input[0] == 3 ? (data != nil ? l(", colours decorrelated as in \(data!)", "，颜色按 \(data!) 去相关") : l(", ImageNet colour decorrelation", "，ImageNet 颜色去相关")) : ""
        let div = similarities.isEmpty ? "" : l("; diversity \(Self.number(diversity)), Gram similarity per unit \(similarities.map { Self.number($0) }.joined(separator: ", "))",
                                                 "；多样性 \(Self.number(diversity))，每单元 Gram 相似度 \(similarities.map { Self.number($0) }.joined(separator: ", "))")
        return l("\(s.size) px, \(s.steps) Adam steps at lr \(Self.number(s.learningRate)), \(p)\(colours), seed \(s.seed); transforms: \(t); resized to \(input[1])x\(input[2]) and normalized (\(norm))\(div).",
                 "\(s.size) 像素，Adam \(s.steps) 步，学习率 \(Self.number(s.learningRate))，\(p)\(colours)，种子 \(s.seed)；变换：\(t)；缩放到 \(input[1])x\(input[2]) 并标准化（\(norm)）\(div)。")
    }
}

/// `--transforms lucid|none|pad:12,jitter:8,scale:0.9-1.1,rotate:10,jitter:4`.
struct TransformChoice: ExpressibleByArgument {
    var transforms: [ImageTransform]

    init?(argument: String) {
        switch argument {
        case "lucid": transforms = ImageTransform.lucid
        case "none": transforms = []
        default:
            var list: [ImageTransform] = []
            for item in argument.split(separator: ",") {
                let f = item.split(separator: ":").map(String.init)
                guard f.count == 2 else { return nil }
                switch f[0] {
                case "pad": guard let n = Int(f[1]), n >= 0 else { return nil }; list.append(.pad(n, value: 0.5))
                case "jitter": guard let n = Int(f[1]), n >= 1 else { return nil }; list.append(.jitter(n))
                case "scale":
                    let r = f[1].split(separator: "-").compactMap { Float($0) }
                    guard r.count == 2, r[0] > 0, r[1] >= r[0] else { return nil }
                    list.append(.scale((0...10).map { r[0] + (r[1] - r[0]) * Float($0) / 10 }))
                case "rotate": guard let d = Int(f[1]), d >= 0 else { return nil }; list.append(.rotate((-d...d).map(Float.init)))
                default: return nil
                }
            }
            guard !list.isEmpty else { return nil }
            transforms = list
        }
    }

    var defaultValueDescription: String { "lucid" }
}
