import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz taxonomy WEIGHTS -o table.csv|json`: what each filter is.
struct TaxonomyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "taxonomy",
        abstract: "Classify each filter: orientation, frequency, selectivity, colour split, opponency and class.",
        discussion: "Classes: oriented edge, colour-opponent, centre-surround/blob, unstructured (definitions in the README).")

    @Argument(help: "Weights: FILE.npy, FILE.safetensors[:TENSOR] or RUN_DIR[:LAYER].") var weights: String
    @Option(name: .shortAndLong, help: "Output table (.csv or .json); without it, CSV on standard output.") var output: String?
    @Option(help: "Most filters classified (each takes tens of microseconds).") var maxFilters: Int = FilterTaxonomy.defaultMaxFilters

    func validate() throws {
        if let output, !["csv", "json"].contains(URL(fileURLWithPath: output).pathExtension.lowercased()) {
            throw ValidationError("--output must end in .csv or .json")
        }
        guard maxFilters >= 1 else { throw ValidationError("--max-filters must be at least 1") }
    }

    func run() throws {
        let (name, tensor) = try WeightsSource(parsing: weights).load()
        try FilterTaxonomy.check(shape: tensor.shape, file: "\(weights) (tensor '\(name)')", maxFilters: maxFilters)
        let taxonomy = FilterTaxonomy(weights: tensor)
        let summary = FilterTaxonomy.Kind.allCases.map { "\(taxonomy.count($0)) \($0.rawValue)" }.joined(separator: ", ")
        guard let output else { print(taxonomy.csv(), terminator: ""); FileHandle.standardError.write(Data("\(name): \(summary)\n".utf8)); return }
        let text = output.lowercased().hasSuffix(".json") ? taxonomy.json() : taxonomy.csv()
        try AtomicFile.write(text, to: URL(fileURLWithPath: output))
        print("\(name): \(summary); wrote \(output)")
    }
}
