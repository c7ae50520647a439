import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz norms -o norms.svg`: the BatchNorm / LayerNorm / InstanceNorm / GroupNorm cubes.
struct NormsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "norms", abstract: "Draw which values share a mean and variance in each normalization.")

    @Option(help: ArgumentHelp("Kinds, comma-separated.", valueName: "kind,..."))
    var kinds = CommaSeparated(NormalizationKind.allCases)
    @Option(help: "Samples (N) drawn, 1 to 32.") var n: Int = 6
    @Option(help: "Channels (C) drawn, 1 to 32.") var c: Int = 6
    @Option(help: "Groups for group norm (must divide C).") var groups: Int = 2
    @Option(help: "A tensor [N, C, H, W] (.npy): annotate with its real statistics (N and C come from it).") var tensor: String?
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<FixedText>

    func validate() throws {
        guard (1...32).contains(n), (1...32).contains(c) else { throw ValidationError("--n and --c must be 1 to 32") }
        guard groups >= 1, c % groups == 0 else { throw ValidationError("--groups must divide --c (\(c))") }
    }

    func run() throws {
        var figure = NormalizationCubes()
        figure.kinds = kinds.elements
        figure.samples = n; figure.channels = c; figure.groups = groups
        if let tensor {
            let t = try NPY.read(contentsOf: URL(fileURLWithPath: tensor))
            guard t.rank == 4, t.shape.allSatisfy({ $0 >= 1 }), t.shape[0] <= 32, t.shape[1] <= 32 else { throw ReadError(tensor, .badShape, "expected [N, C, H, W] with every size at least 1 and N, C <= 32, got \(t.shape)") }
            guard t.shape[1] % groups == 0 else { throw ValidationError("--groups \(groups) does not divide the tensor's \(t.shape[1]) channels") }
            figure.tensor = t; figure.samples = t.shape[0]; figure.channels = t.shape[1]
        }
        try output.write(figure.scene())
    }
}
