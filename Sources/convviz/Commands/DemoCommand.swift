import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz demo`: trains on the embedded photographs and writes the full report.
struct DemoCommand: ComputeCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train on the embedded photographs and write every figure, an HTML report and a PDF handout.",
        discussion: "The recipe (FilterRecipe, docs/recipes.md): conv1 by competitive learning on whitened patches, then rotation prediction with SGD on top of it. Writes the run (checkpoint.safetensors, metrics.jsonl, summary.json), taxonomy.csv and the report (index.html, manifest.json, handout.pdf, figures/).")

    @Option(help: "Output directory.") var out: String = "Outputs/demo"
    @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 0
    @Option(help: "Training steps of the rotation-prediction stage (at least 10).") var steps: Int = FilterRecipe().steps
    @Option(help: ArgumentHelp("Learning rate of the rotation stage.", visibility: .hidden)) var lr: Float = FilterRecipe().learningRate

    func validate() throws {
        guard steps >= 10 else { throw ValidationError("--steps must be at least 10") }
    }

    func run() throws {
        var recipe = FilterRecipe()
        recipe.seed = seed
        recipe.steps = steps
        recipe.learningRate = lr
        let outURL = URL(fileURLWithPath: out)
        let progress = ProgressDisplay()
        let trained = try recipe.train(in: outURL) { event in
            switch event {
            case let .note(text): progress.note(text)
            case let .training(e): progress.show(e)
            }
        }
        progress.finish()
        let demo = DemoReport(recipe: recipe, trained: trained, directory: outURL)
        let (t, r) = (demo.taxonomy, demo.randomTaxonomy)
        print(String(format: "conv1: %.0f%% oriented edges, %.0f%% colour-opponent, %.0f%% centre-surround/blob, %.0f%% unstructured (random init: %.0f%% edges, %.0f%% colour-opponent); rotation accuracy %.3f; trained in %.0f s",
                     100 * t.fraction(.edge), 100 * t.fraction(.colorOpponent), 100 * t.fraction(.blob), 100 * t.fraction(.unstructured),
                     100 * r.fraction(.edge), 100 * r.fraction(.colorOpponent), trained.summary.testAccuracy ?? 0, trained.seconds))
        progress.note("drawing the figures")
        let report = try demo.build()
        try report.write(to: outURL)
        try AtomicFile.write(t.csv(), to: outURL.appendingPathComponent("taxonomy.csv"))
        print("wrote \(outURL.appendingPathComponent("index.html").path) with \(report.figures.count) figures")
    }
}
