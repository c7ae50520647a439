import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz inspect FILE`: what a file holds, or exactly what is wrong with it.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a PNG, IDX, CIFAR-10 .bin, .npy, .safetensors/checkpoint or architecture JSON or ONNX model.",
        discussion: "Exits 0 on a valid file; otherwise prints one line naming the file and the problem, and exits 1.")

    @Argument(help: "Files to inspect.") var files: [String]

    @OptionGroup var budget: ReadLimitOptions

    func run() throws {
        for f in files { print(try FileInspector.describe(URL(fileURLWithPath: f), limits: budget.limits)) }
    }
}
