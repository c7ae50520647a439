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
        subcommands: [InspectCommand.self, TrainCommand.self, TaxonomyCommand.self, ShapesCommand.self, ReceptiveFieldCommand.self, ReceptiveFieldGrowthCommand.self, NormsCommand.self, VolumesCommand.self, PoolingCommand.self, CurvesCommand.self, FoldBatchNormCommand.self, CompareNormsCommand.self, BatchNormCommand.self, FiltersCommand.self, ActivationsCommand.self, ExportCommand.self, EvaluateCommand.self, TopPatchesCommand.self, BenchCommand.self, DemoCommand.self, LectureCommand.self, LearnFiltersCommand.self, VisualizeCommand.self, AnimateCommand.self])

    static func main() {
        CPUSupport.requireBuildExtensions()  // before any of ConvVizCore's code runs
        AllocatorTuning.reuseLargeBlocks()
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        if command is ComputeCommand { OpenBLASKernels.select() }
        InputFiles.track()  // no command writes over a file it has read
        do { try command.run() } catch {
            exit(withError: ErrorLine.passesThrough(error) ? error : ErrorLine(error))
        }
    }
}
