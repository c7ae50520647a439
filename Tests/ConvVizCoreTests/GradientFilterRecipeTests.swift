import Foundation
import XCTest
@testable import ConvVizCore

final class GradientFilterRecipeTests: XCTestCase {
    /// A recipe reduced to seconds: fewer steps (and, where only bytes matter, patches).
    /// `shortSide`: the photographs' size; smaller where only bytes and files matter.
    func reduced(steps: Int, patches: Int = GradientFilterRecipe().trainPatches, heldOut: Int = 1_000, shortSide: Int = 256, seed: UInt64 = 0) -> GradientFilterRecipe {
        var recipe = GradientFilterRecipe()
        recipe.photoShortSide = shortSide
        recipe.steps = steps
        recipe.trainPatches = patches
        recipe.heldOutPatches = heldOut
        recipe.seed = seed
        return recipe
    }

    /// conv1 moves from its random initialization towards structure: the taxonomy finds
    /// oriented edges and colour-opponent filters after a few hundred SGD steps, and none
    /// in the initialization or in random directions through the same whitening.
    func testReducedRecipeMovesConv1FromRandomInitTowardsStructure() throws {
        let result = try reduced(steps: 300).run()
        let structured = { (s: GradientFilterRecipe.Scores) in s.edges + s.colourOpponent }
        XCTAssertEqual(structured(result.initialization), 0, accuracy: 0.05)
        XCTAssertEqual(structured(result.control), 0, accuracy: 0.05)
        XCTAssertGreaterThan(result.trained.edges, result.initialization.edges + 0.2)
        XCTAssertGreaterThan(result.trained.edges, result.control.edges + 0.2)
        XCTAssertGreaterThan(result.trained.colourOpponent, result.control.colourOpponent)
        XCTAssertGreaterThan(result.trained.edgesWithoutLocalization, result.control.edgesWithoutLocalization + 0.1)
        // Training lowered the loss, and the autoencoder generalizes to a held-out photo.
        XCTAssertLessThan(result.metrics.last!.loss, result.metrics.first!.loss)
        XCTAssertGreaterThan(result.heldOutVarianceExplained, 0.2)
        // The weight changed from its initialization (step 0) and is not frozen.
        XCTAssertEqual(result.snapshots.first?.step, 0)
        XCTAssertNotEqual(result.snapshots.first?.weights, result.conv1)
    }

    /// Same seed, same bytes, whatever the caller's thread count (`--threads`): the recipe
    /// runs on the caller's 1 and 3 workers. It failed (every file, from step 0) while the
    /// whitening's products ran on OpenBLAS's own threads; they now run in fixed blocks.
    func testSameSeedSameBytesWhateverTheWorkers() throws {
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        let recipe = reduced(steps: 20, patches: 1_000, heldOut: 300, shortSide: 128, seed: 3)
        var runs: [[(name: String, data: Data)]] = []
        for workers in [1, 3] {
            Parallel.workers = workers
            runs.append(try recipe.run().files())
        }
        XCTAssertEqual(runs[0].map(\.name), ["checkpoint.safetensors", "conv1-steps.safetensors", "summary.json", "metrics.jsonl"])
        for (a, b) in zip(runs[0], runs[1]) where a.name != "summary.json" {  // the summary holds the time taken
            XCTAssertEqual(a.data, b.data, a.name)
        }
        let other = try reduced(steps: 20, patches: 1_000, heldOut: 300, shortSide: 128, seed: 4).run().files()
        XCTAssertNotEqual(runs[0][0].data, other[0].data)
    }

    /// The run directory's contract: conv1.weight, step_<n> from step_0, summary fields.
    func testRunFiles() throws {
        let result = try reduced(steps: 60, patches: 1_000, heldOut: 300, shortSide: 128).run()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("learn-filters-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try result.write(to: dir)
        let checkpoint = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("checkpoint.safetensors"))
        XCTAssertEqual(try checkpoint.tensor("conv1.weight"), result.conv1)
        XCTAssertEqual(result.conv1.shape, [48, 3, 11, 11])
        let steps = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("conv1-steps.safetensors"))
        XCTAssertEqual(Set(steps.names), ["step_0", "step_50", "step_60"])
        XCTAssertEqual(try steps.tensor("step_60"), result.conv1)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("summary.json"))) as! [String: Any]
        for key in ["taxonomy", "taxonomy_initialization", "taxonomy_control_random_directions", "pretext_held_out_variance_explained", "seconds", "seed"] {
            XCTAssertNotNil(summary[key], key)
        }
        XCTAssertEqual(summary["machine"] as? [String: String], BLAS.machine, "where these bytes are reproducible")
        XCTAssertEqual(checkpoint.metadata[Checkpoint.machineKey], BLAS.machineJSON)
        let taxonomy = summary["taxonomy"] as! [String: Double]
        XCTAssertNotNil(taxonomy["oriented_edge_without_localization"])
        let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)  // steps 50 and 60
    }

    /// The hand-written tied-weight gradient matches finite differences of the loss.
    func testTiedWeightGradientMatchesFiniteDifferences() throws {
        var recipe = GradientFilterRecipe()
        recipe.filters = 4; recipe.kernel = 3; recipe.winnerFraction = 0.5
        var rng = SeededGenerator(seed: 7)
        let z = Tensor.normal(shape: [8, 3, 3, 3], using: &rng)
        let conv1 = Conv2D(name: "conv1", inputChannels: 3, outputChannels: 4, window: Window2D(kernel: Pair(3)), bias: false, rng: &rng)
        let loss = { () -> Double in
            let (xhat, _, _) = recipe.reconstruct(conv1, z)
            return zip(xhat.data, z.data).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / 8
        }
        // lr 1, no momentum or decay: the step subtracts the gradient, so recover it.
        let before = conv1.weight.value
        _ = recipe.trainStep(conv1, z, try SGD(learningRate: 1))
        let analytic = zip(before.data, conv1.weight.value.data).map { $0 - $1 }
        conv1.weight.value = before
        let eps: Float = 1e-2
        for i in stride(from: 0, to: before.count, by: 7) {
            conv1.weight.value.data[i] = before.data[i] + eps
            let up = loss()
            conv1.weight.value.data[i] = before.data[i] - eps
            let down = loss()
            conv1.weight.value.data[i] = before.data[i]
            XCTAssertEqual(Double(analytic[i]), (up - down) / Double(2 * eps), accuracy: 2e-2 * max(1, abs(Double(analytic[i]))), "weight \(i)")
        }
    }
}
