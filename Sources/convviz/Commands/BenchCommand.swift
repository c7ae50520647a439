import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz bench conv`: convolution GFLOP/s next to this machine's SGEMM rate.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (build with -c release for meaningful numbers).")

    enum Target: String, ExpressibleByArgument, CaseIterable { case conv, render }

    @Argument(help: "What to measure: \(Target.allCases.map(\.rawValue).joined(separator: ", ")).")
    var target: Target = .conv

    @Option(help: "Batch size.")
    var batch: Int = 128

    @Option(help: "For 'conv': interleaved rounds of SGEMM and the two convolutions; each keeps its best.")
    var rounds: Int = 11

    @Option(help: ArgumentHelp("Column-matrix elements a worker unrolls at once (tuning).", visibility: .hidden))
    var columnBudget: Int?

    @Option(help: "For 'render': filters [96, 3, 11, 11] as .npy (default: random).")
    var filters: String?

    @Option(help: "For 'render': maps [32, 64, 64] as .npy (default: random).")
    var maps: String?

    @Option(help: "For 'render': where the figures are written.")
    var out: String = NSTemporaryDirectory()

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        if target == .render { return try runRender() }
        let r = ConvolutionBenchmark.smallConvNet(batch: batch, rounds: rounds, columnBudget: columnBudget)
        func row(_ label: String, _ gflops: Double, _ extra: String = "") {
            print(label.padding(toLength: 52, withPad: " ", startingAt: 0) + String(format: "%8.1f GFLOP/s", gflops) + extra)
        }
        print("OpenBLAS kernels: \(BLAS.coreName); \(Parallel.workers) cores; batch \(batch); best of \(rounds) interleaved rounds")
        row(r.sgemm.label, r.sgemm.gflops)
        var flops = 0.0, seconds = 0.0
        for m in r.convolutions {
            flops += m.flops; seconds += m.seconds
            row(m.label, m.gflops, String(format: "  %5.1f%% of sgemm  %7.1f ms", 100 * m.gflops / r.sgemm.gflops, m.seconds * 1000))
        }
        let total = flops / seconds / 1e9
        row("both convolutions", total, String(format: "  %5.1f%% of sgemm  %7.1f ms", 100 * total / r.sgemm.gflops, seconds * 1000))
    }

    private func runRender() throws {
        var rng = SeededGenerator(seed: 1)
        let w = try filters.map { try NPY.read(contentsOf: URL(fileURLWithPath: $0)) } ?? .normal(shape: [96, 3, 11, 11], using: &rng)
        let m = try maps.map { try NPY.read(contentsOf: URL(fileURLWithPath: $0)) } ?? .normal(shape: [32, 64, 64], using: &rng)
        for r in try RenderBenchmark.run(filters: w, maps: m, directory: URL(fileURLWithPath: out)) {
            print("\(r.figure) \(r.format.rawValue) \(String(format: "%.2f", r.milliseconds)) ms")
        }
    }
}
