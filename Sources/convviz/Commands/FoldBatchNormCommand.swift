import ArgumentParser
import ConvVizCore
import Foundation

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
        for input in [WeightsSource(parsing: path).fileURL] + (network.weights.map { [URL(fileURLWithPath: $0)] } ?? [])
        where AtomicFile.sameFile(input, URL(fileURLWithPath: output)) {
            throw ReadError(output, .unsupported, "is the input file \(input.path); write the folded network to another file")
        }
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
