import ArgumentParser
import ConvVizCore
import ConvVizRender

extension ConvolutionVolumes.DepthScale: ExpressibleByArgument {}

/// `convviz volumes MODEL -o volumes.svg`: input, filter, output and pooling volumes with
/// their shapes, parameters, stride and padding.
struct VolumesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "volumes",
        abstract: "Draw the input, filter, output and pooling volumes of a network's convolutions.",
        discussion: "Shapes, parameter counts, strides and paddings come from the shape arithmetic (no weights are read). Examples:\n  convviz volumes Examples/volume-stack.json -o volumes.svg\n  convviz volumes Examples/resnet18.json --depth log --batch N -o resnet.png --lang zh")

    @Argument(help: "The network: ARCH.json, 'small', MODEL.onnx, or a ConvViz run.") var model: String
    @Option(help: ArgumentHelp("Label shapes for a batch: N (symbolic) or a number; omit for one image (C×H×W).", valueName: "N|count"))
    var batch: String?
    @Option(help: "Box depth: linear (proportional to channels) or log (for deep stacks with hundreds of channels).")
    var depth: ConvolutionVolumes.DepthScale = .linear
    @Option(help: "Most convolutions drawn along the main path.") var maxConvolutions: Int = 8
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        _ = try batchLabel()
        guard (1...64).contains(maxConvolutions) else { throw ValidationError("--max-convolutions must be between 1 and 64 (got \(maxConvolutions))") }
    }

    func batchLabel() throws -> ConvolutionVolumes.BatchLabel? {
        guard let batch else { return nil }
        if batch == "N" || batch == "n" { return .symbolic }
        guard let n = Int(batch), n >= 1 else { throw ValidationError("--batch must be N or a positive number (got '\(batch)')") }
        return .count(n)
    }

    func run() throws {
        let architecture = try ModelSource.architecture(of: model)  // shapes only: no weights are read
        var figure = ConvolutionVolumes(table: try ShapeTable(architecture), architecture: architecture)
        figure.batch = try batchLabel()
        figure.depthScale = depth
        figure.maxConvolutions = maxConvolutions
        figure.text = text.figureText
        try output.write(figure.scene())
    }
}
