import ArgumentParser
import ConvVizCore
import Foundation

/// The network a command reads: `--model` names an ONNX file, a ConvViz run or
/// checkpoint, or an architecture JSON (`small` for SmallConvNet) with `--weights` for
/// a PyTorch state dict in safetensors. (`--checkpoint` and `--arch` are older names.)
struct ModelOptions: ParsableArguments {
    @Option(name: [.customLong("model"), .customLong("checkpoint"), .customLong("arch")],
            help: ArgumentHelp("The network: MODEL.onnx, a ConvViz run directory or checkpoint, or ARCH.json / 'small'.", valueName: "model"))
    var model: String?

    @Option(help: ArgumentHelp("Weights for an architecture JSON: a state dict saved with safetensors.torch.save_file (random weights without).", valueName: "weights.safetensors"))
    var weights: String?

    /// The network, or a usage error when none was named.
    func load() throws -> ModelSource {
        guard let model else { throw ValidationError("name a network with --model (MODEL.onnx, a run directory, or ARCH.json with --weights)") }
        return try ModelSource(model: model, weights: weights)
    }
}
