import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz top-patches`: the dataset patches that excite each channel most, on one
/// machine or sharded over many (`--shard I/N`, then `top-patches merge`).
struct TopPatchesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top-patches",
        abstract: "The K dataset patches that excite each channel of a layer most, cropped to the receptive field.",
        discussion: """
        `scan` (the default subcommand) reads a data set and, per channel, keeps the --top images whose \
        largest activation is largest, one patch per image (ties: lower image index, then \
        position). A scan can be cut into shards run anywhere (--shard I/N \
        --save-partial part-I.json); `convviz top-patches merge part-*.json` gives exactly \
        the unsharded result.
        Example: convviz top-patches --model Outputs/fmnist --layer conv2 --channels 0:8 -o conv2-top.png --json conv2-top.json
        """,
        subcommands: [TopPatchesScanCommand.self, TopPatchesMergeCommand.self],
        defaultSubcommand: TopPatchesScanCommand.self)
}

enum TopPatchesCropKind: String, CaseIterable, ExpressibleByArgument {
    case theoretical, effective
}

extension TopPatchesSplit: ExpressibleByArgument {}

/// `I/N`: shard I of N (0 <= I < N).
struct ShardArgument: ExpressibleByArgument {
    let shard: TopPatchesScan.Shard
    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), let shard = try? TopPatchesScan.Shard(index: i, count: n) else { return nil }
        self.shard = shard
    }
    var defaultValueDescription: String { shard.description }
}

/// Where a top-patches result goes: the figure, the JSON, the partial result.
struct TopPatchesOutputs: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("The grid: .png, .svg or .pdf (the extension chooses the format).", valueName: "file"))
    var output: String?

    @OptionGroup var png: PNGScaleOptions

    @Option(help: ArgumentHelp("Write the result as JSON (best first per channel).", valueName: "file.json"))
    var json: String?

    @Option(help: ArgumentHelp("Write the partial result `merge` reads (settings, and exact value bits).", valueName: "part.json"))
    var savePartial: String?

    @Flag(help: "Start each row with the channel's filter (convolution layers; the model's weights).")
    var withFilters = false

    @Option(help: "Pixels per crop pixel in the grid (default: about 72 px per crop).")
    var zoom: Int?

    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        if let output { do { _ = try OutputFormat(path: output) } catch { throw ValidationError("\(error)") } }
        if let zoom, !(1...64).contains(zoom) { throw ValidationError("--zoom must be 1 to 64") }
        guard output != nil || json != nil || savePartial != nil else {
            throw ValidationError("say what to write: -o GRID.png, --json RESULT.json or --save-partial PART.json")
        }
    }

    /// Writes what was asked; `images` is the split scanned (read again for the crops),
    /// `filters` the layer's convolution weights for `--with-filters`.
    func write(_ result: TopPatches, images: () throws -> TopPatchesImageSource, filters: () throws -> Tensor?) throws {
        if let savePartial { try AtomicFile.write(result.json(partial: true), to: URL(fileURLWithPath: savePartial)); print("wrote \(savePartial)") }
        if let json { try AtomicFile.write(result.json(), to: URL(fileURLWithPath: json)); print("wrote \(json)") }
        guard let output else { return }
        let source = try images()
        let crops = try result.crops(from: source)
        let kernels = withFilters ? try filters() : nil
        if withFilters && kernels == nil {
            FileHandle.standardError.write(Data("warning: --with-filters: '\(result.layer)' is not a convolution's output (nor its BatchNorm's or activation's); rows drawn without filters\n".utf8))
        }
        let rows = zip(result.channels, crops).map { channel, cells in
            TopPatchesGrid.Row(channel: channel.channel,
                               cells: zip(channel.patches, cells).map { p, c in
                                   TopPatchesGrid.Cell(crop: c.crop, value: p.value, image: p.image, label: source.classes.indices.contains(c.label) ? source.classes[c.label] : nil)
                               },
                               kernel: kernels.map { k in
                                   let per = k.count / k.shape[0]
                                   return Tensor(shape: Array(k.shape.dropFirst()), data: Array(k.data[(channel.channel * per)..<((channel.channel + 1) * per)]))
                               })
        }
        var grid = TopPatchesGrid(layer: result.layer, rows: rows, data: "\(result.data) (\(result.split))", scanned: result.scan.scanned)
        grid.crop = result.scan.crop
        grid.misaligned = result.scan.misaligned
        grid.scale = zoom
        grid.text = text.figureText
        let scene = grid.scene()
        let format = try OutputFormat(path: output)
        let (pngScale, warning) = format == .png ? FigureOutputOptions.pngScale(png.scale, for: scene) : (1, nil)
        if let warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        try Canvas.write(scene, to: output, pngScale: pngScale)
        print("wrote \(output)")
    }
}

struct TopPatchesScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a data set for the patches that excite each channel most (the default subcommand).",
        discussion: """
        The network runs only up to --layer, BatchNorm folded and ReLU and clip layers fused as \
        `convviz evaluate` runs it, in batches; memory holds one batch and --top patches \
        per channel whatever the data set's size. Each patch is the image's largest value \
        of the channel, cropped to that unit's receptive field (padding drawn pale blue \
        where the field leaves the image). Images are standardized as the run trained \
        (a ConvViz run), else with Fashion-MNIST's statistics for fashion-mnist, else \
        ImageNet's (3 channels) or mean 0.5 / std 0.25; --mean/--std override.

        --shard I/N scans batches I, I+N, I+2N, ... and needs --save-partial; merge the N \
        parts with `convviz top-patches merge`. Every shard must use the same --batch.
        """)

    @OptionGroup var network: ModelOptions

    @Option(help: "Layer whose channels to rank (a layer name or alias, e.g. conv2, layer1.0.relu, an ONNX value name).")
    var layer: String

    @OptionGroup var data: DataOptions

    @Option(help: "Split to scan (a folder without train/ and test/ is scanned whole).")
    var split: TopPatchesSplit = .test

    @Option(help: ArgumentHelp("Channels to rank: START:END (END excluded), a comma list, or both (default: all).", valueName: "selection"))
    var channels: IndexSelection?

    @Option(help: "Patches per channel.")
    var top: Int = 9

    @Option(help: "Images per batch, as `convviz evaluate` (shards of one scan must use the same).")
    var batch: Int = 128

    @Option(help: "Scan the first N images of the split only.")
    var limit: Int?

    @Option(help: ArgumentHelp("Scan only shard I of N: batches I, I+N, I+2N, ... (needs --save-partial).", valueName: "I/N"))
    var shard: ShardArgument?

    @Option(help: "Crop to the theoretical receptive field, or the effective one (pixels at or above 10% of the peak |gradient| of a central unit).")
    var crop: TopPatchesCropKind = .theoretical

    @Option(help: ArgumentHelp("Per-channel mean for standardizing, comma-separated.", valueName: "m1,m2,..."))
    var mean: ChannelValues?

    @Option(help: ArgumentHelp("Per-channel standard deviation for standardizing.", valueName: "s1,s2,..."))
    var std: ChannelValues?

    @Option(help: "Seed for random weights (an architecture without --weights).")
    var seed: UInt64 = 0

    @OptionGroup var outputs: TopPatchesOutputs
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        // Counters are bounded before anything is sized from them (a heap of --top entries
        // per channel; a batch of --batch images).
        guard (1...Self.maxTop).contains(top) else { throw ValidationError("--top must be 1 to \(Self.maxTop) (got \(top))") }
        guard (1...Self.maxBatch).contains(batch) else { throw ValidationError("--batch must be 1 to \(Self.maxBatch) (got \(batch))") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let std, !std.values.allSatisfy({ $0 > 0 }) { throw ValidationError("--std must be positive") }
        if (mean == nil) != (std == nil) { throw ValidationError("give --mean and --std together") }
        if let shard, shard.shard.count > 1 {
            guard outputs.savePartial != nil else { throw ValidationError("--shard \(shard.shard) writes a partial result: give --save-partial part-\(shard.shard.index).json") }
            guard outputs.output == nil && outputs.json == nil else {
                throw ValidationError("--shard \(shard.shard) sees part of the data: -o and --json come from `convviz top-patches merge` of all the parts")
            }
        }
    }

    static let maxTop = 10_000
    static let maxBatch = 4_096

    func run() throws {
        let source = try network.load()
        let scan = try TopPatchesScan(model: source, layer: layer, seed: seed)
        var chosen: [Int]?
        if let channels {
            do { chosen = try channels.indices(count: scan.channelCount, what: "channel") } catch let e as SelectionError { throw ValidationError(e.message) }
        }
        let input = source.architecture.input
        let (images, splitName) = try TopPatchesImages.open(data.data, split: split, input: input)
        let standardization: Standardization
        if let mean, let std {
            guard mean.values.count == input[0], std.values.count == input[0] else {
                throw ValidationError("--mean and --std need \(input[0]) value(s), one per input channel")
            }
            standardization = Standardization(mean: mean.values, std: std.values)
        } else {
            standardization = source.standardization ?? (data.data == .fashionMNIST ? .fashionMNIST : source.defaultStandardization.standardization)
        }
        var field = scan.theoreticalField
        if crop == .effective {
            var (probe, _) = try images.read(0..<min(16, images.count))
            standardization.apply(to: &probe)
            if let effective = try scan.effectiveField(probe: probe, seed: seed) { field = effective } else {
                FileHandle.standardError.write(Data("note: '\(scan.layerName)' has no positions: crops show the whole image\n".utf8))
            }
        }
        var settings = TopPatchesScan.Settings()
        settings.channels = chosen
        settings.top = top
        settings.batch = batch
        settings.limit = limit
        settings.shard = shard?.shard ?? .whole
        let display = ProgressDisplay()
        let result = try scan.run(images, standardization: standardization, field: field, settings: settings,
                                  names: (network.model ?? source.path, data.data.description, splitName)) { p in
            let eta = p.remaining.isFinite ? String(format: "ETA %.0f s", p.remaining) : "ETA -"
            display.bar(done: p.done, total: p.total, stats: String(format: "%d/%d images  %.0f img/s  %@", p.done, p.total, p.imagesPerSecond, eta))
        }
        display.finish()
        display.note(String(format: "scanned %d images of %@ (%@)%@ in %.2f s: %.0f images/s (batch %d, %d threads, %d BatchNorm folded, %d ReLU and clip layers fused)",
                            result.patches.scan.scanned, data.data.description, splitName, settings.shard.count > 1 ? ", shard \(settings.shard)" : "",
                            result.seconds, result.imagesPerSecond, batch, Parallel.workers, scan.folded, scan.fused))
        try outputs.write(result.patches, images: { images }, filters: { scan.filters() })
    }
}

struct TopPatchesMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the partial results of a sharded top-patches scan.",
        discussion: """
        The parts must come from one scan cut into N shards (same model, layer, data, \
        channels, --top and --batch). With every shard in, the result equals the \
        unsharded scan byte for byte; with some, --save-partial writes a larger part \
        (merging is associative). -o reads the data again for the crops; --with-filters \
        reads the model the parts name.
        Example: convviz top-patches merge part-*.json -o grid.png --json result.json
        """)

    @Argument(help: ArgumentHelp("Partial results (--save-partial of each shard).", valueName: "part.json"))
    var parts: [String]

    @OptionGroup var outputs: TopPatchesOutputs

    func validate() throws {
        guard !parts.isEmpty else { throw ValidationError("name the partial results to merge") }
    }

    func run() throws {
        let read = try parts.map { path in try TopPatches(partialJSON: try FileReading.read(URL(fileURLWithPath: path)), file: path) }
        let merged: TopPatches
        do { merged = try TopPatches.merge(read, names: parts) } catch let e as TopPatches.MergeError { throw ValidationError(e.description) }
        if !merged.scan.isComplete {
            let missing = Set(0..<merged.scan.shardCount).subtracting(merged.scan.shards).sorted()
            guard outputs.output == nil && outputs.json == nil else {
                throw ValidationError("shard(s) \(missing.map { "\($0)/\(merged.scan.shardCount)" }.joined(separator: ", ")) missing: -o and --json need every shard (--save-partial writes the parts merged so far)")
            }
        }
        guard let data = try? DataSource(parsing: merged.data), let split = TopPatchesSplit(rawValue: merged.split == "all" ? "test" : merged.split) else {
            throw ValidationError("\(parts[0]): unknown data '\(merged.data)' (\(merged.split))")
        }
        try outputs.write(merged, images: { try TopPatchesImages.open(data, split: split, input: merged.scan.input).source }, filters: {
            let source = try ModelSource(model: merged.model)
            return try TopPatchesScan(model: source, layer: merged.layer).filters()
        })
    }
}
