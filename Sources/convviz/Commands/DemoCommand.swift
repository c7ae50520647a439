import ArgumentParser
import ConvVizCore
import ConvVizRender
import Foundation

/// `convviz demo`: trains on the embedded photographs and writes the full report.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train on the embedded photographs and write every figure, an HTML report and a PDF handout.")

    @Option(help: "Output directory.") var out: String = "Outputs/demo"
    @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 0
    @Option(help: "Training steps of the rotation-prediction stage.") var steps: Int = FilterRecipe().steps
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
        let trained = try RecipeTraining(recipe: recipe, directory: outURL).run(progress: progress)
        let conv1 = (trained.model.layers[0] as! Conv2D).weight.value
        let taxonomy = FilterTaxonomy(weights: conv1)
        var rng = SeededGenerator(seed: seed)
        let randomInit = Conv2D(name: "r", inputChannels: 3, outputChannels: recipe.filters, window: Window2D(kernel: Pair(recipe.kernel)), rng: &rng)
        let random = FilterTaxonomy(weights: randomInit.weight.value)
        print(String(format: "conv1: %.0f%% oriented edges, %.0f%% colour-opponent, %.0f%% centre-surround/blob, %.0f%% unstructured (random init: %.0f%% edges, %.0f%% colour-opponent); rotation accuracy %.3f; trained in %.0f s",
                     100 * taxonomy.fraction(.edge), 100 * taxonomy.fraction(.colorOpponent), 100 * taxonomy.fraction(.blob), 100 * taxonomy.fraction(.unstructured),
                     100 * random.fraction(.edge), 100 * random.fraction(.colorOpponent), trained.summary.testAccuracy ?? 0, trained.seconds))
        progress.note("drawing the figures")
        let report = try DemoReport(recipe: recipe, trained: trained, taxonomy: taxonomy, randomTaxonomy: random, directory: outURL).build()
        try report.write(to: outURL)
        try AtomicFile.write(taxonomy.csv(), to: outURL.appendingPathComponent("taxonomy.csv"))
        print("wrote \(outURL.appendingPathComponent("index.html").path) with \(report.figures.count) figures")
    }
}
