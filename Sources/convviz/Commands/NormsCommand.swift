import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz norms -o norms.svg`: the BatchNorm / LayerNorm / InstanceNorm / GroupNorm cubes;
/// `--view convnets`: BatchNorm for ConvNets with its shapes; `--view matrix` (or a 2-D
/// `--tensor`): BatchNorm on an N x D matrix, column by column.
struct NormsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "norms", abstract: "Draw which values share a mean and variance in each normalization.",
        discussion: """
        Views: cubes (one cube per normalization), convnets (BatchNorm over N, H, W with the \
        statistics' shapes), matrix (BatchNorm on an N x D matrix: column means and variances, \
        normalized matrix, gamma and beta). A 2-D --tensor (N x D) draws the matrix view; a \
        4-D one (N x C x H x W) annotates the cubes with its real statistics.
        """)

    enum View: String, CaseIterable, ExpressibleByArgument { case cubes, convnets, matrix }

    @Option(help: "What to draw.") var view: View?
    @Option(help: ArgumentHelp("Kinds, comma-separated (cubes view).", valueName: "kind,..."))
    var kinds = CommaSeparated(NormalizationKind.allCases)
    @Option(help: "Samples (N) drawn, 1 to 32.") var n: Int = 6
    @Option(help: "Channels (C) drawn, 1 to 32.") var c: Int = 6
    @Option(help: "Height and width of the feature maps named in the convnets view (without --tensor).") var size: Int = 28
    @Option(help: "Groups for group norm (must divide C; only checked when GroupNorm is drawn).") var groups: Int = 2
    @Option(help: "A tensor (.npy): [N, C, H, W] annotates the cubes with its real statistics (N and C come from it); [N, D] draws BatchNorm on that matrix.") var tensor: String?
    @Option(help: ArgumentHelp("Matrix view: gamma per column (default 1).", valueName: "g,...")) var gamma: CommaSeparated<Float>?
    @Option(help: ArgumentHelp("Matrix view: beta per column (default 0).", valueName: "b,...")) var beta: CommaSeparated<Float>?
    @OptionGroup var output: FigureOutputOptions
    @OptionGroup var text: FigureTextOptions<TitleAndCaption>

    func validate() throws {
        guard (1...32).contains(n), (1...32).contains(c) else { throw ValidationError("--n and --c must be 1 to 32") }
        guard (1...4096).contains(size) else { throw ValidationError("--size must be 1 to 4096") }
        // Groups matter only where GroupNorm is drawn, and a tensor brings its own C.
        if (view ?? .cubes) == .cubes, kinds.elements.contains(.group), tensor == nil {
            guard groups >= 1, c % groups == 0 else { throw ValidationError("--groups must divide --c (\(c))") }
        }
        guard groups >= 1 else { throw ValidationError("--groups must be at least 1") }
    }

    func run() throws {
        let t = try tensor.map { try Self.readTensor($0) }
        let view = self.view ?? (t?.rank == 2 ? .matrix : .cubes)
        switch view {
        case .matrix:
            guard let t else {
                // No tensor: the lecture's seeded 6 x 4 example (its γ and β unless given).
                var figure = try BatchNormMatrixFigure.lectureExample(seed: 0, language: text.lang)
                if gamma != nil || beta != nil {
                    figure.result = try MatrixBatchNorm(figure.result.input, gamma: gamma?.elements ?? figure.result.gamma, beta: beta?.elements ?? figure.result.beta)
                }
                figure.text = text.figureText
                return try output.write(figure.scene())
            }
            guard t.rank == 2 else { throw ReadError(tensor!, .badShape, "--view matrix needs N x D values (a 2-D .npy), got \(t.shape)") }
            guard t.shape[0] <= 32, t.shape[1] <= 12 else {
                throw ReadError(tensor!, .badShape, "the matrix view draws every value: at most 32 rows (N) and 12 columns (D), got \(t.shape)")
            }
            var figure = BatchNormMatrixFigure(try MatrixBatchNorm(t, gamma: gamma?.elements, beta: beta?.elements))
            figure.text = text.figureText
            try output.write(figure.scene())
        case .convnets:
            if let t, t.rank != 4 { throw ReadError(tensor!, .badShape, "--view convnets needs [N, C, H, W] values, got \(t.shape)") }
            var figure = t.map { BatchNormConvNetsFigure(tensor: $0) } ?? BatchNormConvNetsFigure(shape: [n, c, size, size])
            figure.text = text.figureText
            try output.write(figure.scene())
        case .cubes:
            var figure = NormalizationCubes()
            figure.kinds = kinds.elements
            figure.samples = n; figure.channels = c; figure.groups = groups
            figure.text = text.figureText
            if let t {
                guard t.rank == 4, t.shape[0] <= 32, t.shape[1] <= 32 else {
                    throw ReadError(tensor!, .badShape, "the cubes need [N, C, H, W] values with N, C <= 32, got \(t.shape)")
                }
                if kinds.elements.contains(.group), t.shape[1] % groups != 0 {
                    throw ValidationError("--groups \(groups) does not divide the tensor's \(t.shape[1]) channels")
                }
                figure.tensor = t; figure.samples = t.shape[0]; figure.channels = t.shape[1]
            }
            try output.write(figure.scene())
        }
    }

    /// A 2-D or 4-D array with at least one value along every axis, checked before use:
    /// an empty array or another rank is one line naming the file.
    static func readTensor(_ path: String) throws -> Tensor {
        let t = try NPY.read(contentsOf: URL(fileURLWithPath: path))
        guard t.rank == 2 || t.rank == 4 else {
            throw ReadError(path, .badShape, "expected [N, D] (a matrix) or [N, C, H, W] values, got a rank-\(t.rank) array of shape \(t.shape)")
        }
        guard t.shape.allSatisfy({ $0 >= 1 }) else {
            throw ReadError(path, .badShape, "the array \(t.shape) is empty; every dimension needs at least 1 value")
        }
        return t
    }
}
