import ArgumentParser
import ConvVizCore
import ConvVizRender

/// `convviz volumes MODEL -o volumes.svg`: input, filter and output volumes with their shapes.
struct VolumesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "volumes", abstract: "Draw the input, filter and output volumes of a network's convolutions.")

    @Argument(help: "The network: ARCH.json, 'small', MODEL.onnx, or a ConvViz run.") var model: String
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<FixedText>

    func run() throws {
        try output.write(ConvolutionVolumes(table: try ShapeTable(try ModelSource(model: model).architecture)).scene())
    }
}
