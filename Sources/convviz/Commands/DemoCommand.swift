import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz demo`: trains on the embedded photographs and writes the full report.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train on the embedded photographs and write every figure, an HTML report and a PDF handout.",
        discussion: "The recipe (FilterRecipe, docs/recipes.md): conv1 learned from a random initialization by back-propagation (GradientFilterRecipe, as `convviz learn-filters`), k-means on whitened patches beside it for comparison, and a rotation-prediction network trained end to end from a random initialization. Writes the rotation network's run (checkpoint.safetensors, metrics.jsonl, summary.json), the filter recipe's run (learn-filters/), taxonomy.csv (the learned conv1) and the report (index.html, manifest.json, handout.pdf, figures).")

    @Option(help: "Output directory.") var out: String = "Outputs/demo"
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 0
    @Option(help: "Training steps of the rotation-prediction network (at least 10).") var steps: Int = FilterRecipe().steps
    @Option(help: ArgumentHelp("Learning rate of the rotation stage.", visibility: .hidden)) var lr: Float = FilterRecipe().learningRate
    @Option(help: ArgumentHelp("SGD steps of the conv1 recipe (default: the recipe's).", visibility: .hidden)) var filterSteps: Int = GradientFilterRecipe().steps
    @Flag(help: ArgumentHelp("Every stage on a budget of seconds (same code paths; for tests): overrides --steps and --filter-steps.", visibility: .hidden)) var smoke = false

    func validate() throws {
        guard (10...1_000_000).contains(steps) else { throw ValidationError("--steps must be 10 to 1000000 (got \(steps))") }
        guard (1...1_000_000).contains(filterSteps) else { throw ValidationError("--filter-steps must be 1 to 1000000 (got \(filterSteps))") }
    }

    func run() throws {
        var recipe = FilterRecipe()
        recipe.seed = seed
        recipe.steps = steps
        recipe.learningRate = lr
        recipe.gradient.steps = filterSteps
        if smoke { recipe.reduceToSmokeBudget() }
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
        let (t, s) = (demo.taxonomy, trained.learned)
        print(String(format: "conv1 (back-propagation, %.1f s): %.0f%% oriented edges, %.0f%% colour-opponent, %.0f%% centre-surround/blob, %.0f%% unstructured (without the localization rule: %.0f%%, %.0f%%; step 0: %.0f%%, %.0f%%); k-means comparison: %.0f%% edges, %.0f%% colour-opponent; held-out variance explained %.3f; rotation accuracy %.3f (held-out photo); trained in %.0f s",
                     s.trainingSeconds, 100 * t.fraction(.edge), 100 * t.fraction(.colorOpponent), 100 * t.fraction(.blob), 100 * t.fraction(.unstructured),
                     100 * s.trained.edgesWithoutLocalization, 100 * s.trained.colourOpponentWithoutLocalization, 100 * s.initialization.edges, 100 * s.initialization.colourOpponent,
                     100 * demo.kmeansTaxonomy.fraction(.edge), 100 * demo.kmeansTaxonomy.fraction(.colorOpponent),
                     s.heldOutVarianceExplained, trained.summary.testAccuracy ?? 0, trained.seconds))
        progress.note("drawing the figures")
        var report = try demo.build()
        // conv1 through training, as the filmstrip shows it, animated beside it (one frame per recorded step).
        if let i = report.figures.firstIndex(where: { $0.id == "filmstrip" }) {
            let steps = try AnimateCommand.Learning.readSteps(run: outURL.appendingPathComponent("learn-filters").path)
            report.figures[i].animations = try AnimationWriter.writeBesideReport(LearningAnimation(steps: steps), id: "filmstrip", in: outURL)
        }
        try report.write(to: outURL)
        try AtomicFile.write(t.csv(), to: outURL.appendingPathComponent("taxonomy.csv"))
        print("wrote \(outURL.appendingPathComponent("index.html").path) with \(report.figures.count) figures")
    }
}
