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

        Deep layers: --view grid draws one filter per row and one input channel per column \
        on one diverging scale (blue < 0 < red) with a colour bar; 1x1 kernels are drawn \
        that way automatically, as a C_out x C_in heat map. --view pca draws the principal \
        kernel shapes over all C_out x C_in kernels with their explained variance. --filters and --channels pick \
        what to draw (0:16, 1,5,9 or 0:64:4); --sort norm orders them by L2 norm, largest \
        first (labels keep each filter's index). A figure never exceeds 16,384 px a side nor, \
        as SVG, about 20 MB (--max-svg-mb): a larger one is drawn smaller, then with fewer \
        filters, and the caption says which. --page-size N draws all of them instead, N per \
        file: OUT-1.png, OUT-2.png, ...
        """)

    @Argument(help: "Weights: FILE.npy, FILE.safetensors[:TENSOR], MODEL.onnx[:INITIALIZER] or RUN_DIR[:LAYER].")
    var weights: String?

    @OptionGroup var network: ModelOptions

    @Option(help: "With --model: the convolution layer (name or alias) or tensor to draw.")
    var layer: String?

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>
    @OptionGroup var paging: PagedOutput

    @Option(help: "How values map to gray levels: per filter or over all, symmetric around 0 or min-max (default filter-symmetric; the grid view: global-symmetric).")
    var normalize: FilterMosaic.Normalization?

    // `--scale` is the PNG's pixels per point (FigureOutputOptions), for every figure.
    @Option(help: "Pixels per kernel value (nearest-neighbour upscale), 1 to 64 (default 8; grid 5, 1x1 heat map 8, pca 16).")
    var zoom: Int?

    @Option(help: "auto (a heat map for 1x1 kernels, else the mosaic), mosaic, grid (one filter per row, one input channel per column), or pca (the principal kernel shapes and their explained variance).")
    var view: KernelView = .auto

    @Option(help: ArgumentHelp("Filters to draw: START:END (END excluded), a comma list, or both (e.g. 0:16 or 3,7,9).", valueName: "selection"))
    var filters: IndexSelection?

    @Option(help: ArgumentHelp("Input channels to draw (same syntax as --filters).", valueName: "selection"))
    var channels: IndexSelection?

    @Option(help: "Filter order: index (as stored or as selected) or norm (L2 norm over the drawn channels, largest first).")
    var sort: FilterOrder = .index

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
        if let zoom, !(1...64).contains(zoom) { throw ValidationError("--zoom must be 1 to 64") }
        if view == .pca && paging.pageSize != nil { throw ValidationError("--view pca draws one figure of a layer's principal shapes; --page-size pages the mosaic and the grid") }
        if view == .pca && sort == .norm { throw ValidationError("--sort orders filters; --view pca draws principal components, not filters") }
        if byClass && sort == .norm { throw ValidationError("--by-class and --sort norm are two orders; choose one") }
        if view == .pca && (strips || byClass || normalize != nil) { throw ValidationError("--view pca draws unit-length components; --strips, --by-class and --normalize belong to the mosaic") }
        if view == .grid && (strips || byClass) { throw ValidationError("--view grid draws every channel of every filter; --strips and --by-class belong to the mosaic") }
        if view == .grid, let normalize, normalize != .globalSymmetric {
            throw ValidationError("--view grid uses one scale symmetric around 0 for all kernels (global-symmetric); --normalize \(normalize.rawValue) is for the mosaic")
        }
        guard (0...64).contains(gap) else { throw ValidationError("--gap must be 0 to 64") }
        guard Color(parsing: background) != nil else { throw ValidationError("--background must be #rrggbb, #rgb, white, black or gray") }
        if let columns, columns < 1 { throw ValidationError("--columns must be at least 1") }
    }

    func run() throws {
        let (name, tensor) = try weights.map { try WeightsSource(parsing: $0).load() } ?? network.load().tensor(layer!)
        guard tensor.rank == 4 else {
            throw ReadError(weights ?? network.model!, .badShape, "tensor '\(name)' has shape \(tensor.shape); filters must be [C_out, C_in, K, K]")
        }
        let l = text.lang
        let filterList = try filters.map { try selection($0, count: tensor.shape[0], what: "filter") }
        let channelList = try channels.map { try selection($0, count: tensor.shape[1], what: "input channel") }
        let shape = tensor.shape.map(String.init).joined(separator: "×")
        let budget = paging.svgBudget(for: output)
        if view == .pca {
            var pca = KernelPCA(weights: filterList == nil && channelList == nil ? tensor : tensor.kernels(filters: filterList, channels: channelList))
            pca.title = l("Principal kernel shapes of \(name) \(shape)", "\(name) \(shape) 的卷积核主成分形状")
            pca.text = text.figureText
            pca.scale = zoom ?? 16
            return try output.write(pca.scene())
        }
        // The filters to draw, in drawing order; the sort is over the channels drawn.
        var order = filterList ?? Array(0..<tensor.shape[0])
        var notes: [String] = []
        if sort == .norm {
            order = (channelList.map { tensor.kernels(channels: $0) } ?? tensor).filtersByNorm(order)
            notes.append(l("Filters sorted by L2 norm, largest first (labels keep each filter's index).", "滤波器按 L2 范数从大到小排序（标签保留各滤波器的原编号）。"))
        }
        if view.resolved(shape: tensor.shape, strips: strips, byClass: byClass, normalization: normalize) == .grid {
            return try paging.write(order, to: output, what: ("filters", "滤波器"), language: l) { page, note in
                var grid = KernelGrid(weights: tensor)
                grid.title = l("\(name) \(shape)", "\(name) \(shape) 的卷积核")
                grid.text = text.figureText
                // All filters in stored order is no selection: the caption need not list them.
                grid.filters = page == Array(0..<tensor.shape[0]) ? nil : page
                grid.channels = channelList
                grid.scale = zoom
                grid.notes = notes + [note].compactMap { $0 }
                grid.maxSVGBytes = budget
                let scene = grid.scene()
                return (scene, grid.warnings)
            }
        }
        var mosaic = FilterMosaic(weights: tensor)
        mosaic.title = l("\(name) \(shape)", "\(name) \(shape) 的滤波器")
        mosaic.text = text.figureText
        mosaic.normalization = normalize ?? .filterSymmetric
        mosaic.channelMode = strips ? .strips : .auto
        mosaic.scale = zoom ?? 8
        mosaic.gap = gap
        mosaic.background = Color(parsing: background)!
        mosaic.columns = columns
        mosaic.labels = labels
        mosaic.channels = channelList
        mosaic.maxSVGBytes = budget
        if byClass {
            mosaic.groupByTaxonomy(FilterTaxonomy(weights: tensor))
            let chosen = Set(order)
            order = mosaic.order!.filter(chosen.contains)
        }
        try paging.write(order, to: output, what: ("filters", "滤波器"), language: l) { page, note in
            var figure = mosaic
            figure.order = page
            figure.notes = notes + [note].compactMap { $0 }
            let scene = figure.scene()
            return (scene, figure.warnings)
        }
    }

    private func selection(_ s: IndexSelection, count: Int, what: String) throws -> [Int] {
        do { return try s.indices(count: count, what: what) } catch let e as SelectionError { throw ValidationError(e.message) }
    }
}

extension KernelView: ExpressibleByArgument {}

enum FilterOrder: String, CaseIterable, ExpressibleByArgument { case index, norm }

extension IndexSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
