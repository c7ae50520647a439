import XCTest
@testable import ConvVizCore

/// Every attribution method against the reference tools' maps on the same network
/// (`scripts/make_attribution_fixtures.py`: pytorch-grad-cam 1.5.7 and Captum 0.9.0):
/// each within 1e-4 of the largest reference value.
final class AttributionReferenceTests: XCTestCase {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/attribution") }
    static let targets = [3, 7]

    func load(_ name: String) throws -> Tensor { try NPY.read(contentsOf: Self.directory.appendingPathComponent(name)) }

    func attributor() throws -> (Attributor, Tensor, Int) {
        let source = try ModelSource(model: Self.directory.appendingPathComponent("net.onnx").path)
        let graph = try source.makeGraph()
        let layer = try XCTUnwrap(graph.index(ofLayer: "/relu5/Relu"))
        return (Attributor(graph: graph), try load("input.npy"), layer)
    }

    /// |got - want| <= 1e-4 max|want| over every element (`flipSign`: either sign).
    func assertMatches(_ got: [Float], _ want: Tensor, _ label: String, flipSign: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        guard got.count == want.count else { return }
        let scale = want.maxAbs
        func worst(_ sign: Float) -> Float { zip(got, want.data).map { abs(sign * $0 - $1) }.max() ?? 0 }
        let error = flipSign ? min(worst(1), worst(-1)) : worst(1)
        XCTAssertLessThanOrEqual(error, 1e-4 * scale, "\(label): worst |error| \(error), largest reference value \(scale)", file: file, line: line)
    }

    func testLogitsMatch() throws {
        let (attributor, x, _) = try attributor()
        assertMatches(attributor.logits(x).data, try load("logits.npy"), "logits")
    }

    func testCAMsMatchGradCAM() throws {
        let (attributor, x, layer) = try attributor()
        var settings = AttributionSettings()
        settings.layer = layer
        let pairs = Self.targets.enumerated().map { (image: $0.offset, classIndex: $0.element) }
        for method in CAMMethod.allCases {
            let m = try XCTUnwrap(AttributionMethod(rawValue: method.rawValue))
            let maps = try attributor.attribute(m, inputs: x, pairs: pairs, settings: settings)
            let eigen = method == .eigencam || method == .eigengradcam
            // A principal component's sign is arbitrary: compare raw maps up to sign, and
            // the displayed maps only when the signs agree.
            let raw = try load("\(method.rawValue).raw.npy")
            let per = raw.count / 2
            for (i, map) in maps.enumerated() {
                let want = Tensor(shape: [per], data: Array(raw.data[i * per..<(i + 1) * per]))
                assertMatches(map.raw.data, want, "\(method) raw, image \(i)", flipSign: eigen)
                if eigen && zip(map.raw.data, want.data).reduce(0, { $0 + $1.0 * $1.1 }) < 0 { continue }
                let full = try load("\(method.rawValue).map.npy")
                let n = full.count / 2
                assertMatches(map.display.data, Tensor(shape: [n], data: Array(full.data[i * n..<(i + 1) * n])), "\(method) map, image \(i)")
            }
        }
    }

    func testInputMethodsMatchCaptum() throws {
        let (attributor, x, layer) = try attributor()
        var settings = AttributionSettings()
        settings.layer = layer
        settings.window = 8
        settings.stride = 4
        settings.steps = 50
        let pairs = Self.targets.enumerated().map { (image: $0.offset, classIndex: $0.element) }
        let methods: [AttributionMethod] = [.saliency, .inputXGradient, .guidedBackprop, .deconvnet, .guidedGradcam, .occlusion, .integratedGradients]
        for method in methods {
            let maps = try attributor.attribute(method, inputs: x, pairs: pairs, settings: settings)
            assertMatches(maps.flatMap(\.raw.data), try load("\(method.rawValue).npy"), method.rawValue)
        }
    }

    /// Captum's convergence delta is sum(attributions) - (F(x) - F(baseline)): ours is the
    /// same number with the other sign.
    func testIntegratedGradientsCompletenessGap() throws {
        let (attributor, x, _) = try attributor()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("attribution.json"))) as! [String: Any]
        let deltas = (json["integrated_gradients"] as! [String: Any])["delta"] as! [Double]
        let maps = try attributor.attribute(.integratedGradients, inputs: x, pairs: [(0, 3), (1, 7)])
        for (map, delta) in zip(maps, deltas) {
            let gap = try XCTUnwrap(map.completenessGap)
            XCTAssertEqual(gap, -delta, accuracy: 1e-3 * max(1, abs(delta)))
        }
    }

    /// SmoothGrad without noise is saliency; with noise it is the mean of saliency over
    /// the noisy copies, and it changes with the seed.
    func testSmoothGradIsMeanSaliency() throws {
        let (attributor, x, _) = try attributor()
        var settings = AttributionSettings()
        settings.noise = 0
        settings.samples = 3
        let plain = try attributor.attribute(.saliency, inputs: x, pairs: [(0, 3)])[0].raw
        let smooth = try attributor.attribute(.smoothgrad, inputs: x, pairs: [(0, 3)], settings: settings)[0].raw
        assertMatches(smooth.data, plain, "smoothgrad at noise 0")
        settings.noise = 0.2
        let a = try attributor.attribute(.smoothgrad, inputs: x, pairs: [(0, 3)], settings: settings)[0].raw
        settings.seed = 1
        let b = try attributor.attribute(.smoothgrad, inputs: x, pairs: [(0, 3)], settings: settings)[0].raw
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(a, plain)
    }

    /// Captum's NoiseTunnel (nt_type "smoothgrad") over Saliency and over
    /// IntegratedGradients (20 steps, zero baseline), replaying the fixture's noise; and
    /// `smoothgrad-ig` through `attribute` is the same tunnel with the seeded noise.
    func testNoiseTunnelMatchesCaptum() throws {
        let (attributor, x, _) = try attributor()
        let noise = try load("smoothgrad.noise.npy")
        XCTAssertEqual(noise.shape, [2, 4, 3, 32, 32])
        var settings = AttributionSettings()
        settings.steps = 20
        settings.batch = 7   // slices that cross from one noisy sample to the next
        let tunnel = InputAttribution(attributor: attributor)
        for (base, name) in [(AttributionMethod.saliency, "smoothgrad"), (.integratedGradients, "smoothgrad-ig")] {
            var got: [Float] = []
            for i in 0..<2 {
                got += try tunnel.noiseTunnel(Attributor.sample(x, i), over: base, noise: Attributor.sample(noise, i),
                                              classIndex: Self.targets[i], settings: settings, progress: nil).raw.data
            }
            assertMatches(got, try load("\(name).npy"), name)
        }
        settings.samples = 3
        let image = Attributor.sample(x, 1)
        let viaAttribute = try attributor.attribute(.smoothgradIG, inputs: x, pairs: [(1, 7)], settings: settings)[0]
        let direct = try tunnel.noiseTunnel(image, over: .integratedGradients, noise: tunnel.noise(for: image, settings: settings),
                                            classIndex: 7, settings: settings, progress: nil)
        XCTAssertEqual(viaAttribute.raw, direct.raw)
        XCTAssertEqual(viaAttribute.display.shape, [32, 32])
        settings.noise = 0
        let quiet = try attributor.attribute(.smoothgradIG, inputs: x, pairs: [(1, 7)], settings: settings)[0].raw
        let ig = try attributor.attribute(.integratedGradients, inputs: x, pairs: [(1, 7)], settings: settings)[0].raw
        assertMatches(quiet.data, ig, "smoothgrad-ig at noise 0")
    }

    func testTargets() throws {
        let logits = Tensor(shape: [2, 4], data: [0.1, 3, 2, -1, 5, 1, 1, 7])
        XCTAssertEqual(try AttributionTarget.resolve([.top], logits: logits).map(\.classIndex), [1, 3])
        XCTAssertEqual(try AttributionTarget.resolve([.topK(2)], logits: logits).map { [$0.image, $0.classIndex] }, [[0, 1], [0, 2], [1, 3], [1, 0]])
        XCTAssertEqual(try AttributionTarget.resolve([.index(2), .top], logits: logits).map(\.classIndex), [2, 3])
        XCTAssertThrowsError(try AttributionTarget.resolve([.index(4)], logits: logits)) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
        XCTAssertEqual(AttributionTarget("top3"), .topK(3))
        XCTAssertNil(AttributionTarget("-1"))
    }
}
