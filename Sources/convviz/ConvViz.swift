import ArgumentParser
import ConvVizCore
import Foundation

@main
struct ConvViz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convviz",
        abstract: "Train small convolutional networks and draw what they learned.",
        discussion: """
        Weights are read from .npy, .safetensors and ConvViz checkpoints; figures are \
        written as PNG, SVG or PDF (chosen by the output file's extension).
        """,
        subcommands: [InspectCommand.self, TrainCommand.self, TaxonomyCommand.self, ShapesCommand.self, ReceptiveFieldCommand.self, ReceptiveFieldGrowthCommand.self, NormsCommand.self, VolumesCommand.self, PoolingCommand.self, CurvesCommand.self, FoldBatchNormCommand.self, CompareNormsCommand.self, FiltersCommand.self, ActivationsCommand.self, ExportCommand.self, BenchCommand.self, DemoCommand.self])

    static func main() {
        selectOpenBLASKernels()
        AllocatorTuning.reuseLargeBlocks()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// Re-executes once with `OPENBLAS_CORETYPE` set when OpenBLAS did not recognise
    /// this CPU (see `BLAS.recommendedCoreType`). The variable stays set in the new
    /// process, so this happens at most once.
    static func selectOpenBLASKernels() {
        // Only commands that train or benchmark pay for a second start-up; drawing
        // commands multiply too little for the kernels to matter.
        let computing: Set<String> = ["train", "bench", "demo", "compare-norms"]
        guard CommandLine.arguments.count > 1, computing.contains(CommandLine.arguments[1]),
              let core = BLAS.recommendedCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let args = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", args)
        // execv returns only on failure: carry on with the generic kernels.
    }
}
