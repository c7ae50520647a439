import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz activations --model MODEL --image IMG.png --layer NAME -o maps.png`.
struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Draw the feature maps of one layer for one input.",
        discussion: """
        The input is a photo (--image: resized to the network's input or --size, then \
        standardized: a ConvViz run's own statistics, else ImageNet's or --mean/--std) or \
        an array fed as it is (--input x.npy, NCHW or CHW float32). --maps draws maps \
        computed elsewhere. --layer takes a layer name or, for ONNX models, a node or \
        value name.

        --size full runs the layers up to --layer at the photo's own size (a fully \
        convolutional prefix: a flatten or linear layer before --layer is an error). \
        --save-maps writes the layer's output as computed. A figure never \
        exceeds 16,384 px a side nor, as SVG, about 20 MB (--max-svg-mb); --page-size N \
        draws N maps per file: OUT-1.png, OUT-2.png, ...
        """)

    @OptionGroup var network: ModelOptions

    @Option(help: "Input photo (PNG).")
    var image: String?

    @Option(help: "Input array (.npy) [N, C, H, W] or [C, H, W], fed as it is (no resizing or standardization).")
    var input: String?

    @Option(help: "Already computed maps [C, H, W] or [1, C, H, W] (.npy) to draw instead of running a model.")
    var maps: String?

    @Option(help: "Layer whose output to draw (e.g. conv1, layer1.0.relu, an ONNX value name); with --maps, the title.")
    var layer: String

    @Option(help: ArgumentHelp("Photo size fed to the network: full (the photo's own), N (square) or HxW (default: the network's input).", valueName: "size"))
    var size: PhotoSize?

    @Option(help: ArgumentHelp("Per-channel mean for --image, comma-separated (default: see above).", valueName: "m1,m2,..."))
    var mean: ChannelValues?

    @Option(help: ArgumentHelp("Per-channel standard deviation for --image, comma-separated.", valueName: "s1,s2,..."))
    var std: ChannelValues?

    @Option(help: "Also write the layer's output as computed (NCHW float32 .npy): the values the figure draws.")
    var saveMaps: String?

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>
    @OptionGroup var paging: PagedOutput

    @Option(help: "Colormap.")
    var colormap: Colormap = .viridis

    @Flag(help: "Stretch each map to its own range instead of one shared colour scale.")
    var perMapScale = false

    @Flag(inversion: .prefixedNo, help: "Show the input image beside the maps.")
    var showInput = true

    @Option(help: "Number of columns.")
    var columns: Int?

    // `--scale` is the PNG's pixels per point (FigureOutputOptions), for every figure.
    @Option(help: "Pixels per map value (nearest-neighbour upscale), 1 to 64 (default: about 64 px per map).")
    var zoom: Int?

    @Option(help: ArgumentHelp("Channels to draw: START:END (END excluded), a comma list, or both (e.g. 0:16 or 3,7,9).", valueName: "selection"))
    var channels: IndexSelection?

    @Option(help: "Draw only the K channels with the largest activation (see --rank-by), largest first.")
    var top: Int?

    @Option(help: "What --top ranks channels by: mean or max activation.")
    var rankBy: ActivationMaps.Ranking?

    @Option(help: "Seed for random weights (an architecture without --weights).")
    var seed: UInt64 = 0

    func validate() throws {
        if let zoom, !(1...64).contains(zoom) { throw ValidationError("--zoom must be 1 to 64") }
        if maps != nil {
            guard network.model == nil, image == nil, input == nil else {
                throw ValidationError("--maps draws maps computed elsewhere; it does not go with --model, --image or --input")
            }
            if saveMaps != nil { throw ValidationError("--save-maps writes the maps a model computes; with --maps they are already in \(maps!)") }
        } else {
            guard network.model != nil else { throw ValidationError("give --model (or --checkpoint) with --image or --input, or --maps FILE.npy") }
            guard (image == nil) != (input == nil) else { throw ValidationError("give exactly one of --image PHOTO.png and --input ARRAY.npy") }
        }
        if size != nil && image == nil { throw ValidationError("--size resizes a photo; it goes with --image") }
        if let std, !std.values.allSatisfy({ $0 > 0 }) { throw ValidationError("--std must be positive") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if rankBy != nil && top == nil { throw ValidationError("--rank-by orders the channels --top K keeps; give --top K") }
    }

    func run() throws {
        let l = text.lang
        if let maps {
            let title = l("Activations of \(layer)", "\(layer) 的激活图")
            return try draw(ActivationMaps(maps: try ModelInput.maps(at: maps), layer: layer), title: title)
        }
        let probe: ActivationProbe, prepared: ModelInput.Prepared, out: Tensor
        do {
            probe = try ActivationProbe(source: try network.load(), layer: layer)
            let photoSize = try size.map { try $0.resolved(photo: image!) }
            prepared = try input.map { try probe.array(at: $0) }
                ?? probe.photo(at: image!, size: photoSize, mean: mean?.values, std: std?.values)
            out = try probe.activations(prepared.batch, seed: seed)
        } catch let failure as ActivationProbe.Failure {
            // A wrong layer or size is a usage error (exit 64); too large an input is the input's.
            if case .tooManyActivations = failure { throw failure }
            throw ValidationError(failure.description)
        }
        // The values as computed, every sample and channel: the figure draws sample 0's.
        if let saveMaps { try AtomicFile.write(NPY.encode(out), to: URL(fileURLWithPath: saveMaps)) }
        let name = probe.layerName
        guard out.rank == 4 else {
            guard let saveMaps else {
                throw ValidationError("layer '\(name)' outputs \(out.shape), not feature maps [N, C, H, W]; --save-maps writes its values")
            }
            return note("layer '\(name)' outputs \(out.shape), not feature maps: wrote \(saveMaps), no figure")
        }
        if out.shape[0] > 1 { note("drawing sample 0 of \(out.shape[0])") }
        let first = Tensor(shape: Array(out.shape.dropFirst()), data: Array(out.data.prefix(out.count / out.shape[0])))
        var figure = ActivationMaps(maps: first, layer: name)
        let mapScale = zoom ?? max(1, 64 / max(out.shape[2], out.shape[3]))
        if showInput, let display = prepared.display {
            figure.input = RasterImage(image: display, scale: max(1, mapScale * out.shape[2] / display.shape[1]))
        }
        figure.caption = prepared.preparation.caption(l)
        let file = URL(fileURLWithPath: image ?? input!).lastPathComponent
        try draw(figure, title: l("Activations of \(name) for \(file)", "\(name) 对 \(file) 的激活图"))
    }

    private func note(_ text: String) { FileHandle.standardError.write(Data("note: \(text)\n".utf8)) }

    private func draw(_ figure: ActivationMaps, title: String) throws {
        let l = text.lang
        var figure = figure
        figure.colormap = colormap
        figure.sharedScale = !perMapScale
        figure.columns = columns
        figure.scale = zoom
        figure.title = title
        figure.text = text.figureText
        figure.maxSVGBytes = paging.svgBudget(for: output)
        let total = figure.maps.shape[0]
        var chosen: [Int]?
        if let channels {
            do { chosen = try channels.indices(count: total, what: "channel") } catch let e as SelectionError { throw ValidationError(e.message) }
        }
        if let top {
            let ranking = rankBy ?? .mean
            let candidates = Set(chosen ?? Array(0..<total))
            let ranked = ActivationMaps.topChannels(total, of: figure.maps, by: ranking).filter(candidates.contains).prefix(top)
            let list = ranked.map(String.init).joined(separator: l.listSeparator)
            figure.selectionNote = l("The \(ranked.count) of \(candidates.count) channels with the largest \(ranking.rawValue) activation, largest first: \(list).",
                                     "\(candidates.count) 个通道中\(ranking == .mean ? "平均" : "最大")激活最大的 \(ranked.count) 个，从大到小：\(list)。")
            chosen = Array(ranked)
        }
        let drawn = chosen ?? Array(0..<total)
        try paging.write(drawn, to: output, what: ("channels", "通道"), language: l) { page, pageNote in
            var figure = figure
            figure.channels = chosen == nil && paging.pageSize == nil ? nil : page
            figure.notes = [pageNote].compactMap { $0 }
            let scene = figure.scene()
            return (scene, figure.warnings)
        }
    }
}

extension ActivationMaps.Ranking: ExpressibleByArgument {}
