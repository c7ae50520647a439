import ArgumentParser
import ConvVizCore

/// `convviz shapes ARCH.json`: output shape, parameters, MACs and receptive field per layer.
struct ShapesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Print each layer's output shape, parameters, multiply-adds, receptive field, jump and centre.")

    @Argument(help: "Architecture JSON file, or 'small' for SmallConvNet.")
    var arch: String

    @Option(help: "Output format: table, json, csv or markdown.")
    var format: ShapeTable.Format = .table

    func run() throws {
        print(try ShapeTable(try ArchitectureLoading.load(arch)).render(format), terminator: "")
    }
}

extension ShapeTable.Format: ExpressibleByArgument {}
