import Foundation
import XCTest
@testable import ConvVizCore

/// `--sanity` (Adebayo et al. 2018's cascading parameter randomisation) on a network
/// trained here: a small CNN learns with ConvViz's own `Trainer` which of the seven colour
/// sample photographs a 32x32 patch comes from (what `convviz train --data samples`
/// trains), then `CascadingRandomisation` re-initialises its four layers with weights
/// one more at a time from the logits down (fc, conv3, conv2, conv1) and compares each
/// map with the trained network's by Spearman's rank correlation, on held-out patches
/// with the predicted class as the target.
///
/// The thresholds come from measurement, not from tuning: the mean correlation over the
/// patches after each step, per seed (seed = training, patches and re-initialisation;
/// the same numbers with the numeric core optimized or not). Short configuration (60
/// steps of batch 32 on 2,000 patches, 12 held-out patches, seeds 0-9; test accuracy
/// 0.415-0.745, chance 0.14), mean per step [fc, conv3, conv2, conv1]:
///
///     saliency         step 1 0.29-0.44, step 2 0.25-0.42, step 3 0.21-0.35, all 0.11-0.23;
///                      drop from step 1 to all at least 0.11 on every seed
///     gradcam          step 1 -0.03-0.53, step 2 -0.31-0.33, step 3 -0.28-0.20, all -0.16-0.21
///                      (single patches anywhere in [-0.97, 0.97]: Grad-CAM's 8x8 map mostly
///                      loses its ranking as soon as the classifier is random)
///     guided-backprop  step 1 0.87-0.92, step 2 0.82-0.85, step 3 0.60-0.69, all 0.28-0.41
///
/// Long configuration (300 steps on 10,000 patches, 16 held-out patches, seeds 0-4;
/// test accuracy 0.837-0.890):
///
///     saliency         step 1 0.45-0.55, step 2 0.33-0.49, step 3 0.18-0.32, all 0.01-0.11;
///                      drop from step 1 to all at least 0.37
///     gradcam          step 1 -0.04-0.35, step 2 -0.10-0.16, step 3 -0.24-0.29, all -0.16-0.04
///     guided-backprop  step 1 0.72-0.90, step 2 0.68-0.84, step 3 0.49-0.57, all 0.20-0.24
///                      (seed 4's 0.72 after fc includes one patch at -0.08)
///
/// So saliency and Grad-CAM decorrelate (from 1 to about 0.1 and 0), and guided
/// backpropagation changes much less while only the upper layers are random (0.7-0.9
/// after fc, 0.2-0.6 above saliency: the insensitivity Adebayo et al. report) but does
/// fall once conv2 and conv1 go (to 0.2-0.4 here). The assertions
/// leave a margin over the union of these ranges (BLAS rounding on another CPU can move
/// a seed's training a little).
final class TrainedSanityTests: XCTestCase {
    static let architecture = try! Architecture(json: Data(#"""
    {"name": "photo-id-small", "input": [3, 32, 32], "layers": [
      {"type": "conv", "name": "conv1", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool", "kernel": 2},
      {"type": "conv", "name": "conv2", "out": 16, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool", "kernel": 2},
      {"type": "conv", "name": "conv3", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu", "name": "relu3"},
      {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 7}
    ]}
    """#.utf8))

    static let methods: [AttributionMethod] = [.saliency, .gradcam, .guidedBackprop]

    struct Configuration {
        var steps: Int
        var patches: Int
        var images: Int
    }

    struct Outcome {
        var accuracy: Float
        /// Per method (in `methods` order), the mean correlation over the patches after each
        /// randomisation step (fc, conv3, conv2, conv1), and the smallest and largest.
        var means: [[Double]]
        var ranges: [[ClosedRange<Double>]]
    }

    /// Trains with `Trainer` on sample patches, then runs the cascade on held-out patches.
    func randomisation(seed: UInt64, _ c: Configuration) throws -> Outcome {
        let arch = Self.architecture
        let splits = try DataSource.samples.load(input: arch.input, seed: seed, samplePatches: c.patches)
        var settings = TrainingSettings()
        settings.maxSteps = c.steps
        settings.epochs = 1_000
        settings.batchSize = 32
        settings.seed = seed
        settings.logEvery = 1_000_000
        let trainer = try Trainer(model: try arch.makeModel(seed: seed), architecture: arch, settings: settings, standardization: splits.standardization)
        let summary = try trainer.train(splits.train, test: splits.test) { _ in }
        let graph = try arch.makeGraph(seed: seed)
        try graph.load(Dictionary(uniqueKeysWithValues: trainer.model.namedParameters.map { ($0.name, $0.parameter.value) }), file: "trained")
        let attributor = Attributor(graph: graph)
        let logits = attributor.logits(splits.test.images), k = logits.shape[1]
        let right = splits.test.labels.indices.filter { AttributionTarget.ranked(Array(logits.data[$0 * k..<($0 + 1) * k]))[0] == splits.test.labels[$0] }
        XCTAssertEqual(Float(right.count) / Float(splits.test.count), summary.testAccuracy ?? -1, accuracy: 0.01, "the graph is the trained network")

        var rows: [[[Double]]] = []  // [patch][step][method]
        for i in 0..<c.images {
            let (x, _) = splits.test.batch([i][...])
            let before = attributor.logits(x)
            let target = AttributionTarget.ranked(before.data)[0]
            let result = try CascadingRandomisation(graph: graph, image: x, classIndex: target, methods: Self.methods,
                                                    settings: AttributionSettings(), groups: 4, seed: seed)
            XCTAssertEqual(result.steps.map(\.through), [nil, "fc", "conv3", "conv2", "conv1"])
            XCTAssertEqual(result.steps[0].correlations, [1, 1, 1])
            XCTAssertEqual(attributor.logits(x), before, "weights put back")
            rows.append(result.steps.dropFirst().map(\.correlations))
        }
        let steps = rows[0].count
        let values = Self.methods.indices.map { m in (0..<steps).map { s in rows.map { $0[s][m] } } }
        return Outcome(accuracy: summary.testAccuracy ?? 0,
                       means: values.map { $0.map { $0.reduce(0, +) / Double($0.count) } },
                       ranges: values.map { $0.map { $0.min()!...$0.max()! } })
    }

    /// The measured behaviour, with a margin: saliency and Grad-CAM decorrelate, guided
    /// backpropagation stays while the upper layers are random and falls at the end.
    func check(_ o: Outcome, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let (saliency, gradcam, guided) = (o.means[0], o.means[1], o.means[2])
        let context = "seed \(seed): \(Self.describe(o))"
        XCTAssertGreaterThan(o.accuracy, 0.35, "trained (chance 1/7); \(context)", file: file, line: line)
        for s in saliency.indices {
            XCTAssertLessThan(saliency[s], 0.7, "saliency after step \(s + 1); \(context)", file: file, line: line)
            XCTAssertLessThan(abs(gradcam[s]), 0.75, "gradcam after step \(s + 1); \(context)", file: file, line: line)
        }
        XCTAssertLessThan(saliency.last!, 0.35, "saliency with every layer random; \(context)", file: file, line: line)
        XCTAssertLessThan(saliency.last!, saliency[0] - 0.05, "saliency drops as layers go; \(context)", file: file, line: line)
        XCTAssertLessThan(abs(gradcam.last!), 0.4, "gradcam with every layer random; \(context)", file: file, line: line)
        XCTAssertGreaterThan(guided[0], 0.6, "guided backprop after fc only; \(context)", file: file, line: line)
        XCTAssertGreaterThan(guided[0], saliency[0] + 0.1, "guided backprop changes less than saliency; \(context)", file: file, line: line)
        XCTAssertLessThan(guided.last!, 0.55, "guided backprop with every layer random; \(context)", file: file, line: line)
        XCTAssertLessThan(guided.last!, guided[0] - 0.2, "guided backprop drops once the lower layers go; \(context)", file: file, line: line)
    }

    static func describe(_ o: Outcome) -> String {
        let lines = methods.indices.map { m in
            "\(methods[m].rawValue) " + o.means[m].indices.map {
                String(format: "%.2f [%.2f, %.2f]", o.means[m][$0], o.ranges[m][$0].lowerBound, o.ranges[m][$0].upperBound)
            }.joined(separator: "  ")
        }
        return String(format: "accuracy %.3f; mean [min, max] per step: ", o.accuracy) + lines.joined(separator: "; ")
    }

    static let short = Configuration(steps: 60, patches: 2_000, images: 12)
    static let long = Configuration(steps: 300, patches: 10_000, images: 16)

    /// The normal suite: seed 0 of the long configuration (test accuracy 0.89; about 1.5 s
    /// in the debug build, whose numeric core is optimized).
    func testRandomisationOnANetworkTrainedHere() throws {
        check(try randomisation(seed: 0, Self.long), seed: 0)
    }

    /// CONVVIZ_LONG_TESTS=1: every measured run, the short configuration on seeds 0-9 and
    /// the long one on seeds 1-4 (about 15 s). Each outcome is printed, so running this
    /// test re-measures.
    func testRandomisationOverSeeds() throws {
        guard ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1" else {
            throw XCTSkip("set CONVVIZ_LONG_TESTS=1 for the other seeds and a shorter training")
        }
        for seed: UInt64 in 0..<10 {
            let o = try randomisation(seed: seed, Self.short)
            print("short, seed \(seed): \(Self.describe(o))")
            check(o, seed: seed)
        }
        for seed: UInt64 in 1..<5 {
            let o = try randomisation(seed: seed, Self.long)
            print("long, seed \(seed): \(Self.describe(o))")
            check(o, seed: seed)
        }
    }
}
