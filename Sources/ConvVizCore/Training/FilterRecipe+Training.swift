import Foundation

extension FilterRecipe {
    /// A trained recipe: conv1 learned by back-propagation, the k-means comparison, and
    /// the rotation-prediction network with its run's summary.
    public struct Trained {
        /// conv1 learned by back-propagation (`GradientFilterRecipe`): the demo's conv1.
        public let learned: GradientFilterRecipe.Result
        /// The comparison: k-means filters on whitened patches (pixel space, unit max |w|).
        public let kmeans: Tensor
        /// k-means reconstruction error after every iteration.
        public let kmeansLoss: [(iteration: Int, loss: Double)]
        /// The rotation-prediction network (trained end to end, conv1 from random init).
        public let summary: Trainer.Summary
        public let model: Sequential
        public let standardization: Standardization
        public let seconds: Double

        /// conv1 learned by back-propagation, in pixel space, [C_out, 3, K, K].
        public var conv1: Tensor { learned.conv1 }
        /// The rotation network's own conv1 after its training.
        public var rotationConv1: Tensor { (model.layers[0] as! Conv2D).weight.value }
    }

    /// What training reports as it goes: a sentence, or a step of the rotation stage.
    public enum Progress {
        case note(String)
        case training(Trainer.Event)
    }

    /// The folder of `directory` that gets the filter recipe's run files (the same bytes
    /// as `convviz learn-filters`).
    public static let learnedFiltersFolder = "learn-filters"

    /// Runs the three parts. The rotation network's run (checkpoint, metrics, summary)
    /// goes into `directory`, the filter recipe's files into `directory/learn-filters`.
    public func train(in directory: URL, progress: (Progress) -> Void) throws -> Trained {
        let start = DispatchTime.now().uptimeNanoseconds
        progress(.note("conv1 by back-propagation: sparse autoencoder on \(gradient.trainPatches) whitened 11x11 patches, \(gradient.steps) SGD steps"))
        let learned = try gradient.run { m in
            if m.step % 500 == 0 || m.step == gradient.steps {
                progress(.note(String(format: "  step %4d/%d  reconstruction loss %.4f", m.step, gradient.steps, m.loss)))
            }
        }
        try learned.write(to: directory.appendingPathComponent(Self.learnedFiltersFolder, isDirectory: true))

        progress(.note("comparison: k-means on \(competitive.patches) whitened patches of the same photographs"))
        var losses: [(Int, Double)] = []
        let kmeans = try competitive.run { losses.append(($0.iteration, $0.loss)) }

        progress(.note("rotation prediction on \(trainPatches) patches, trained end to end from a random initialization"))
        let splits = try data()
        let model = try architecture.makeModel(seed: seed)
        let summary = try TrainingSession.run(architecture: architecture, model: model, splits: splits, settings: settings,
                                              dataName: "samples (rotation prediction; test: \(gradient.heldOutPhotos.joined(separator: ", ")) held out)",
                                              directory: directory) { progress(.training($0)) }
        return Trained(learned: learned, kmeans: kmeans, kmeansLoss: losses, summary: summary, model: model, standardization: splits.standardization,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
