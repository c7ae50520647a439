import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz activations --checkpoint RUN --image IMG.png --layer conv1 -o maps.png`.
struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Draw the feature maps of one layer for one input image.")

    @Option(help: "A ConvViz checkpoint or run directory.")
    var checkpoint: String?

    @Option(help: "Input image (PNG); resized and standardized as the model was trained.")
    var image: String?

    @Option(help: "Already computed maps [C, H, W] (.npy) to draw instead of running a model.")
    var maps: String?

    @Option(help: "Layer whose output to draw (e.g. conv1, bn1, relu1); with --maps, the title.")
    var layer: String

    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).")
    var output: String

    @Option(help: "Colormap: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).")
    var colormap: String = Colormap.viridis.rawValue

    @Flag(help: "Stretch each map to its own range instead of one shared colour scale.")
    var perMapScale = false

    @Flag(inversion: .prefixedNo, help: "Show the input image beside the maps.")
    var showInput = true

    @Option(help: "Number of columns.")
    var columns: Int?

    @Option(help: "Nearest-neighbour upscale of each map (default: about 64 px per map).")
    var scale: Int?

    func validate() throws {
        guard Colormap(rawValue: colormap) != nil else {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let scale, !(1...64).contains(scale) { throw ValidationError("--scale must be 1 to 64") }
        if maps == nil && (checkpoint == nil || image == nil) {
            throw ValidationError("give --checkpoint and --image (or --maps FILE.npy)")
        }
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        if let maps {
            let tensor = try NPY.read(contentsOf: URL(fileURLWithPath: maps))
            guard tensor.rank == 3 else { throw ReadError(maps, .badShape, "maps must be [C, H, W], got \(tensor.shape)") }
            try draw(ActivationMaps(maps: tensor, layer: layer), title: "Activations of \(layer)")
            return
        }
        let (checkpoint, image) = (self.checkpoint!, self.image!)
        let url = WeightsSource(parsing: checkpoint).fileURL
        let ckpt = try Checkpoint(contentsOf: url)
        let model = try ckpt.makeModel(file: url.path)
        guard let index = model.index(ofLayer: layer) else {
            throw ValidationError("no layer '\(layer)' in \(url.path); layers: \(model.layers.map(\.name).joined(separator: ", "))")
        }
        guard model.layerShapes[index].count == 3 else {
            throw ValidationError("layer '\(layer)' outputs \(model.layerShapes[index]), not feature maps [C, H, W]")
        }
        let input = try ModelInput.prepare(imageAt: URL(fileURLWithPath: image), for: ckpt.architecture, standardization: ckpt.standardization)
        let out = model.forward(input.batch, mode: .evaluation, through: index)
        var figure = ActivationMaps(maps: out.reshaped(Array(out.shape.dropFirst())), layer: layer)
        let mapScale = scale ?? max(1, 64 / max(out.shape[2], out.shape[3]))
        if showInput { figure.input = RasterImage(image: input.display, scale: max(1, mapScale * out.shape[2] / input.display.shape[1])) }
        try draw(figure, title: "Activations of \(layer) for \(URL(fileURLWithPath: image).lastPathComponent)")
    }

    private func draw(_ figure: ActivationMaps, title: String) throws {
        var figure = figure
        figure.colormap = Colormap(rawValue: colormap)!
        figure.sharedScale = !perMapScale
        figure.columns = columns
        figure.scale = scale
        figure.title = title
        let scene = figure.scene()
        try FigureOutput.write(scene, to: output, warnings: figure.warnings)
    }
}
