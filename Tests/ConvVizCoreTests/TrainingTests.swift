import Foundation
import XCTest
@testable import ConvVizCore

final class TrainingTests: XCTestCase {
    /// A tiny separable problem: bright-left versus bright-right images.
    func toyData(_ n: Int, seed: UInt64) -> LabeledImages {
        var rng = SeededGenerator(seed: seed)
        var x = Tensor(shape: [n, 1, 8, 8]), labels = [Int]()
        for i in 0..<n {
            let label = rng.below(2)
            for y in 0..<8 { for c in 0..<8 {
                x[i, 0, y, c] = rng.uniform(0, 0.5) + ((c < 4) == (label == 0) ? 0.5 : 0)
            }}
            labels.append(label)
        }
        return LabeledImages(images: x, labels: labels, classes: ["left", "right"])
    }

    let arch = Architecture(name: "toy", input: [1, 8, 8], layers: [
        LayerSpec(.conv, out: 4, kernel: Pair(3), padding: Pair(1)), LayerSpec(.batchnorm), LayerSpec(.relu),
        LayerSpec(.maxpool, kernel: Pair(2)), LayerSpec(.flatten), LayerSpec(.linear, out: 2),
    ])

    func train(seed: UInt64) throws -> (Trainer, Trainer.Summary) {
        var settings = TrainingSettings()
        settings.epochs = 3
        settings.batchSize = 16
        settings.learningRate = 0.05
        settings.seed = seed
        settings.logEvery = 5
        let trainer = try Trainer(model: try arch.makeModel(seed: seed), architecture: arch, settings: settings,
                                  standardization: Standardization(mean: [0.5], std: [0.3]))
        var train = toyData(256, seed: 1), test = toyData(64, seed: 2)
        trainer.standardization.apply(to: &train.images)
        trainer.standardization.apply(to: &test.images)
        let summary = try trainer.train(train, test: test) { _ in }
        return (trainer, summary)
    }

    func testLearnsAToyProblem() throws {
        let (_, summary) = try train(seed: 4)
        XCTAssertEqual(summary.steps, 3 * 16)
        XCTAssertGreaterThan(summary.testAccuracy ?? 0, 0.95)
    }

    func testSameSeedSameCheckpointBytes() throws {
        let (a, _) = try train(seed: 5), (b, _) = try train(seed: 5), (c, _) = try train(seed: 6)
        let bytes = { (t: Trainer) in
            Checkpoint(model: t.model, architecture: t.architecture, standardization: t.standardization, settings: t.settings.json, step: t.step)
                .encoded(model: t.model)
        }
        XCTAssertEqual(bytes(a), bytes(b))
        XCTAssertNotEqual(bytes(a), bytes(c))
    }

    func testCheckpointRoundTripAndResume() throws {
        let (trainer, _) = try train(seed: 7)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-run-\(getpid())")
        let run = try RunDirectory(dir)
        try run.save(trainer: trainer, epoch: 3)
        let loaded = try Checkpoint(contentsOf: run.checkpointURL)
        XCTAssertEqual(loaded.architecture, arch)
        XCTAssertEqual(loaded.step, 48)
        XCTAssertEqual(loaded.standardization, trainer.standardization)
        let model = try loaded.makeModel()
        var x = toyData(8, seed: 9).images
        trainer.standardization.apply(to: &x)
        XCTAssertEqual(model.forward(x, mode: .evaluation), trainer.model.forward(x, mode: .evaluation))
        // PyTorch expects num_batches_tracked beside each BatchNorm's running statistics.
        let file = try SafeTensorsFile(contentsOf: run.checkpointURL)
        XCTAssertTrue(file.names.contains("bn1.num_batches_tracked"))
        XCTAssertEqual(file.entries.first { $0.name == "bn1.num_batches_tracked" }?.dtype, .i64)
    }

    /// Two epochs straight, or a run stopped after its first epoch then resumed from its
    /// checkpoint and optimizer state: the same weights, byte for byte.
    func testResumeContinuesExactly() throws {
        var settings = TrainingSettings()
        settings.epochs = 2; settings.batchSize = 16; settings.learningRate = 0.05; settings.seed = 8
        let s = Standardization(mean: [0.5], std: [0.3])
        var train = toyData(128, seed: 1); s.apply(to: &train.images)
        let straight = try Trainer(model: try arch.makeModel(seed: 8), architecture: arch, settings: settings, standardization: s)
        _ = try straight.train(train, test: nil) { _ in }

        struct Interrupted: Error {}
        let a = try Trainer(model: try arch.makeModel(seed: 8), architecture: arch, settings: settings, standardization: s)
        XCTAssertThrowsError(try a.train(train, test: nil) { event in
            if case .epochEnd(0) = event { throw Interrupted() }
        })
        XCTAssertEqual(a.step, 8)
        let saved = try Checkpoint(contentsOf: {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(getpid()).safetensors")
            try Checkpoint(model: a.model, architecture: arch, standardization: s, step: a.step).write(to: url, model: a.model)
            return url
        }())
        let b = try Trainer(model: try saved.makeModel(), architecture: arch, settings: settings, standardization: s)
        b.resume(step: saved.step, optimizerState: Dictionary(uniqueKeysWithValues: a.optimizerState))
        _ = try b.train(train, test: nil) { _ in }
        XCTAssertEqual(b.step, straight.step)
        for ((name, p), (_, q)) in zip(straight.model.namedParameters, b.model.namedParameters) {
            XCTAssertEqual(p.value, q.value, name)
        }
    }

    func testNonFiniteLossStops() throws {
        var settings = TrainingSettings()
        settings.learningRate = 1e30
        settings.batchSize = 16
        settings.epochs = 5
        let trainer = try Trainer(model: try arch.makeModel(seed: 1), architecture: arch, settings: settings,
                                  standardization: Standardization(mean: [0], std: [1]))
        XCTAssertThrowsError(try trainer.train(toyData(64, seed: 1), test: nil) { _ in }) { e in
            XCTAssert(e is Trainer.NonFiniteLoss, "\(e)")
        }
    }

    func testSchedules() {
        var s = TrainingSettings()
        s.learningRate = 1
        s.schedule = .cosine
        XCTAssertEqual(s.learningRate(step: 0, totalSteps: 100), 1)
        XCTAssertEqual(s.learningRate(step: 50, totalSteps: 100), 0.5, accuracy: 1e-6)
        s.schedule = .step
        XCTAssertEqual(s.learningRate(step: 60, totalSteps: 100), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(step: 80, totalSteps: 100), 0.01, accuracy: 1e-8)
    }

    func testSGDMatchesTorchRule() throws {
        let p = Parameter("w", Tensor(shape: [1], data: [1]))
        let sgd = try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        p.grad = Tensor(shape: [1], data: [2])
        sgd.step([p])  // d = 2 + 0.5 = 2.5; v = 2.5; w = 1 - 0.25
        XCTAssertEqual(p.value.data[0], 0.75, accuracy: 1e-7)
        sgd.step([p])  // d = 2 + 0.375 = 2.375; v = 0.9*2.5 + 2.375 = 4.625; w = 0.75 - 0.4625
        XCTAssertEqual(p.value.data[0], 0.2875, accuracy: 1e-6)
        XCTAssertThrowsError(try SGD(learningRate: -1))
    }
}
