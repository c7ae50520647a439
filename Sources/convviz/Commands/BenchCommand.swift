import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz bench conv`: convolution GFLOP/s next to this machine's SGEMM rate.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (build with -c release for meaningful numbers).")

    enum Target: String, ExpressibleByArgument, CaseIterable { case conv }

    @Argument(help: "What to measure: \(Target.allCases.map(\.rawValue).joined(separator: ", ")).")
    var target: Target = .conv

    @Option(help: "Batch size.")
    var batch: Int = 128

    @Option(help: ArgumentHelp("Column-matrix elements a worker unrolls at once (tuning).", visibility: .hidden))
    var columnBudget: Int?

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let r = ConvolutionBenchmark.smallConvNet(batch: batch, columnBudget: columnBudget)
        func row(_ label: String, _ gflops: Double, _ extra: String = "") {
            print(label.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: "%8.1f GFLOP/s", gflops) + extra)
        }
        print("OpenBLAS kernels: \(BLAS.coreName); \(Parallel.workers) cores; batch \(batch)")
        row(r.sgemm.label + " (all cores)", r.sgemm.gflops)
        var flops = 0.0, seconds = 0.0
        for m in r.convolutions {
            flops += m.flops; seconds += m.seconds
            row(m.label, m.gflops, String(format: "  %5.1f%% of sgemm  %7.1f ms", 100 * m.gflops / r.sgemm.gflops, m.seconds * 1000))
        }
        let total = flops / seconds / 1e9
        row("both convolutions", total, String(format: "  %5.1f%% of sgemm  %7.1f ms", 100 * total / r.sgemm.gflops, seconds * 1000))
    }
}
