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

    @Option(help: "Photo size fed to the network: N (square) or HxW (default: the network's input).")
    var size: String?

    @Option(help: "Per-channel mean for --image, comma-separated (default: see above).")
    var mean: String?

    @Option(help: "Per-channel standard deviation for --image, comma-separated.")
    var std: String?

    @Option(help: "Also write the layer's output as computed (NCHW float32 .npy).")
    var saveMaps: String?

    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).")
    var output: String

    @Option(help: "Colormap.")
    var colormap: Colormap = .viridis

    @Flag(help: "Stretch each map to its own range instead of one shared colour scale.")
    var perMapScale = false

    @Flag(inversion: .prefixedNo, help: "Show the input image beside the maps.")
    var showInput = true

    @Option(help: "Number of columns.")
    var columns: Int?

    @Option(help: "Nearest-neighbour upscale of each map (default: about 64 px per map).")
    var scale: Int?

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
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        if let maps {
            let tensor = try NPY.read(contentsOf: URL(fileURLWithPath: maps))
            let planes: Tensor
            switch tensor.rank {
            case 3: planes = tensor
            case 4 where tensor.shape[0] == 1: planes = tensor.reshaped(Array(tensor.shape.dropFirst()))
            case 4: throw ReadError(maps, .badShape, "maps [N, C, H, W] with N = \(tensor.shape[0]); give one sample ([1, C, H, W] or [C, H, W])")
            default: throw ReadError(maps, .badShape, "maps must be [C, H, W] or [1, C, H, W], got \(tensor.shape)")
            }
            try draw(ActivationMaps(maps: planes, layer: layer), title: "Activations of \(layer)")
            return
        }
        let source = try network.load()
        guard let index = source.architecture.index(ofLayer: layer) else {
            throw ValidationError("no layer '\(layer)' in \(source.path); layers: \(LayerListing.names(source.architecture))")
        }
        let prepared = try prepareInput(source)
        let network = source.prefix(through: index, input: Array(prepared.batch.shape.dropFirst()))
        let graph = try network.makeGraph(seed: seed)
        let out = graph.output(prepared.batch, through: graph.operations.count - 1)
        if let saveMaps { try AtomicFile.write(NPY.encode(out), to: URL(fileURLWithPath: saveMaps)) }
        let name = source.architecture.layers[index].name!
        guard out.rank == 4 else {
            guard saveMaps != nil else {
                throw ValidationError("layer '\(name)' outputs \(out.shape), not feature maps [N, C, H, W]; --save-maps writes its values")
            }
            FileHandle.standardError.write(Data("note: layer '\(name)' outputs \(out.shape), not feature maps: wrote \(saveMaps!), no figure\n".utf8))
            return
        }
        if out.shape[0] > 1 { FileHandle.standardError.write(Data("note: drawing sample 0 of \(out.shape[0])\n".utf8)) }
        let first = Tensor(shape: Array(out.shape.dropFirst()), data: Array(out.data.prefix(out.count / out.shape[0])))
        var figure = ActivationMaps(maps: first, layer: name)
        let mapScale = scale ?? max(1, 64 / max(out.shape[2], out.shape[3]))
        if showInput, let display = prepared.display {
            figure.input = RasterImage(image: display, scale: max(1, mapScale * out.shape[2] / display.shape[1]))
        }
        let what = image.map { URL(fileURLWithPath: $0).lastPathComponent } ?? URL(fileURLWithPath: input!).lastPathComponent
        figure.caption = prepared.caption
        try draw(figure, title: "Activations of \(name) for \(what)")
    }

    /// The batch fed to the network, the photo as shown (nil for an array), and how it
    /// was prepared.
    private func prepareInput(_ source: ModelSource) throws -> (batch: Tensor, display: Tensor?, caption: String?) {
        let c = source.architecture.input[0]
        if let input {
            let url = URL(fileURLWithPath: input)
            var x = try NPY.read(contentsOf: url)
            if x.rank == 3 { x = x.reshaped([1] + x.shape) }
            guard x.rank == 4, x.shape[1] == c, x.shape[0] >= 1, x.shape[2] >= 1, x.shape[3] >= 1 else {
                throw ReadError(input, .badShape, "the network takes [N, \(c), H, W]; got \(x.shape)")
            }
            return (x, nil, "Input \(url.lastPathComponent) \(x.shape.map(String.init).joined(separator: "x")), fed as it is.")
        }
        let photo = image!
        var (standardization, label) = source.defaultStandardization
        if mean != nil || std != nil {
            let m = try Self.floats(mean, "--mean", count: c) ?? standardization.mean
            let s = try Self.floats(std, "--std", count: c) ?? standardization.std
            guard s.allSatisfy({ $0 > 0 }) else { throw ValidationError("--std must be positive") }
            standardization = Standardization(mean: m, std: s)
            label = "mean \(m.map { String($0) }.joined(separator: ", ")), std \(s.map { String($0) }.joined(separator: ", "))"
        }
        var architecture = source.architecture
        if let size { architecture.input = [c] + (try Self.size(size)) }
        let prepared = try ModelInput.prepare(imageAt: URL(fileURLWithPath: photo), for: architecture, standardization: standardization)
        let (h, w) = (architecture.input[1], architecture.input[2])
        return (prepared.batch, prepared.display, "Photo resized to \(h)x\(w) and standardized with \(label).")
    }

    static func floats(_ text: String?, _ option: String, count: Int) throws -> [Float]? {
        guard let text else { return nil }
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == count, values.allSatisfy({ $0?.isFinite == true }) else {
            throw ValidationError("\(option) takes \(count) comma-separated numbers, one per channel")
        }
        return values.map { $0! }
    }

    static func size(_ text: String) throws -> [Int] {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 8192 }) else {
            throw ValidationError("--size must be N or HxW with sides from 1 to 8192")
        }
        return parts.count == 1 ? [parts[0]!, parts[0]!] : [parts[0]!, parts[1]!]
    }

    private func draw(_ figure: ActivationMaps, title: String) throws {
        var figure = figure
        figure.colormap = colormap
        figure.sharedScale = !perMapScale
        figure.columns = columns
        figure.scale = scale
        figure.title = title
        let scene = figure.scene()
        try FigureOutput.write(scene, to: output, warnings: figure.warnings)
    }
}

extension Colormap: ExpressibleByArgument {}
