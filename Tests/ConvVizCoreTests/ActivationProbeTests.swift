import XCTest
@testable import ConvVizCore

/// The shared "run a model's prefix" pipeline: layer lookup, sizes a prefix can run at,
/// the activation budget checked before anything is allocated, and values equal to the
/// whole graph's at that layer.
final class ActivationProbeTests: XCTestCase {
    func small() throws -> ModelSource { try ModelSource(model: "small") }

    func testUnknownLayerListsTheLayers() throws {
        XCTAssertThrowsError(try ActivationProbe(source: try small(), layer: "conv9")) { error in
            guard case let .noSuchLayer(name, _, listing)? = error as? ActivationProbe.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "conv9")
            XCTAssert(listing.contains("conv1") && listing.contains("fc"), listing)
        }
    }

    func testOtherSizesOnlyForFullyConvolutionalPrefixes() throws {
        let conv2 = try ActivationProbe(source: try small(), layer: "conv2")
        XCTAssertNoThrow(try conv2.checkRuns(atSize: [64, 40], fed: "--size 64x40"))
        let fc = try ActivationProbe(source: try small(), layer: "fc")
        XCTAssertNoThrow(try fc.checkRuns(atSize: [28, 28], fed: "--size 28x28"))
        XCTAssertThrowsError(try fc.checkRuns(atSize: [64, 40], fed: "--size 64x40")) { error in
            let text = "\(error)"
            XCTAssert(text.contains("fixes the input at 28x28") && text.contains("leave out --size"), text)
        }
    }

    func testActivationBudgetIsCheckedBeforeBuilding() throws {
        var probe = try ActivationProbe(source: try small(), layer: "conv1")
        // conv1 alone: 32 x 8 x 8 per sample.
        XCTAssertEqual(try probe.activationElements(input: [2, 1, 8, 8]), 2 * 32 * 64)
        probe.maxActivationElements = 2 * 32 * 64 - 1
        XCTAssertThrowsError(try probe.graph(input: [2, 1, 8, 8])) { error in
            guard case .tooManyActivations? = error as? ActivationProbe.Failure else { return XCTFail("\(error)") }
        }
        // The default budget refuses a photo the readers allow (2^25 pixels) on a wide prefix,
        // from shapes alone: nothing of that size is allocated.
        let wide = try ActivationProbe(source: try small(), layer: "conv2")
        XCTAssertGreaterThan(try wide.activationElements(input: [1, 1, 5_792, 5_792]), ActivationProbe.defaultMaxActivationElements)
        XCTAssertThrowsError(try wide.graph(input: [1, 1, 5_792, 5_792]))
        // Factors whose product overflows saturate instead of trapping.
        XCTAssertEqual(try wide.activationElements(input: [Int.max / 2, 1, 28, 28]), Int.max)
    }

    func testValuesEqualTheWholeGraphAtThatLayer() throws {
        let source = try small()
        let probe = try ActivationProbe(source: source, layer: "conv2")
        var rng = SeededGenerator(seed: 3)
        let x = Tensor(shape: [2, 1, 28, 28], data: (0..<(2 * 784)).map { _ in Float.random(in: -1...1, using: &rng) })
        let whole = try source.makeGraph(seed: 7)
        let expected = whole.output(x, through: probe.layer)
        let got = try probe.activations(x, seed: 7)
        XCTAssertEqual(got.shape, [2, 64, 14, 14])
        // The same layers, weights and batch: the same GEMM shapes, so the same bytes.
        XCTAssertEqual(got.data, expected.data)
    }
}
