import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz norms`: the BatchNorm / LayerNorm / InstanceNorm / GroupNorm cubes.
struct NormsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "norms", abstract: "Draw which values share a mean and variance in each normalization.")

    @Option(help: "Kinds, comma-separated: batch, layer, instance, group.")
    var kinds: String = "batch,layer,instance,group"
    @Option(help: "Samples (N) drawn.") var n: Int = 6
    @Option(help: "Channels (C) drawn.") var c: Int = 6
    @Option(help: "Groups for group norm (must divide C).") var groups: Int = 2
    @Option(help: "A tensor [N, C, H, W] (.npy): annotate with its real statistics (N and C come from it).") var tensor: String?
    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).") var output: String

    func validate() throws {
        guard (1...32).contains(n), (1...32).contains(c) else { throw ValidationError("--n and --c must be 1 to 32") }
        guard groups >= 1, c % groups == 0 else { throw ValidationError("--groups must divide --c (\(c))") }
        for k in kinds.split(separator: ",") where NormalizationKind(rawValue: String(k)) == nil {
            throw ValidationError("unknown kind '\(k)'; use batch, layer, instance, group")
        }
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        var figure = NormalizationCubes()
        figure.kinds = kinds.split(separator: ",").compactMap { NormalizationKind(rawValue: String($0)) }
        figure.samples = n; figure.channels = c; figure.groups = groups
        if let tensor {
            let t = try NPY.read(contentsOf: URL(fileURLWithPath: tensor))
            guard t.rank == 4, t.shape[0] <= 32, t.shape[1] <= 32 else { throw ReadError(tensor, .badShape, "expected [N, C, H, W] with N, C <= 32, got \(t.shape)") }
            guard t.shape[1] % groups == 0 else { throw ValidationError("--groups \(groups) does not divide the tensor's \(t.shape[1]) channels") }
            figure.tensor = t; figure.samples = t.shape[0]; figure.channels = t.shape[1]
        }
        try FigureOutput.write(figure.scene(), to: output)
    }
}

/// `convviz volumes MODEL`: input, filter and output volumes with their shapes.
struct VolumesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "volumes", abstract: "Draw the input, filter and output volumes of a network's convolutions.")
    @Argument(help: "The network: ARCH.json, 'small', MODEL.onnx, or a ConvViz run.") var model: String
    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).") var output: String

    func run() throws {
        try FigureOutput.write(ConvolutionVolumes(table: try ShapeTable(try ModelSource(model: model).architecture)).scene(), to: output)
    }
}

/// `convviz pooling`: a pooling example with its windows coloured.
struct PoolingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pooling", abstract: "Draw max or average pooling on a small grid of values.")
    @Option(help: "max or avg.") var kind: PoolingDiagram.Kind = .max
    @Option(help: "Window size.") var kernel: Int = 2
    @Option(help: "Stride.") var stride: Int = 2
    @Option(help: "Values [H, W] (.npy, at most 16x16); default: the lecture's 4x4 example.") var input: String?
    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).") var output: String

    func validate() throws {
        guard (1...8).contains(kernel), (1...8).contains(stride) else { throw ValidationError("--kernel and --stride must be 1 to 8") }
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        var values = PoolingDiagram.lectureValues
        if let input {
            let t = try NPY.read(contentsOf: URL(fileURLWithPath: input))
            values = t.reshaped(Array(t.shape.suffix(2)))
            guard t.count == values.count, values.rank == 2, values.shape.allSatisfy({ (1...16).contains($0) }) else {
                throw ReadError(input, .badShape, "expected [H, W] values up to 16x16, got \(t.shape)")
            }
        }
        guard values.shape[0] >= kernel, values.shape[1] >= kernel else { throw ValidationError("the \(kernel)x\(kernel) window does not fit \(values.shape)") }
        var figure = PoolingDiagram(values: values)
        figure.kind = kind; figure.kernel = kernel; figure.stride = stride
        try FigureOutput.write(figure.scene(), to: output)
    }
}

extension PoolingDiagram.Kind: ExpressibleByArgument {}

/// `convviz curves RUN_DIR...`: loss and accuracy of several runs on one chart.
struct CurvesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "curves", abstract: "Draw training loss and test accuracy of one or more runs.")
    @Argument(help: "Run directories (each with metrics.jsonl).") var runs: [String]
    @Option(help: "Title.") var title: String = "Training curves"
    @Option(name: .shortAndLong, help: "Output file (.png, .svg or .pdf).") var output: String

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
        _ = try OutputFormat(path: output)
    }

    func run() throws {
        var figure = TrainingCurves(runs: try runs.map { try TrainingCurves.load(runDirectory: URL(fileURLWithPath: $0)) })
        figure.title = title
        try FigureOutput.write(figure.scene(), to: output)
    }
}

/// `convviz fold-bn CHECKPOINT -o folded.safetensors`.
struct FoldBatchNormCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fold-bn", abstract: "Fold evaluation-mode BatchNorm layers into the convolutions before them.",
        discussion: "Writes a safetensors state dict with the folded architecture in its metadata; a ConvViz run gives a ConvViz checkpoint.")
    @Argument(help: "A ConvViz run or checkpoint (or use --model).") var checkpoint: String?
    @OptionGroup var network: ModelOptions
    @Option(name: .shortAndLong, help: "Output file (.safetensors).") var output: String

    func run() throws {
        guard let path = checkpoint ?? network.model else { throw ValidationError("name the network: a run directory, or --model MODEL.onnx / ARCH.json --weights W.safetensors") }
        let source = try ModelSource(model: path, weights: network.weights)
        guard let weights = source.weights else { throw ValidationError("\(path) has no weights to fold; add --weights W.safetensors") }
        let folded = try BatchNormFolding.fold(source.architecture, weights: weights, file: source.path)
        let url = URL(fileURLWithPath: output)
        if source.origin == .checkpoint {
            var ckpt = try Checkpoint(contentsOf: WeightsSource(parsing: path).fileURL)
            ckpt.architecture = folded.architecture
            ckpt.tensors = folded.weights
            ckpt.notes["convviz.folded"] = folded.pairs.joined(separator: ", ")
            try ckpt.write(to: url, model: try ckpt.makeModel(file: path))
        } else {
            let data = SafeTensorsFile.encode(folded.weights.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                              metadata: ["convviz.architecture": String(decoding: folded.architecture.jsonData(), as: UTF8.self),
                                                         "convviz.folded": folded.pairs.joined(separator: ", ")])
            try AtomicFile.write(data, to: url)
        }
        print(folded.pairs.isEmpty ? "no BatchNorm follows a convolution; wrote an unchanged copy to \(output)" : "folded \(folded.pairs.count) BatchNorm layer(s): \(folded.pairs.prefix(6).joined(separator: ", "))\(folded.pairs.count > 6 ? ", ..." : ""); wrote \(output)")
    }
}
