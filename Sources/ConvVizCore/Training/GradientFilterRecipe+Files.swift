import Foundation

extension GradientFilterRecipe.Result {
    /// The run directory's files, by name: `checkpoint.safetensors` (conv1 in pixel space
    /// as `conv1.weight`, the weight the network trained on whitened patches, and the
    /// whitening), `conv1-steps.safetensors` (`step_<n>` in pixel space, `step_0` the random
    /// initialization), `summary.json` and `metrics.jsonl`. Only `summary.json` holds a
    /// time; the other files are the same bytes for the same seed.
    public func files() throws -> [(name: String, data: Data)] {
        let metadata = ["convviz.recipe": "gradient-filter-recipe", "convviz.seed": "\(seed)", "convviz.steps": "\(steps)",
                        "convviz.conv1": "pixel space: whitening applied to the trained weight (W d)"]
        let checkpoint = SafeTensorsFile.encode([("conv1.weight", conv1), ("conv1.weight_whitened", conv1Whitened), ("whitening", whitening)], metadata: metadata)
        let filmstrip = SafeTensorsFile.encode(snapshots.map { ("step_\($0.step)", $0.weights) }, metadata: metadata)
        let metricLines = try metrics.map { m in
            try Self.json(["step": m.step, "loss": m.loss, "lr": Double("\(m.learningRate)") ?? 0], pretty: false) + "\n"
        }.joined()
        let summary: [String: Any] = [
            "recipe": "winner-take-all sparse autoencoder, encoder conv1, decoder conv1 transposed, on whitened 11x11 colour patches",
            "seed": NSNumber(value: seed), "steps": steps, "seconds": trainingSeconds,
            "taxonomy": trained.json, "taxonomy_initialization": initialization.json, "taxonomy_control_random_directions": control.json,
            "pretext": "reconstruction from each filter's strongest 5% of responses per batch",
            "pretext_held_out_variance_explained": heldOutVarianceExplained,
            "pretext_train_variance_explained": trainVarianceExplained,
            "filmstrip_steps": snapshots.map(\.step),
        ]
        return [("checkpoint.safetensors", checkpoint), ("conv1-steps.safetensors", filmstrip),
                ("summary.json", Data((try Self.json(summary, pretty: true) + "\n").utf8)), ("metrics.jsonl", Data(metricLines.utf8))]
    }

    /// Writes `files()` into `directory`, each atomically.
    public func write(to directory: URL) throws {
        for (name, data) in try files() { try AtomicFile.write(data, to: directory.appendingPathComponent(name)) }
    }

    /// JSON text; a value JSON cannot hold (a loss that overflowed to infinity or NaN)
    /// is an error naming the problem, not a crash.
    static func json(_ object: [String: Any], pretty: Bool) throws -> String {
        let options: JSONSerialization.WritingOptions = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        guard JSONSerialization.isValidJSONObject(object) else {
            throw WriteError(file: "summary.json", message: "the run produced a value JSON cannot hold (infinite or NaN), so its files were not written")
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: options), as: UTF8.self)
    }
}
