import ConvVizCore
import Foundation
import XCTest

/// `filters` and `activations` on deep layers (issue 15): size caps, selection, the 1x1
/// heat map, and the shapes `--maps` takes.
final class DeepLayerCommandTests: XCTestCase {
    let dir = CLIFiles.temporaryDirectory("deep-layers")

    func write(_ t: Tensor, _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try NPY.encode(t).write(to: URL(fileURLWithPath: path))
        return path
    }

    func random(_ shape: [Int]) -> Tensor {
        var t = Tensor(shape: shape)
        var rng = SeededGenerator(seed: 5)
        for i in 0..<t.count { t.data[i] = rng.uniform(-1, 1) }
        return t
    }

    func testOneByOneKernelsBecomeAHeatMapAndSelectionsAreChecked() throws {
        let w = try write(random([64, 32, 1, 1]), "pointwise.npy")
        let svg = dir.appendingPathComponent("pointwise.svg").path
        let r = try ConvVizProcess.run(["filters", w, "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssert(texts.contains { $0.contains("64 x 32 heat map") }, "\(texts)")

        let grid = dir.appendingPathComponent("grid.png").path
        let g = try ConvVizProcess.run(["filters", try write(random([16, 8, 3, 3]), "k3.npy"), "--view", "grid", "--filters", "0:4", "--channels", "1,3", "--zoom", "4", "-o", grid])
        XCTAssertEqual(g.status, 0, g.stderr)
        try CLIFiles.assertPNG(at: grid, matches: g.stdout)

        let out = try ConvVizProcess.run(["filters", w, "--filters", "64", "-o", grid])
        XCTAssertNotEqual(out.status, 0)
        XCTAssert(out.stderr.contains("filter 64 is out of range: there are 64 (0 to 63)"), out.stderr)
        let mixed = try ConvVizProcess.run(["filters", w, "--view", "grid", "--normalize", "filter-minmax", "-o", grid])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssert(mixed.stderr.contains("--view grid uses one scale"), mixed.stderr)
    }

    func testStripsOfALargeLayerStayUnderTheCap() throws {
        let w = try write(random([256, 256, 3, 3]), "large.npy")
        let png = dir.appendingPathComponent("large.png").path
        let r = try ConvVizProcess.run(["filters", w, "--strips", "-o", png])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (width, height) = try CLIFiles.pngSize(at: png)
        XCTAssertLessThanOrEqual(max(width, height), 16_384)
        XCTAssert(r.stderr.contains("scaled down"), r.stderr)
    }

    func testMapsTakeOneSampleAndRefuseAnImageBesideThem() throws {
        let maps = try write(random([1, 12, 7, 7]), "hook.npy")
        let png = dir.appendingPathComponent("maps.png").path
        let svg = dir.appendingPathComponent("maps.svg").path
        let ok = try ConvVizProcess.run(["activations", "--maps", maps, "--layer", "layer4", "--top", "3", "--rank-by", "max", "-o", svg])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssertEqual(texts.filter { $0.hasPrefix("layer4 · ") }.count, 3, "\(texts)")
        XCTAssert(texts.contains { $0.hasPrefix("The 3 of 12 channels with the largest max activation") })
        let some = try ConvVizProcess.run(["activations", "--maps", maps, "--layer", "layer4", "--channels", "2:5,9", "-o", svg])
        XCTAssertEqual(some.status, 0, some.stderr)
        XCTAssertEqual(try CLIFiles.svgTexts(at: svg).filter { $0.hasPrefix("layer4 · ") }, ["layer4 · 2", "layer4 · 3", "layer4 · 4", "layer4 · 9"])

        let photo = CLIFiles.repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/coins.png").path
        let refused = try ConvVizProcess.run(["activations", "--maps", maps, "--image", photo, "--layer", "layer4", "-o", png])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssert(refused.stderr.contains("--maps draws maps computed elsewhere; it does not go with --model, --image or --input"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: png))
        let batch = try ConvVizProcess.run(["activations", "--maps", try write(random([2, 4, 5, 5]), "batch.npy"), "--layer", "x", "-o", png])
        XCTAssertNotEqual(batch.status, 0)
        XCTAssert(batch.stderr.contains("N = 2"), batch.stderr)
        let noTop = try ConvVizProcess.run(["activations", "--maps", maps, "--layer", "x", "--rank-by", "mean", "-o", png])
        XCTAssertNotEqual(noTop.status, 0)
        XCTAssert(noTop.stderr.contains("--rank-by orders the channels --top K keeps"), noTop.stderr)
    }
}

extension DeepLayerCommandTests {
    func testPCAView() throws {
        let w = try write(random([16, 8, 3, 3]), "pca.npy")
        let svg = dir.appendingPathComponent("pca.svg").path
        let r = try ConvVizProcess.run(["filters", w, "--view", "pca", "-o", svg])
        XCTAssertEqual(r.status, 0, r.stderr)
        let texts = try CLIFiles.svgTexts(at: svg)
        XCTAssertEqual(texts.filter { $0.hasPrefix("PC") && !$0.hasPrefix("PCA") }.count, 9, "\(texts)")
        XCTAssert(texts.contains { $0.contains("PCA over the 128 kernels of 3x3") })
        let refused = try ConvVizProcess.run(["filters", w, "--view", "pca", "--strips", "-o", svg])
        XCTAssertNotEqual(refused.status, 0)
    }
}
