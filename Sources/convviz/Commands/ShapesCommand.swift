import ArgumentParser
import ConvVizCore

/// `convviz shapes MODEL`: output shape, parameters, MACs and receptive field per layer.
struct ShapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Print each layer's output shape, parameters, multiply-adds, receptive field, jump and centre.")

    @Argument(help: "The network: MODEL.onnx, ARCH.json, 'small', or a ConvViz run or checkpoint.")
    var model: String

    @Option(help: "Output format.")
    var format: ShapeTable.Format = .table

    func run() throws {
        print(try ModelSource.shapeTable(of: model).render(format), terminator: "")
    }
}
