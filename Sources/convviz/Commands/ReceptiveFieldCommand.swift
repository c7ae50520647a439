import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz receptive-field --model MODEL --image IMG.png --layer conv3 --unit y,x -o rf.svg`.
struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receptive-field",
        abstract: "Draw a unit's theoretical receptive field layer by layer on an image, with its effective field beside it.",
        discussion: "Through branches (residual additions, concatenations) the boxes follow the network's main path; junctions whose branches disagree in alignment are named in the caption.")

    @OptionGroup var network: ModelOptions

    @Option(help: "Input image (PNG), resized to the network's input.")
    var image: String

    @Option(help: "Layer of the unit, by name or alias (default: the last layer with spatial output).")
    var layer: String?

    @Option(help: ArgumentHelp("Unit position in that layer's output (default: the centre).", valueName: "y,x"))
    var unit: String?

    @Option(help: "Inputs averaged for the effective field (the image and noisy copies), 1 to 256.")
    var samples: Int = 16

    @Option(help: "Contour level and size measure, as a fraction of the effective field's peak (between 0 and 1).")
    var fraction: Float = 0.1

    @Option(help: "Seed for random weights and noise.")
    var seed: UInt64 = 0

    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        guard network.model != nil else { throw ValidationError("give --model (or --arch / --checkpoint)") }
        guard (1...256).contains(samples) else { throw ValidationError("--samples must be 1 to 256") }
        guard fraction > 0 && fraction < 1 else { throw ValidationError("--fraction must be between 0 and 1") }
    }

    func run() throws {
        let source = try network.load()
        let table = try ShapeTable(source.architecture)
        let index = try layerIndex(source.architecture, table)
        let out = table.rows[index].output
        guard out.count == 3 else { throw ValidationError("layer '\(table.rows[index].name)' has no spatial output (\(out))") }
        let position = try unitPosition(in: out)
        // The probe batch is --samples copies of the input: bounded before anything is allocated.
        let probe = ([samples] + source.architecture.input).reduce(1) { p, d in let (r, o) = p.multipliedReportingOverflow(by: d); return o ? Int.max : r }
        guard probe <= ReadLimits.default.maxElements / 4 else {
            throw ReadError(source.path, .tooLarge, "\(samples) probes of the network's \(source.architecture.input) input exceed \(ReadLimits.default.maxElements / 4) values; lower --samples")
        }
        let input = try ModelInput.prepare(imageAt: URL(fileURLWithPath: image), for: source.architecture, standardization: source.defaultStandardization.standardization)
        let graph = try source.prefix(through: index).makeGraph(seed: seed)
        let batch = EffectiveReceptiveField.probeBatch(around: input.batch, count: samples, seed: seed)
        let l = text.lang
        var figure = ReceptiveFieldOverlay(image: input.display, boxes: ReceptiveFieldOverlay.boxes(table: table, layer: index, unit: position),
                                           unitLabel: l("\(table.rows[index].name) unit (\(position.y), \(position.x))", "\(table.rows[index].name) 的单元 (\(position.y), \(position.x))"))
        figure.text = text.figureText
        figure.effective = EffectiveReceptiveField(graph: graph, layer: graph.operations.count - 1, unit: position, inputs: batch)
        figure.contourFraction = fraction
        figure.notes = ReceptiveFieldOverlay.notes(table: table, layer: index, language: l)
        try output.write(figure.scene())
    }

    /// `--layer`, or the last layer with spatial output.
    private func layerIndex(_ architecture: Architecture, _ table: ShapeTable) throws -> Int {
        guard let layer else {
            guard let i = table.lastSpatialRow else { throw ValidationError("no layer with spatial output") }
            return i
        }
        guard let i = architecture.index(ofLayer: layer) else { throw ValidationError("no layer '\(layer)'; layers: \(architecture.layerListing)") }
        return i
    }

    /// `--unit y,x` inside the layer's `[C, H, W]` output, or its centre.
    private func unitPosition(in out: [Int]) throws -> (y: Int, x: Int) {
        guard let unit else { return (out[1] / 2, out[2] / 2) }
        let parts = unit.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, (0..<out[1]).contains(parts[0]), (0..<out[2]).contains(parts[1]) else {
            throw ValidationError("--unit must be y,x inside \(out[1])x\(out[2])")
        }
        return (parts[0], parts[1])
    }
}
