import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz bench conv`: convolution GFLOP/s next to this machine's SGEMM rate;
/// `convviz bench model MODEL`: a network's inference images/s.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (build with -c release for meaningful numbers).")

    enum Target: String, ExpressibleByArgument, CaseIterable { case conv, sgemm, render, model }

    @OptionGroup var threads: ThreadOptions

    @Argument(help: "What to measure: \(Target.allCases.map(\.rawValue).joined(separator: ", ")).")
    var target: Target = .conv

    @Argument(help: "For 'model': the network (MODEL.onnx, ARCH.json, a run).")
    var model: String?

    @Option(help: "For 'model': a state dict (.safetensors) for an architecture JSON.")
    var weights: String?

    @Flag(help: "For 'model' and 'sgemm': print one JSON object.")
    var json = false

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

    @Option(help: "For 'model': what a timed pass does: forward (inference) or input-gradient (a recording forward pass and the backward pass to the input, no weight gradients).")
    var pass: ModelBenchmark.Pass = .forward
    @Option(help: "For 'model': seconds of untimed passes before the timed ones (at least one pass).")
    var warmup: Double = ModelBenchmark.defaultWarmup
    @Flag(help: "For 'model': also print each layer's milliseconds: its forward step timed inside --rounds whole passes (lower quartile), or with --pass input-gradient its backward step alone (best of --rounds).")
    var profile = false
    @Option(help: "For 'render': where the figures are written.")
    var out: String = NSTemporaryDirectory()

    func validate() throws {
        guard (1...4_096).contains(batch) else { throw ValidationError("--batch must be 1 to 4096 (got \(batch))") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard warmup.isFinite, (0...600).contains(warmup) else { throw ValidationError("--warmup must be 0 to 600 seconds (got \(warmup))") }
        if target == .model && model == nil { throw ValidationError("bench model needs the network: convviz bench model MODEL.onnx") }
    }

    func run() throws {
        if target == .render { return try runRender() }
        if target == .model { return try runModel() }
        if target == .sgemm { return try runSGEMM() }
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

    private func runSGEMM() throws {
        let r = ConvolutionBenchmark.sgemmRate(rounds: rounds)
        if json {
            let object: [String: Any] = ["label": r.label, "gflops": r.gflops, "seconds": r.seconds, "threads": Parallel.workers, "blas": BLAS.coreName]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "%@: %.1f GFLOP/s (best of %d, OpenBLAS %@)", r.label, r.gflops, rounds, BLAS.coreName))
        }
    }

    private func runModel() throws {
        // Inference as deployed: BatchNorm folded into the convolutions and ReLUs run in
        // their epilogues, as onnxruntime's graph optimizer does with the same file.
        // The source's tensors are dropped once the graph holds them: a layer that packs
        // its weight for inference then keeps one copy, as onnxruntime does.
        let (graph, folded) = try { () throws -> (Graph, Int) in
            let (source, folded) = try ModelSource(model: model!, weights: weights).foldingBatchNorm()
            return (try source.makeGraph(), folded)
        }()
        let rectified = graph.fusingActivations()
        let r = try ModelBenchmark.run(graph, batch: batch, rounds: rounds, pass: pass, warmup: warmup)
        let layers = profile ? ModelBenchmark.profile(graph, batch: batch, rounds: rounds, pass: pass) : []
        if json {
            var object: [String: Any] = ["model": model!, "batch": batch, "rounds": rounds, "pass": pass.rawValue, "threads": Parallel.workers, "blas": BLAS.coreName,
                                         "warmup_seconds": warmup, "batchnorm_folded": folded, "relu_fused": rectified, "add_fused": graph.fusedAdditionCount, "pool_fused": graph.fusedPoolCount, "seconds_per_batch": r.secondsPerBatch, "images_per_second": r.imagesPerSecond, "all_seconds": r.allSeconds]
            if profile {
                object["layers"] = layers.map { ["name": $0.name, "kind": $0.kind, "output": $0.output, "milliseconds": $0.milliseconds, "path": $0.path] as [String: Any] }
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            for l in layers {
                let shape = l.output.map(String.init).joined(separator: "x")
                print("\(l.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(l.kind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(shape.padding(toLength: 14, withPad: " ", startingAt: 0)) \(String(format: "%8.3f", l.milliseconds)) ms\(l.path.isEmpty ? "" : "  " + l.path)")
            }
            if !layers.isEmpty { print(String(format: "sum of layers: %.1f ms", layers.reduce(0) { $0 + $1.milliseconds })) }
            print("\(model!) (\(pass.rawValue)): batch \(batch), best of \(rounds): \(String(format: "%.1f", r.secondsPerBatch * 1000)) ms per batch, \(String(format: "%.1f", r.imagesPerSecond)) images/s (OpenBLAS \(BLAS.coreName), \(Parallel.workers) cores, \(folded) BatchNorm layers folded, \(rectified) ReLU and clip layers fused)")
        }
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
