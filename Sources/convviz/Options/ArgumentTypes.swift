import ArgumentParser
import ConvVizCore
import ConvVizRender

// Choices the libraries define, read by the parser: `--help` lists their values and a
// typo is refused before any work starts.

extension TrainingSettings.Schedule: ExpressibleByArgument {}
extension FilterMosaic.Normalization: ExpressibleByArgument {}
extension NormalizationKind: ExpressibleByArgument {}
extension ModelBenchmark.Pass: ExpressibleByArgument {}
extension PoolingDiagram.Kind: ExpressibleByArgument {}
extension ShapeTable.Format: ExpressibleByArgument {}
extension Colormap: ExpressibleByArgument {}

extension Architecture.NormalizationChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { ["none", "batch", "layer", "instance", "group:G"] }
}

/// A comma-separated list of choices (`--kinds batch,layer`), each checked by the parser.
struct CommaSeparated<Element: ExpressibleByArgument>: ExpressibleByArgument {
    var elements: [Element]

    init(_ elements: [Element]) { self.elements = elements }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Element(argument: String($0)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        elements = parts.map { $0! }
    }

    static var allValueStrings: [String] { Element.allValueStrings }

    var defaultValueDescription: String { elements.map(\.defaultValueDescription).joined(separator: ",") }
}
