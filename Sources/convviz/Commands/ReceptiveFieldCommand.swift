import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz receptive-field --arch ARCH.json --image IMG.png --layer conv3 --unit y,x -o rf.svg`.
struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receptive-field",
        abstract: "Draw a unit's theoretical receptive field layer by layer on an image, with its effective field beside it.")

    @Option(help: "Architecture JSON or 'small' (default: the checkpoint's).")
    var arch: String?

    @Option(help: "Trained weights (checkpoint or run directory); without it, random weights.")
    var checkpoint: String?

    @Option(help: "Input image (PNG), resized to the network's input.")
    var image: String

    @Option(help: "Layer of the unit (default: the last layer with spatial output).")
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
        guard arch != nil || checkpoint != nil else { throw ValidationError("give --arch or --checkpoint") }
        guard (1...256).contains(samples) else { throw ValidationError("--samples must be 1 to 256") }
        guard fraction > 0 && fraction < 1 else { throw ValidationError("--fraction must be between 0 and 1") }
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        var architecture: Architecture
        var model: Sequential
        var standardization: Standardization
        if let checkpoint {
            let ckpt = try Checkpoint(contentsOf: WeightsSource(parsing: checkpoint).fileURL)
            architecture = ckpt.architecture
            model = try ckpt.makeModel()
            standardization = ckpt.standardization
        } else {
            architecture = try ArchitectureLoading.load(arch!)
            model = try architecture.makeModel(seed: seed)
            standardization = Standardization(mean: Array(repeating: 0.5, count: architecture.input[0]), std: Array(repeating: 0.25, count: architecture.input[0]))
        }
        let table = try ShapeTable(architecture)
        let index: Int
        if let layer {
            guard let i = architecture.layers.firstIndex(where: { $0.name == layer }) else {
                throw ValidationError("no layer '\(layer)'; layers: \(architecture.layers.map { $0.name! }.joined(separator: ", "))")
            }
            index = i
        } else {
            guard let i = table.rows.lastIndex(where: { $0.output.count == 3 }) else { throw ValidationError("no layer with spatial output") }
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
        let input = try ModelInput.prepare(imageAt: URL(fileURLWithPath: image), for: architecture, standardization: standardization)
        // The image and noisy copies of it: the field is an average over inputs.
        var rng = SeededGenerator(seed: seed &+ 11)
        var batch = Tensor(shape: [samples] + architecture.input)
        for s in 0..<samples { for i in 0..<input.batch.count {
            batch.data[s * input.batch.count + i] = input.batch.data[i] + (s == 0 ? 0 : 0.5 * rng.normal())
        }}
        let erf = EffectiveReceptiveField(model: model, layer: index, unit: position, inputs: batch)
        var figure = ReceptiveFieldOverlay(image: input.display, boxes: ReceptiveFieldOverlay.boxes(table: table, layer: index, unit: position),
                                           unitLabel: "\(table.rows[index].name) unit (\(position.y), \(position.x))")
        figure.effective = erf
        figure.contourFraction = fraction
        try FigureOutput.write(figure.scene(), to: output)
    }
}

/// `convviz rf-growth -o growth.svg`: the lecture's receptive-field growth picture.
struct ReceptiveFieldGrowthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf-growth",
        abstract: "Draw how a unit's receptive field grows layer by layer (along the width).")

    @Option(help: "Architecture JSON files to draw (default: three 3x3 convolutions, and with pooling).")
    var arch: [String] = []

    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).")
    var output: String

    func run() throws {
        let figure = arch.isEmpty ? try ReceptiveFieldGrowth.lectureExamples()
            : ReceptiveFieldGrowth(panels: try arch.map { let a = try ArchitectureLoading.load($0); return .init(title: a.name, table: try ShapeTable(a)) })
        try FigureOutput.write(figure.scene(), to: output)
    }
}
