import Foundation
import XCTest
@testable import ConvVizCore

/// The k-means comparison, and the demo's recipe on a reduced budget (seconds).
final class FilterLearningTests: XCTestCase {
    func smallCompetitive(seed: UInt64 = 0) -> CompetitiveFilterLearning {
        var c = CompetitiveFilterLearning()
        c.filters = 6; c.kernel = 5; c.patches = 1500; c.iterations = 4; c.photoShortSide = 64; c.seed = seed
        return c
    }

    func testCompetitiveLearningReportsEachIterationAndIsDeterministic() throws {
        var progress: [CompetitiveFilterLearning.Progress] = []
        let filters = try smallCompetitive().run { progress.append($0) }
        XCTAssertEqual(progress.map(\.iteration), [1, 2, 3, 4])
        XCTAssertEqual(filters.shape, [6, 3, 5, 5])
        XCTAssertEqual(progress.last?.weights.data, filters.data, "the last report is the result")
        // Each filter is scaled to max |w| = 1.
        for k in 0..<6 {
            XCTAssertEqual(filters.data[(k * 75)..<((k + 1) * 75)].map(abs).max()!, 1, accuracy: 1e-6, "filter \(k)")
        }
        // Reconstruction error is finite, positive, and k-means does not make it worse.
        for p in progress { XCTAssert(p.loss.isFinite && p.loss > 0, "iteration \(p.iteration): \(p.loss)") }
        XCTAssertLessThanOrEqual(progress.last!.loss, progress.first!.loss)
        XCTAssertEqual(try smallCompetitive().run { _ in }.data, filters.data, "same seed, same filters")
        XCTAssertNotEqual(try smallCompetitive(seed: 1).run { _ in }.data, filters.data, "another seed, other filters")
    }

    func testNormalizeRowsGivesUnitRows() {
        var m: [Float] = [3, 4, 0, 0, 0, 0, 2, 0]
        CompetitiveFilterLearning.normalizeRows(&m, dim: 4)
        XCTAssertEqual(m, [0.6, 0.8, 0, 0, 0, 0, 1, 0])
    }

    /// The demo's three parts end to end: conv1 by back-propagation (its run files in
    /// `learn-filters/`), the k-means comparison, and the rotation network trained end to
    /// end (its conv1 moves away from its random initialization: nothing frozen).
    func testReducedRecipeTrainsAndWritesItsRun() throws {
        var recipe = FilterRecipe()
        recipe.gradient.filters = 6; recipe.gradient.kernel = 7; recipe.gradient.trainPatches = 600; recipe.gradient.heldOutPatches = 100
        recipe.gradient.photoShortSide = 64; recipe.gradient.steps = 20; recipe.gradient.batch = 64
        recipe.competitive = smallCompetitive()
        recipe.competitive.kernel = 7
        recipe.competitive.iterations = 2
        recipe.trainPatches = 128; recipe.testPatches = 32; recipe.steps = 6; recipe.batch = 32
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        var notes: [String] = [], steps = 0
        let trained = try recipe.train(in: dir) { event in
            switch event {
            case let .note(s): notes.append(s)
            case .training(.step): steps += 1
            case .training: break
            }
        }
        XCTAssertEqual(trained.summary.steps, 6)
        XCTAssertEqual(trained.learned.snapshots.map(\.step), [0, 20])
        XCTAssertEqual(trained.conv1.shape, [6, 3, 7, 7])
        XCTAssertEqual(trained.kmeans.shape, [6, 3, 7, 7])
        XCTAssertEqual(trained.kmeansLoss.map(\.iteration), [1, 2])
        XCTAssert(notes.contains { $0.hasPrefix("conv1 by back-propagation") } && notes.contains { $0.hasPrefix("comparison: k-means") }
                  && notes.contains { $0.hasPrefix("rotation prediction") }, "\(notes)")
        XCTAssertGreaterThan(steps, 0)
        // The filter recipe's files, the same bytes as `learn-filters` writes.
        let learnedDir = dir.appendingPathComponent(FilterRecipe.learnedFiltersFolder)
        for (name, data) in try trained.learned.files() where name != "summary.json" {
            XCTAssertEqual(try Data(contentsOf: learnedDir.appendingPathComponent(name)), data, name)
        }
        // The rotation network's conv1 trained: it differs from its initialization.
        let initial = try recipe.architecture.makeModel(seed: recipe.seed).layers[0] as! Conv2D
        XCTAssertNotEqual(trained.rotationConv1.data, initial.weight.value.data, "conv1 is not frozen")
        // The run directory, read back.
        let run = try RunDirectory(dir)
        let checkpoint = try SafeTensorsFile(contentsOf: run.checkpointURL)
        XCTAssert(checkpoint.names.contains("conv1.weight"))
        let lines = try String(contentsOf: run.metricsURL, encoding: .utf8).split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8))) }
        let metrics = try RunDirectory.metrics(in: dir)
        XCTAssertEqual(metrics.loss.last?.step, 6, "the last logged step")
        XCTAssertEqual(metrics.accuracy.map(\.epoch), (1...recipe.settings.epochs).map(Double.init), "evaluated after each epoch")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.summaryURL)) as? [String: Any]
        XCTAssertNotNil(summary)
    }
}
