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

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let r = ConvolutionBenchmark.smallConvNet(batch: batch)
        print(String(format: "%-50@ %9.1f GFLOP/s", r.sgemm.label as NSString, r.sgemm.gflops))
        var flops = 0.0, seconds = 0.0
        for m in r.convolutions {
            flops += m.flops; seconds += m.seconds
            print(String(format: "%-50@ %9.1f GFLOP/s  %5.1f%% of sgemm  (%.1f ms)", m.label as NSString, m.gflops,
                         100 * m.gflops / r.sgemm.gflops, m.seconds * 1000))
        }
        let total = flops / seconds / 1e9
        print(String(format: "%-50@ %9.1f GFLOP/s  %5.1f%% of sgemm", "both convolutions, batch \(batch)" as NSString, total,
                     100 * total / r.sgemm.gflops))
    }
}
