import ConvVizCore
import Foundation

/// Runs the demo's two stages (see `FilterRecipe`), keeping conv1 snapshots from the
/// competitive learning for the filmstrip.
struct RecipeTraining {
    let recipe: FilterRecipe
    let directory: URL

    struct Result {
        let summary: Trainer.Summary
        let model: Sequential
        let snapshots: [(step: Int, weights: Tensor)]
        let competitiveLoss: [(iteration: Int, loss: Double)]
        let standardization: Standardization
        let seconds: Double
    }

    func run(progress: ProgressDisplay) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        progress.note("stage 1: conv1 by competitive learning on \(recipe.competitive.patches) whitened 11x11 patches")
        var snapshots: [(Int, Tensor)] = []
        var losses: [(Int, Double)] = []
        let keep: Set<Int> = [1, 2, 3, 5, recipe.competitive.iterations]
        let filters = try recipe.competitive.run { p in
            losses.append((p.iteration, p.loss))
            if keep.contains(p.iteration) { snapshots.append((p.iteration, p.weights)) }
            progress.note(String(format: "  iteration %2d/%d  reconstruction error %.4f", p.iteration, recipe.competitive.iterations, p.loss))
        }
        progress.note("stage 2: rotation prediction on \(recipe.trainPatches) patches, conv1 frozen")
        let splits = try recipe.data()
        let model = try recipe.makeModel(conv1: filters)
        let summary = try TrainingSession.run(architecture: recipe.architecture, model: model, splits: splits, settings: recipe.settings,
                                              dataName: "samples (rotation prediction)", directory: directory, onEvent: progress.show)
        progress.finish()
        return Result(summary: summary, model: model, snapshots: snapshots, competitiveLoss: losses, standardization: splits.standardization,
                      seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
