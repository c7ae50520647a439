import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz filters WEIGHTS[:TENSOR] -o mosaic.png|svg|pdf`.
struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "Draw a mosaic of convolution filters [C_out, C_in, K, K].",
        discussion: """
        WEIGHTS is a .npy file, a .safetensors file (optionally FILE:TENSOR), an ONNX model \
        (MODEL.onnx:INITIALIZER) or a ConvViz checkpoint or run directory (optionally \
        RUN:LAYER, e.g. Outputs/run:conv1). Without a name, the first 4-D tensor is used.
        """)

    @Argument(help: "Weights: FILE.npy, FILE.safetensors[:TENSOR], MODEL.onnx[:INITIALIZER] or RUN_DIR[:LAYER].")
    var weights: String?

    @OptionGroup var network: ModelOptions

    @Option(help: "With --model: the convolution layer (name or alias) or tensor to draw.")
    var layer: String?

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleOnly>

    @Option(help: "How values map to gray levels: per filter or over all, symmetric around 0 or min-max.")
    var normalize: FilterMosaic.Normalization = .filterSymmetric

    @Option(help: "Nearest-neighbour upscale factor (1 to 64).")
    var scale: Int = 8

    @Option(help: "Gap between filters, in pixels (0 to 64).")
    var gap: Int = 2

    @Option(help: "Background colour (#rrggbb, #rgb, white, black or gray).")
    var background: String = "white"

    @Option(help: "Number of columns (default: a square-ish grid).")
    var columns: Int?

    @Flag(help: "Write each filter's index under it.")
    var labels = false

    @Flag(help: "Sort and group filters by taxonomy class (edges by orientation), with a badge under each.")
    var byClass = false

    @Flag(help: "One gray strip per input channel (default: colour for 3 channels, else the channel mean in gray).")
    var strips = false

    func validate() throws {
        guard (weights == nil) != (network.model == nil) else { throw ValidationError("give the weights (FILE[:TENSOR]) or --model MODEL --layer NAME, not both") }
        if network.model != nil && layer == nil { throw ValidationError("--model needs --layer NAME (a convolution layer or tensor)") }
        guard (1...64).contains(scale) else { throw ValidationError("--scale must be 1 to 64") }
        guard (0...64).contains(gap) else { throw ValidationError("--gap must be 0 to 64") }
        guard Color(parsing: background) != nil else { throw ValidationError("--background must be #rrggbb, #rgb, white, black or gray") }
        if let columns, columns < 1 { throw ValidationError("--columns must be at least 1") }
    }

    func run() throws {
        let (name, tensor) = try weights.map { try WeightsSource(parsing: $0).load() } ?? network.load().tensor(layer!)
        guard tensor.rank == 4 else {
            throw ReadError(weights ?? network.model!, .badShape, "tensor '\(name)' has shape \(tensor.shape); filters must be [C_out, C_in, K, K]")
        }
        var mosaic = FilterMosaic(weights: tensor)
        mosaic.title = text.title ?? "\(name) \(tensor.shape.map(String.init).joined(separator: "×"))"
        mosaic.normalization = normalize
        mosaic.channelMode = strips ? .strips : .auto
        mosaic.scale = scale
        mosaic.gap = gap
        mosaic.background = Color(parsing: background)!
        mosaic.columns = columns
        mosaic.labels = labels
        if byClass { mosaic.groupByTaxonomy(FilterTaxonomy(weights: tensor)) }
        try output.write(mosaic.scene(), warnings: mosaic.warnings)
    }
}
