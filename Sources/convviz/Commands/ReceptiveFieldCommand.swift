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

    @Option(help: "Unit position y,x in that layer's output (default: the centre).")
    var unit: String?

    @Option(help: "Inputs averaged for the effective field (the image and noisy copies).")
    var samples: Int = 16

    @Option(help: "Contour level and size measure, as a fraction of the effective field's peak.")
    var fraction: Float = 0.1

    @Option(help: "Seed for random weights and noise.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).")
    var output: String

    func validate() throws {
        guard network.model != nil else { throw ValidationError("give --model (or --arch / --checkpoint)") }
        guard (1...256).contains(samples) else { throw ValidationError("--samples must be 1 to 256") }
        guard fraction > 0 && fraction < 1 else { throw ValidationError("--fraction must be between 0 and 1") }
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        let source = try network.load()
        let architecture = source.architecture
        let table = try ShapeTable(architecture)
        let index: Int
        if let layer {
            guard let i = architecture.index(ofLayer: layer) else {
                throw ValidationError("no layer '\(layer)'; layers: \(LayerListing.names(architecture))")
            }
            index = i
        } else {
            guard let i = table.lastSpatialRow else { throw ValidationError("no layer with spatial output") }
            index = i
        }
        let out = table.rows[index].output
        guard out.count == 3 else { throw ValidationError("layer '\(table.rows[index].name)' has no spatial output (\(out))") }
        var position = (y: out[1] / 2, x: out[2] / 2)
        if let unit {
            let parts = unit.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, (0..<out[1]).contains(parts[0]), (0..<out[2]).contains(parts[1]) else {
                throw ValidationError("--unit must be y,x inside \(out[1])x\(out[2])")
            }
            position = (parts[0], parts[1])
        }
        let (standardization, _) = source.defaultStandardization
        let input = try ModelInput.prepare(imageAt: URL(fileURLWithPath: image), for: architecture, standardization: standardization)
        let graph = try source.prefix(through: index).makeGraph(seed: seed)
        let batch = EffectiveReceptiveField.probeBatch(around: input.batch, count: samples, seed: seed)
        let erf = EffectiveReceptiveField(graph: graph, layer: graph.operations.count - 1, unit: position, inputs: batch)
        var figure = ReceptiveFieldOverlay(image: input.display, boxes: ReceptiveFieldOverlay.boxes(table: table, layer: index, unit: position),
                                           unitLabel: "\(table.rows[index].name) unit (\(position.y), \(position.x))")
        figure.effective = erf
        figure.contourFraction = fraction
        figure.notes = table.misalignmentNotes(upTo: index)
        try FigureOutput.write(figure.scene(), to: output)
    }
}

/// `convviz rf-growth -o growth.svg`: the lecture's receptive-field growth picture.
struct ReceptiveFieldGrowthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf-growth",
        abstract: "Draw how a unit's receptive field grows layer by layer (along the width).")

    @Option(name: [.customLong("model"), .customLong("arch")],
            help: "Networks to draw, one panel each: ARCH.json, MODEL.onnx or a run (default: three 3x3 convolutions, and with pooling).")
    var models: [String] = []

    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).")
    var output: String

    func run() throws {
        if models.isEmpty { return try FigureOutput.write(try ReceptiveFieldGrowth.lectureExamples().scene(), to: output) }
        let panels = try models.map { path -> ReceptiveFieldGrowth.Panel in
            let a = try ModelSource(model: path).architecture
            return .init(title: a.name, table: try ShapeTable(a))
        }
        // The cell grid draws a cell per input pixel: large networks get one bar per stage.
        if panels.count == 1, !ReceptiveFieldGrowth.fitsGrid(panels[0].table) {
            return try FigureOutput.write(ReceptiveFieldStages(title: "Receptive field of \(panels[0].title), stage by stage", table: panels[0].table).scene(), to: output)
        }
        if let large = panels.first(where: { !ReceptiveFieldGrowth.fitsGrid($0.table) }) {
            throw ValidationError("'\(large.title)' is too large for the cell grid (more than 64 pixels or 12 layers wide); draw it alone for the stage-by-stage view")
        }
        try FigureOutput.write(ReceptiveFieldGrowth(panels: panels).scene(), to: output)
    }
}
