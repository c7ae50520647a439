import ArgumentParser
import ConvVizCore
import ConvVizRender
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
        version: ConvViz.version,
        subcommands: [InspectCommand.self, TrainCommand.self, TaxonomyCommand.self, ShapesCommand.self, ReceptiveFieldCommand.self, ReceptiveFieldGrowthCommand.self, NormsCommand.self, VolumesCommand.self, PoolingCommand.self, CurvesCommand.self, FoldBatchNormCommand.self, CompareNormsCommand.self, BatchNormCommand.self, FiltersCommand.self, ActivationsCommand.self, ExportCommand.self, EvaluateCommand.self, TopPatchesCommand.self, BenchCommand.self, DemoCommand.self, LectureCommand.self, LearnFiltersCommand.self, VisualizeCommand.self, AnimateCommand.self])

    /// `--version`: the machine's numeric platform too, since results are the same bytes
    /// only where it is the same (`BLAS.machine`).
    static var version: String {
        let m = BLAS.machine
        return "convviz \(ConvVizVersion.string) (OpenBLAS \(m["openblas_version"]!), kernel \(m["openblas_kernel"]!), CPU \(m["cpu"]!))"
    }

    static func main() {
        CPUSupport.requireBuildExtensions()  // before any of ConvVizCore's code runs
        OpenBLASKernels.select()  // every command, before parsing (`--version` reports the kernels)
        AllocatorTuning.reuseLargeBlocks()
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        InputFiles.track()  // no command writes over a file it has read
        do { try command.run() } catch {
            exit(withError: ErrorLine.passesThrough(error) ? error : ErrorLine(error))
        }
    }
}
