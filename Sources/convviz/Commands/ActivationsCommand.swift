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

    @Option(help: ArgumentHelp("Photo size fed to the network: N (square) or HxW (default: the network's input).", valueName: "size"))
    var size: ImageSize?

    @Option(help: ArgumentHelp("Per-channel mean for --image, comma-separated (default: see above).", valueName: "m1,m2,..."))
    var mean: ChannelValues?

    @Option(help: ArgumentHelp("Per-channel standard deviation for --image, comma-separated.", valueName: "s1,s2,..."))
    var std: ChannelValues?

    @Option(help: "Also write the layer's output as computed (NCHW float32 .npy).")
    var saveMaps: String?

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    @Option(help: "Colormap.")
    var colormap: Colormap = .viridis

    @Flag(help: "Stretch each map to its own range instead of one shared colour scale.")
    var perMapScale = false

    @Flag(inversion: .prefixedNo, help: "Show the input image beside the maps.")
    var showInput = true

    @Option(help: "Number of columns.")
    var columns: Int?

    @Option(help: "Nearest-neighbour upscale of each map, 1 to 64 (default: about 64 px per map).")
    var scale: Int?

    @Option(help: ArgumentHelp("Channels to draw: START:END (END excluded), a comma list, or both (e.g. 0:16 or 3,7,9).", valueName: "selection"))
    var channels: IndexSelection?

    @Option(help: "Draw only the K channels with the largest activation (see --rank-by), largest first.")
    var top: Int?

    @Option(help: "What --top ranks channels by: mean or max activation.")
    var rankBy: ActivationMaps.Ranking?

    @Option(help: "Seed for random weights (an architecture without --weights).")
    var seed: UInt64 = 0

    func validate() throws {
        if let scale, !(1...64).contains(scale) { throw ValidationError("--scale must be 1 to 64") }
        if maps != nil {
            guard network.model == nil, image == nil, input == nil else {
                throw ValidationError("--maps draws maps computed elsewhere; it does not go with --model, --image or --input")
            }
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
        if let maps {
            return try draw(ActivationMaps(maps: try ModelInput.maps(at: maps), layer: layer), title: "Activations of \(layer)")
        }
        let source = try network.load()
        guard let index = source.architecture.index(ofLayer: layer) else {
            throw ValidationError("no layer '\(layer)' in \(source.path); layers: \(source.architecture.layerListing)")
        }
        let prepared = try input.map { try ModelInput.array(at: $0, channels: source.architecture.input[0]) }
            ?? ModelInput.photo(at: image!, for: source, size: size.map { [$0.height, $0.width] }, mean: mean?.values, std: std?.values)
        let network = source.prefix(through: index, input: Array(prepared.batch.shape.dropFirst()))
        let graph = try network.makeGraph(seed: seed)
        let out = graph.output(prepared.batch, through: graph.operations.count - 1)
        if let saveMaps { try AtomicFile.write(NPY.encode(out), to: URL(fileURLWithPath: saveMaps)) }
        let name = source.architecture.layers[index].name!
        guard out.rank == 4 else {
            guard let saveMaps else {
                throw ValidationError("layer '\(name)' outputs \(out.shape), not feature maps [N, C, H, W]; --save-maps writes its values")
            }
            return note("layer '\(name)' outputs \(out.shape), not feature maps: wrote \(saveMaps), no figure")
        }
        if out.shape[0] > 1 { note("drawing sample 0 of \(out.shape[0])") }
        let first = Tensor(shape: Array(out.shape.dropFirst()), data: Array(out.data.prefix(out.count / out.shape[0])))
        var figure = ActivationMaps(maps: first, layer: name)
        let mapScale = scale ?? max(1, 64 / max(out.shape[2], out.shape[3]))
        if showInput, let display = prepared.display {
            figure.input = RasterImage(image: display, scale: max(1, mapScale * out.shape[2] / display.shape[1]))
        }
        figure.caption = prepared.caption
        try draw(figure, title: "Activations of \(name) for \(URL(fileURLWithPath: image ?? input!).lastPathComponent)")
    }

    private func note(_ text: String) { FileHandle.standardError.write(Data("note: \(text)\n".utf8)) }

    private func draw(_ figure: ActivationMaps, title: String) throws {
        var figure = figure
        figure.colormap = colormap
        figure.sharedScale = !perMapScale
        figure.columns = columns
        figure.scale = scale
        figure.title = text.title ?? title
        let total = figure.maps.shape[0]
        var chosen: [Int]?
        if let channels {
            do { chosen = try channels.indices(count: total, what: "channel") } catch let e as SelectionError { throw ValidationError(e.message) }
        }
        if let top {
            let ranking = rankBy ?? .mean
            let candidates = Set(chosen ?? Array(0..<total))
            let ranked = ActivationMaps.topChannels(total, of: figure.maps, by: ranking).filter(candidates.contains).prefix(top)
            figure.selectionNote = "The \(ranked.count) of \(candidates.count) channels with the largest \(ranking.rawValue) activation, largest first: \(ranked.map(String.init).joined(separator: ", "))."
            chosen = Array(ranked)
        }
        figure.channels = chosen
        if let caption = text.caption { figure.caption = caption }
        let scene = figure.scene()
        try output.write(scene, warnings: figure.warnings)
    }
}

extension ActivationMaps.Ranking: ExpressibleByArgument {}
