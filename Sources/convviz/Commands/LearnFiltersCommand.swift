import ArgumentParser
import ConvVizCore
import Foundation

/// `convviz learn-filters --out RUN`: conv1 learned from random initialization by
/// gradient descent (`GradientFilterRecipe`).
struct LearnFiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn-filters",
        abstract: "Learn conv1 from a random initialization by back-propagation on the sample photos.",
        discussion: "Writes RUN/checkpoint.safetensors, RUN/conv1-steps.safetensors, RUN/summary.json and RUN/metrics.jsonl.")

    @Option(help: "Run directory to write.") var out: String
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "SGD steps (default: the recipe's).") var steps: Int?
    @Option(help: "Also record conv1 every N steps in conv1-steps.safetensors (for `convviz animate learning`); default: steps 0, 50, 200, 600 and the last.")
    var recordEvery: Int?
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        // A million SGD steps is hours on this recipe; Int.max would run for ever.
        if let steps, !(1...1_000_000).contains(steps) { throw ValidationError("--steps must be 1 to 1000000 (got \(steps))") }
        if let recordEvery, recordEvery < 1 { throw ValidationError("--record-every must be at least 1") }
    }

    func run() throws {
        // The folder is made and locked before the training: a bad --out costs nothing,
        // and a second convviz writing the same folder is refused.
        let folder = URL(fileURLWithPath: out)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw WriteError(file: out, message: "cannot create the run directory (--out)")
        }
        let lock = try RunLock(folder: folder)
        let result = try GradientFilterRecipe.run(seed: seed, steps: steps, recordEvery: recordEvery) { m in
            print("step \(m.step): loss \(String(format: "%.4f", m.loss)) (\(String(format: "%.1f", m.seconds)) s)")
        }
        try withExtendedLifetime(lock) { try result.write(to: folder) }
        let t = result.trained
        print(String(format: "conv1: %.0f%% oriented edges, %.0f%% colour-opponent (without the localization rule: %.0f%%, %.0f%%); held-out variance explained %.3f; %.1f s; wrote %@",
                     100 * t.edges, 100 * t.colourOpponent, 100 * t.edgesWithoutLocalization, 100 * t.colourOpponentWithoutLocalization,
                     result.heldOutVarianceExplained, result.trainingSeconds, out))
    }
}
