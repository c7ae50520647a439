import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz export CHECKPOINT NAME -o file.npy`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one tensor of a checkpoint or .safetensors file as .npy.")

    @Argument(help: "A checkpoint, run directory or .safetensors file.")
    var checkpoint: String

    @Argument(help: "Tensor name, e.g. conv1.weight.")
    var name: String

    @Option(name: .shortAndLong, help: "Output .npy file.")
    var output: String

    func run() throws {
        let input = WeightsSource(parsing: checkpoint).fileURL, destination = URL(fileURLWithPath: output)
        // Writing over the file being read would replace a checkpoint with one of its tensors.
        if AtomicFile.sameFile(input, destination) {
            throw ReadError(output, .unsupported, "is the input file \(input.path); write the tensor to another file")
        }
        let file = try SafeTensorsFile(contentsOf: input)
        let tensor = try file.tensor(name)
        try AtomicFile.write(NPY.encode(tensor), to: destination)
        print("wrote \(name) \(tensor.shape) to \(output)")
    }
}
