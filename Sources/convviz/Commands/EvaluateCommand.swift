import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz evaluate RUN`: test accuracy, loss and inference images/s of a network.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test accuracy, loss and inference images/s of a trained network (build with -c release for meaningful speed).",
        discussion: """
        The network runs as deployed: BatchNorm folded into the convolutions before it and \
        ReLUs run in the convolutions' epilogues (outputs unchanged). Test images are \
        standardized as `convviz train` standardized them for the same --data.
        Example: convviz evaluate Outputs/runs/fmnist --json
        """)

    @Argument(help: ArgumentHelp("A ConvViz run directory or checkpoint (or use --model).", valueName: "run")) var runPath: String?
    @OptionGroup var network: ModelOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Seed of the split for 'samples' and 'folder:' data (default: the run's training seed, else 0).") var seed: UInt64?
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Passes over the test set; the fastest gives images/s.") var passes: Int = 1
    @Option(help: "Evaluate the first N test images only.") var limit: Int?
    @Flag(help: "Run BatchNorm as a layer and ReLUs on their own (for comparison).") var unfused = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard passes >= 1 else { throw ValidationError("--passes must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if runPath != nil && network.model != nil { throw ValidationError("give the network once: a run directory or --model") }
    }

    func run() throws {
        guard let path = runPath ?? network.model else { throw ValidationError("name the network: a run directory, or --model MODEL.onnx / ARCH.json --weights W.safetensors") }
        var source = try ModelSource(model: path, weights: network.weights)
        let input = source.architecture.input
        var folded = 0
        if !unfused { (source, folded) = try source.foldingBatchNorm() }
        let graph = try source.makeGraph()
        let fused = unfused ? 0 : graph.fusingActivations()
        var test = try data.data.load(input: input, seed: seed ?? trainingSeed(source)).test
        if let limit, limit < test.count {
            let first = test.batch(Array(0..<limit)[...])
            test = LabeledImages(images: first.images, labels: first.labels, classes: test.classes)
        }
        let r = InferenceEvaluation.run(graph, on: test, batch: batch, passes: passes)
        if json {
            let object: [String: Any] = [
                "model": path, "data": data.data.description, "images": r.images, "batch": r.batch, "passes": passes,
                "threads": Parallel.workers, "blas": BLAS.coreName, "batchnorm_folded": folded, "relu_fused": fused,
                "test_loss": Double(r.loss), "test_accuracy": Double(r.accuracy),
                "seconds": r.seconds, "images_per_second": r.imagesPerSecond, "all_seconds": r.allSeconds,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "%@ on %@: test accuracy %.4f, loss %.4f; %.0f images/s (batch %d, %d images, %d threads, OpenBLAS %@, %d BatchNorm folded, %d ReLU and clip layers fused)",
                         path, data.data.description, r.accuracy, r.loss, r.imagesPerSecond, batch, r.images, Parallel.workers, BLAS.coreName, folded, fused))
        }
    }

    /// The seed a ConvViz run trained with (its split of 'samples' and 'folder:' data).
    private func trainingSeed(_ source: ModelSource) -> UInt64 {
        guard source.origin == .checkpoint, let checkpoint = try? Checkpoint(contentsOf: URL(fileURLWithPath: source.path)),
              let settings = try? JSONDecoder().decode(TrainingSettings.self, from: Data(checkpoint.settings.utf8)) else { return 0 }
        return settings.seed
    }
}
