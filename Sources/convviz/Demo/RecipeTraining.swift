import ConvVizCore
import Foundation

/// Trains the filter recipe, keeping conv1 snapshots for the filmstrip.
struct RecipeTraining {
    let recipe: FilterRecipe
    let directory: URL
    /// Steps at which conv1 is kept for the filmstrip.
    let snapshotSteps: [Int]

    struct Result {
        let summary: Trainer.Summary
        let model: Sequential
        let snapshots: [(step: Int, weights: Tensor)]
        let whitening: ColourWhitening
        let seconds: Double
    }

    func run(progress: ProgressDisplay) throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        progress.note("cutting \(recipe.trainPatches) rotation-labelled patches from the sample photographs")
        let (splits, whitening) = try recipe.data()
        let model = try recipe.makeModel()
        let conv1 = model.layers[0] as! Conv2D
        var snapshots: [(Int, Tensor)] = [(0, conv1.weight.value)]
        var settings = recipe.settings
        settings.logEvery = gcd(snapshotSteps.dropFirst().reduce(25) { gcd($0, $1) }, 25)
        let summary = try TrainingSession.run(architecture: recipe.architecture, model: model, splits: splits, settings: settings,
                                              dataName: "samples (rotation prediction)", directory: directory) { event in
            progress.show(event)
            if case let .step(step, _, _, _, _, _, _) = event, snapshotSteps.contains(step) { snapshots.append((step, conv1.weight.value)) }
        }
        progress.finish()
        return Result(summary: summary, model: model, snapshots: snapshots, whitening: whitening,
                      seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? max(a, 1) : gcd(b, a % b) }
}
