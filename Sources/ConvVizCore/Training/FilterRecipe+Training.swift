import Foundation

extension FilterRecipe {
    /// A trained recipe: the network, how conv1 formed, and the run's summary.
    public struct Trained {
        public let summary: Trainer.Summary
        public let model: Sequential
        /// conv1 after selected competitive-learning iterations (for a filmstrip).
        public let snapshots: [(step: Int, weights: Tensor)]
        /// Reconstruction error after every competitive-learning iteration.
        public let competitiveLoss: [(iteration: Int, loss: Double)]
        public let standardization: Standardization
        public let seconds: Double

        /// conv1's learned filters, [C_out, 3, K, K].
        public var conv1: Tensor { (model.layers[0] as! Conv2D).weight.value }
    }

    /// What training reports as it goes: a sentence, or a step of the SGD stage.
    public enum Progress {
        case note(String)
        case training(Trainer.Event)
    }

    /// Runs both stages, writing the rotation stage's run (checkpoint, metrics, summary)
    /// into `directory`. Keeps conv1 after iterations 1, 2, 3, 5 and the last.
    public func train(in directory: URL, progress: (Progress) -> Void) throws -> Trained {
        let start = DispatchTime.now().uptimeNanoseconds
        progress(.note("stage 1: conv1 by competitive learning on \(competitive.patches) whitened 11x11 patches"))
        var snapshots: [(Int, Tensor)] = []
        var losses: [(Int, Double)] = []
        let keep: Set<Int> = [1, 2, 3, 5, competitive.iterations]
        let filters = try competitive.run { p in
            losses.append((p.iteration, p.loss))
            if keep.contains(p.iteration) { snapshots.append((p.iteration, p.weights)) }
            progress(.note(String(format: "  iteration %2d/%d  reconstruction error %.4f", p.iteration, competitive.iterations, p.loss)))
        }
        progress(.note("stage 2: rotation prediction on \(trainPatches) patches, conv1 frozen"))
        let splits = try data()
        let model = try makeModel(conv1: filters)
        let summary = try TrainingSession.run(architecture: architecture, model: model, splits: splits, settings: settings,
                                              dataName: "samples (rotation prediction)", directory: directory) { progress(.training($0)) }
        return Trained(summary: summary, model: model, snapshots: snapshots, competitiveLoss: losses, standardization: splits.standardization,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// The taxonomy of a freshly initialized conv1 of the same shape: what training is
    /// compared against.
    public func randomInitializationTaxonomy() -> FilterTaxonomy {
        var rng = SeededGenerator(seed: seed)
        let conv = Conv2D(name: "r", inputChannels: 3, outputChannels: filters, window: Window2D(kernel: Pair(kernel)), rng: &rng)
        return FilterTaxonomy(weights: conv.weight.value)
    }
}
