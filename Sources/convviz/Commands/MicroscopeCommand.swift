import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz microscope --model MODEL --data DATA --out SITE`: a static site with every
/// unit's feature visualization, top patches, kernel and activation maps.
struct MicroscopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "microscope",
        abstract: "Build a browsable offline site: per unit its feature visualization, top dataset patches, kernel and activations.",
        discussion: """
        index.html shows the shape table and a strip of feature visualizations per layer; \
        a page per layer has a card per channel (feature visualization, top patches, \
        kernel, mean activation, and with labels the classes of its best 100 images); a \
        page per unit shows it larger, with its receptive field and its activation maps on \
        the --image photos. Arrow keys move between units, Esc goes up, / searches by \
        channel number. The pages are static files: open index.html from disk.

        Per layer the data is read once and all its channels are optimized together \
        (what `convviz visualize --channels` and `convviz top-patches` compute for the \
        same --steps, --size and --seed). Work is cached under SITE (cache/, units/); \
        --resume continues an interrupted run, keeping finished units. The same seed \
        gives the same site.
        Example: convviz microscope --model Outputs/fmnist --data fashion-mnist --out Outputs/fmnist-microscope
        """)

    @OptionGroup var network: ModelOptions
    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("The site's folder.", valueName: "SITE"))
    var out: String

    @Option(help: ArgumentHelp("Layers to show: names, comma-separated, or all (every convolution; the default).", valueName: "conv1,conv2|all"))
    var layers: String = "all"

    @Option(help: ArgumentHelp("Channels of each layer: START:END (END excluded), a comma list, or both; cut to each layer's channel count (default: all).", valueName: "selection"))
    var channels: IndexSelection?

    @Option(name: .customLong("image"), parsing: .upToNextOption, help: ArgumentHelp("Photos whose activation maps each unit page shows.", valueName: "IMG"))
    var images: [String] = []

    @Flag(help: "Continue an interrupted run in SITE: finished units and cached layer results are kept.")
    var resume = false

    @Option(help: "Language of the pages: en or zh.")
    var lang: Language = .en

    @Option(help: "Feature visualization: optimization steps (all channels of a layer at once).")
    var steps: Int = MicroscopePlan.Settings().steps

    @Option(help: "Feature visualization: image side in pixels (default: 128, or the model's input side when smaller).")
    var size: Int?

    @Option(help: "Feature visualization: Adam's learning rate.")
    var lr: Float = 0.05

    @Option(help: "Split of the data to scan for top patches.")
    var split: TopPatchesSplit = .test

    @Option(help: "Scan the first N images of the split only.")
    var limit: Int?

    @Option(help: "Images per batch of the scan.")
    var batch: Int = 64

    @Option(help: "Seed of the optimization's noise and transforms (and of random weights).")
    var seed: UInt64 = 0

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (0...100_000).contains(steps) else { throw ValidationError("--steps must be 0 to 100000") }
        if let size, !(8...1024).contains(size) { throw ValidationError("--size must be 8 to 1024 pixels") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be positive") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func plannedLayers(_ source: ModelSource) throws -> [MicroscopePlan.Layer] {
        let a = source.architecture
        let table: ShapeTable
        do { table = try ShapeTable(a) } catch let e as ShapeError { throw ReadError(source.path, .badShape, e.description) }
        let indices: [Int]
        if layers == "all" {
            indices = MicroscopePlan.convolutionLayers(of: a)
            guard !indices.isEmpty else { throw ValidationError("\(source.path) has no convolution layers; name layers with --layers (\(a.layerListing))") }
        } else {
            indices = try layers.split(separator: ",").map { name in
                let name = name.trimmingCharacters(in: .whitespaces)
                guard let i = a.index(ofLayer: name) else { throw ValidationError("no layer '\(name)' in \(source.path); layers: \(a.layerListing)") }
                return i
            }
        }
        return try indices.map { i in
            let shape = table.rows[i].output
            guard shape.count == 3 else { throw ValidationError("layer '\(a.layers[i].name ?? "?")' outputs \(shape) per image; the microscope shows [C, H, W] maps") }
            var list = Array(0..<shape[0])
            if let channels {
                // Cut the selection to this layer: --channels 0:32 on a 16-channel layer shows 16.
                list = channels.parts.flatMap { part -> [Int] in
                    switch part {
                    case let .single(c): return c < shape[0] ? [c] : []
                    case let .range(a, b, step): return Array(stride(from: a, to: min(b ?? shape[0], shape[0]), by: max(step, 1)))
                    }
                }
                guard !list.isEmpty else { throw ValidationError("--channels selects none of the \(shape[0]) channels of '\(a.layers[i].name!)'") }
            }
            return MicroscopePlan.Layer(name: a.layers[i].name!, index: i, channels: list)
        }
    }

    func run() throws {
        let source = try network.load()
        let planned = try plannedLayers(source)
        let input = source.architecture.input
        let (imageSource, splitName) = try TopPatchesImages.open(data.data, split: split, input: input)
        var settings = MicroscopePlan.Settings()
        settings.steps = steps
        settings.size = size
        settings.learningRate = lr
        settings.seed = seed
        settings.limit = limit
        settings.batch = batch
        settings.split = splitName
        let plan = MicroscopePlan(model: network.model!, data: data.data.description, layers: planned, settings: settings, photos: images)
        let site = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)

        // The photos: standardized for the network, and as it sees them (for the page).
        let probe = ActivationProbe(source: source, index: planned[0].index)
        let prepared = try images.map { try probe.photo(at: $0) }
        let photos = prepared.map { (input: $0.batch, pixels: $0.display ?? Tensor(shape: Array($0.batch.shape.dropFirst()), data: $0.batch.data)) }
        let photoFolder = site.appendingPathComponent("photos")
        if !photos.isEmpty { try FileManager.default.createDirectory(at: photoFolder, withIntermediateDirectories: true) }
        for (i, p) in photos.enumerated() {
            try MicroscopeUnitImages.writePNG(RasterImage(image: p.pixels, scale: max(1, 112 / max(p.pixels.shape[1], 1))), to: photoFolder.appendingPathComponent("\(i).png"))
        }

        let job = MicroscopeJob(source: source, plan: plan, images: imageSource,
                                standardization: MicroscopePlan.scanStandardization(for: source, data: data.data), photos: photos, site: site)
        let display = ProgressDisplay()
        let records: [MicroscopeUnit]
        do {
            records = try job.run(resume: resume, progress: { p in
                let eta = p.remaining.isFinite ? String(format: "ETA %.0f s", p.remaining) : "ETA -"
                display.bar(done: p.done, total: p.total, stats: String(format: "%d/%d  %.0f s  %@  %@", p.done, p.total, p.seconds, eta, p.phase))
            }, writeUnit: MicroscopeUnitImages.write)!
        } catch let e as MicroscopeJob.Mismatch { throw ValidationError(e.description) }
        display.finish()

        let table = try ShapeTable(source.architecture)
        let layerPages = planned.map { layer in
            MicroscopeSite.Layer(name: layer.name, slug: layer.slug, shape: table.rows[layer.index].output,
                                 units: records.filter { $0.layer == layer.name },
                                 hasKernels: FileManager.default.fileExists(atPath: job.unitFolder(layer, layer.channels[0]).appendingPathComponent("kernel.png").path))
        }
        let vis = plan.visualizationSettings(for: source)
        let note = lang("Feature visualizations: \(vis.size) px, \(vis.steps) Adam steps at lr \(vis.learningRate), Fourier parameterization, Lucid's transforms, seed \(vis.seed). Top patches: \(settings.top) per unit from \(records.first.map { _ in "\(min(imageSource.count, limit ?? imageSource.count))" } ?? "0") images (\(splitName)).",
                        "特征可视化：\(vis.size) 像素，Adam \(vis.steps) 步，学习率 \(vis.learningRate)，傅里叶参数化，Lucid 变换，种子 \(vis.seed)。最强图块：每单元 \(settings.top) 个，取自 \(min(imageSource.count, limit ?? imageSource.count)) 张图像（\(splitName)）。")
        let siteText = MicroscopeSite(model: plan.model, data: "\(plan.data) (\(splitName))", table: table, layers: layerPages,
                                      classes: imageSource.classes.count > 1 ? imageSource.classes : [], photos: images.map { URL(fileURLWithPath: $0).lastPathComponent },
                                      settingsNote: note, language: lang)
        try siteText.write(to: site)
        try AtomicFile.write(try MicroscopeSiteRecords(plan: plan, units: records).json(), to: site.appendingPathComponent("microscope.json"))
        display.note("wrote \(records.count) units of \(planned.count) layer(s) to \(site.path)/index.html")
    }
}
