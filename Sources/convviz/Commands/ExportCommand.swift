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
        let file = try SafeTensorsFile(contentsOf: WeightsSource(parsing: checkpoint).fileURL)
        let tensor = try file.tensor(name)
        try AtomicFile.write(NPY.encode(tensor), to: URL(fileURLWithPath: output))
        print("wrote \(name) \(tensor.shape) to \(output)")
    }
}
