import Foundation
import XCTest
@testable import ConvVizCore

final class FoldingTests: XCTestCase {
    /// A trained-looking SmallConvNet (non-trivial BN statistics) folded: evaluation
    /// outputs agree on real Fashion-MNIST-like inputs (the sample photographs, gray).
    func testFoldedModelGivesTheSameOutputs() throws {
        let arch = Architecture.smallConvNet()
        let model = try arch.makeModel(seed: 1)
        var rng = SeededGenerator(seed: 2)
        for layer in model.layers { if let bn = layer as? BatchNorm2D {
            for c in 0..<bn.channels {
                bn.weight.value.data[c] = rng.uniform(0.5, 1.5); bn.bias.value.data[c] = rng.uniform(-0.5, 0.5)
                bn.runningMean.value.data[c] = rng.uniform(-0.3, 0.3); bn.runningVar.value.data[c] = rng.uniform(0.2, 2)
            }
        }}
        let ckpt = Checkpoint(model: model, architecture: arch, standardization: .fashionMNIST)
        let (folded, pairs) = try ckpt.foldingBatchNorm()
        XCTAssertEqual(pairs, ["bn1 into conv1", "bn2 into conv2"])
        XCTAssertFalse(folded.architecture.layers.contains { $0.kind == .batchnorm })
        XCTAssertNil(folded.tensors["bn1.weight"])
        XCTAssertEqual(folded.notes["convviz.folded"], "bn1 into conv1, bn2 into conv2")
        var x = try SamplePhotos.patches(from: ["camera", "coins", "brick"], size: 28, count: 16, channels: 1, seed: 5).images
        Standardization.fashionMNIST.apply(to: &x)
        let a = model.forward(x, mode: .evaluation), b = try folded.makeModel().forward(x, mode: .evaluation)
        let scale = a.maxAbs
        let worst = zip(a.data, b.data).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "max |Δ| \(worst) vs output scale \(scale)")
        // The folded checkpoint survives a write and read, and says what was folded.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("folded-\(getpid()).safetensors")
        try folded.write(to: url, model: try folded.makeModel())
        let back = try Checkpoint(contentsOf: url)
        XCTAssertEqual(back.notes["convviz.folded"], "bn1 into conv1, bn2 into conv2")
        XCTAssertEqual(back.architecture.layers.count, arch.layers.count - 2)
    }
}
