import Foundation
import XCTest
@testable import ConvVizCore

/// Feature visualization: each stage against its adjoint or finite differences, the whole
/// chain against finite differences, and two behaviours (a grating detector's image has
/// the grating's orientation; diversity lowers the Gram similarity).
final class FeatureVisualizationTests: XCTestCase {
    private func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }

    private func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// <A x, g> = <x, A^T g> for a linear map given as its forward and adjoint.
    private func assertAdjoint(input: Int, output: Int, _ forward: ([Float]) -> [Float], _ adjoint: ([Float]) -> [Float],
                               _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let x = random(input, seed: 1), g = random(output, seed: 2)
        let lhs = dot(forward(x), g), rhs = dot(x, adjoint(g))
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(abs(lhs), 1), "\(what): <Ax, g> = \(lhs), <x, A'g> = \(rhs)", file: file, line: line)
    }

    func testFourierImageMatchesLucidOnSingleFrequencies() {
        // 8x8: normalization sqrt(64)/64/4 = 1/32; the DC scale is 1/(1/8) = 8.
        let image = FourierImage(shape: [1, 1, 8, 8])
        var p = [Float](repeating: 0, count: image.parameterCount)
        p[0] = 1
        let dc = image.image(p)
        for v in dc.data { XCTAssertEqual(v, 0.25, accuracy: 1e-6) }
        // (ky, kx) = (0, 1), real part 1: 2 * cos(2 pi x / 8) / 32 * scale, scale = 1/(1/8) = 8.
        p[0] = 0; p[2] = 1
        let wave = image.image(p)
        for x in 0..<8 {
            XCTAssertEqual(wave[0, 0, 3, x], Float(2 * cos(2 * Double.pi * Double(x) / 8) / 32 * 8), accuracy: 1e-5)
        }
        // Lucid's frequencies for an odd width keep w/2 + 2 columns; the scale floors at 1/max(h, w).
        let f = FourierImage.frequencies(height: 4, width: 5)
        XCTAssertEqual(f.count, 4 * 4)
        XCTAssertEqual(f[3], 0.4, accuracy: 1e-12)  // fftfreq(5)[3] = -0.4
        XCTAssertEqual(FourierImage(shape: [1, 1, 4, 5], decay: 1).scale[0], 5)
    }

    func testFourierImageAdjoint() {
        for shape in [[2, 3, 8, 8], [1, 2, 7, 9], [1, 1, 6, 5]] {
            let image = FourierImage(shape: shape, decay: 1)
            let n = shape.reduce(1, *)
            assertAdjoint(input: image.parameterCount, output: n, { image.image($0).data },
                          { image.parameterGradient(Tensor(shape: shape, data: $0)) }, "fft \(shape)")
        }
    }

    func testResamplingAdjoints() {
        let (h, w) = (9, 11)
        var rng = SeededGenerator(seed: 5)
        var maps: [(String, Resampling)] = [
            ("pad", .pad(height: h, width: w, by: 3, value: 0)),
            ("crop", .crop(height: h, width: w, top: 2, left: 1, to: (5, 7))),
            ("upscale", .resize(height: h, width: w, to: (13, 16))),
            ("downscale", .resize(height: h, width: w, to: (5, 4))),
            ("rotate", .rotate(height: h, width: w, degrees: 9)),
        ]
        for t in ImageTransform.lucid { maps.append(("\(t)", t.draw(for: (h, w), using: &rng))) }
        for (name, map) in maps {
            let inShape = [2, 3, h, w], outShape = [2, 3, map.outputSize.height, map.outputSize.width]
            // The linear part: apply(x) - apply(0) (padding adds its fill).
            let offset = map.apply(Tensor(shape: inShape)).data
            assertAdjoint(input: inShape.reduce(1, *), output: outShape.reduce(1, *),
                          { zip(map.apply(Tensor(shape: inShape, data: $0)).data, offset).map { $0 - $1 } },
                          { map.adjoint(Tensor(shape: outShape, data: $0)).data }, name)
        }
    }

    func testTransformsMoveContentAsLucidDoes() {
        var x = Tensor(shape: [1, 1, 4, 4])
        for i in 0..<16 { x.data[i] = Float(i) }
        let padded = Resampling.pad(height: 4, width: 4, by: 2, value: 0.5).apply(x)
        XCTAssertEqual(padded.shape, [1, 1, 8, 8])
        XCTAssertEqual(padded[0, 0, 0, 0], 0.5)
        XCTAssertEqual(padded[0, 0, 2, 2], 0)
        XCTAssertEqual(padded[0, 0, 5, 5], 15)
        // A quarter turn maps the corner (0, 3) to (0, 0) (counter-clockwise on screen).
        let turned = Resampling.rotate(height: 4, width: 4, degrees: 90).apply(x)
        XCTAssertEqual(turned[0, 0, 0, 0], 3, accuracy: 1e-5)
        // Resizing a constant keeps it; jitter crops d pixels.
        let ones = Tensor(shape: [1, 1, 5, 5], repeating: 1)
        for v in Resampling.resize(height: 5, width: 5, to: (7, 3)).apply(ones).data { XCTAssertEqual(v, 1, accuracy: 1e-6) }
        var rng = SeededGenerator(seed: 1)
        XCTAssertEqual(ImageTransform.jitter(2).draw(for: (5, 5), using: &rng).outputSize.height, 3)
    }

    func testColorDecorrelation() {
        let m = ColorDecorrelation.imageNet.matrix
        // Lucid: the first column's norm (0.46195) is the largest, so it becomes 1.
        XCTAssertEqual(m[0], 0.26 / 0.46195, accuracy: 1e-4)
        XCTAssertEqual((m[0] * m[0] + m[3] * m[3] + m[6] * m[6]).squareRoot(), 1, accuracy: 1e-5)
        let shape = [2, 3, 4, 5], n = shape.reduce(1, *)
        assertAdjoint(input: n, output: n, { ColorDecorrelation.imageNet.apply(Tensor(shape: shape, data: $0)).data },
                      { ColorDecorrelation.imageNet.adjoint(Tensor(shape: shape, data: $0)).data }, "colour")
        // From data: M M^T is proportional to the colour covariance.
        var rng = SeededGenerator(seed: 3)
        var images = Tensor(shape: [4, 3, 8, 8])
        let plane = 64
        for b in 0..<4 { for p in 0..<plane {
            let z = (rng.normal(), rng.normal(), rng.normal())
            let rgb = [z.0, 0.8 * z.0 + 0.3 * z.1, 0.5 * z.0 - 0.2 * z.1 + 0.4 * z.2]
            for c in 0..<3 { images.data[b * 3 * plane + c * plane + p] = rgb[c] }
        }}
        let est = ColorDecorrelation.estimated(from: images).matrix
        var cov = [Double](repeating: 0, count: 9), mean = [Double](repeating: 0, count: 3)
        let count = Double(4 * plane)
        for b in 0..<4 { for p in 0..<plane { for i in 0..<3 { mean[i] += Double(images.data[b * 192 + i * plane + p]) / count } } }
        for b in 0..<4 { for p in 0..<plane { for i in 0..<3 { for j in 0..<3 {
            cov[3 * i + j] += (Double(images.data[b * 192 + i * plane + p]) - mean[i]) * (Double(images.data[b * 192 + j * plane + p]) - mean[j]) / count
        }}}}
        var mmt = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { mmt[3 * i + j] += Double(est[3 * i + k] * est[3 * j + k]) } } }
        let ratio = cov[0] / mmt[0]
        for k in 0..<9 { XCTAssertEqual(mmt[k] * ratio, cov[k], accuracy: 1e-3 * cov[0], "entry \(k)") }
    }

    func testAdamMatchesTorch() {
        // torch.optim.Adam(lr=0.05): the first step moves each parameter by lr * sign(g)
        // (up to eps); the second by lr * m^/(sqrt(v^) + eps).
        var adam = Adam(count: 2)
        var p: [Float] = [1, -2]
        adam.update(&p, gradient: [0.5, -3])
        XCTAssertEqual(p[0], 0.95, accuracy: 1e-6)
        XCTAssertEqual(p[1], -1.95, accuracy: 1e-6)
        adam.update(&p, gradient: [0.25, -3])
        let m: Double = 0.9 * 0.1 * 0.5 + 0.1 * 0.25
        let v: Double = 0.999 * 0.001 * 0.25 + 0.001 * 0.0625
        let vHat: Double = v / (1 - 0.999 * 0.999)
        let expected: Double = 0.95 - 0.05 / 0.19 * m / (vHat.squareRoot() + 1e-8)
        XCTAssertEqual(Double(p[0]), expected, accuracy: 1e-6)
    }

    /// Each objective's gradient against central differences of its value.
    func testObjectiveGradients() {
        let shape = [4, 5, 3, 4]
        let acts = Tensor(shape: shape, data: random(shape.reduce(1, *), seed: 9))
        let direction = random(5, seed: 4)
        let objectives: [(String, BatchObjective)] = [
            ("channel/neuron/direction", BatchObjective(units: [UnitObjective(.channel(2)), UnitObjective(.neuron(1)),
                                                               UnitObjective(.direction(direction)),
                                                               UnitObjective([.init(0.5, .channel(0)), .init(-2, .neuron(3, y: 0, x: 1))])])),
            ("diversity", BatchObjective(units: Array(repeating: UnitObjective(.channel(1)), count: 4), groupSize: 2, diversity: 3)),
        ]
        for (name, objective) in objectives {
            let e = objective.evaluate(acts)
            for i in stride(from: 0, to: acts.count, by: 7) {
                var up = acts, down = acts
                up.data[i] += 1e-2; down.data[i] -= 1e-2
                let numeric = (objective.evaluate(up).loss - objective.evaluate(down).loss) / 2e-2
                XCTAssertEqual(numeric, Double(e.gradient.data[i]), accuracy: 2e-3 * max(1, abs(numeric)), "\(name) element \(i)")
            }
        }
        // The values: channel mean and the centre neuron (H/2, W/2).
        let e = objectives[0].1.evaluate(acts)
        let channelMean: Float = (0..<12).map { (p: Int) -> Float in acts.data[24 + p] }.reduce(Float(0), +) / 12
        XCTAssertEqual(e.values[0], channelMean, accuracy: 1e-5)
        XCTAssertEqual(e.values[1], acts[1, 1, 1, 2])
    }

    /// A small conv net and a visualization of one of its channels with fixed transforms.
    private func smallNetwork(channels: Int, seed: UInt64) throws -> Graph {
        try Architecture(name: "t", input: [channels, 12, 12], layers: [
            LayerSpec(.conv, out: 4, kernel: Pair(3), padding: Pair(1)), LayerSpec(.relu),
            LayerSpec(.conv, out: 3, kernel: Pair(3), stride: Pair(2)), LayerSpec(.relu),
        ]).makeGraph(seed: seed)
    }

    /// The gradient of the whole chain (spectrum -> colours -> sigmoid -> pad, jitter,
    /// scale, rotate, jitter -> resize -> normalization -> network -> objective) against
    /// central differences of the loss.
    func testWholeChainGradient() throws {
        let graph = try smallNetwork(channels: 3, seed: 11)
        var settings = FeatureVisualization.Settings(normalization: .imageNet)
        settings.size = 10
        let vis = FeatureVisualization(graph: graph, layer: 3, objective: BatchObjective(
            units: [UnitObjective(.channel(0)), UnitObjective(.neuron(2)), UnitObjective(.channel(0)), UnitObjective(.neuron(2))],
            groupSize: 2, diversity: 0.5), settings: settings)
        let parameterization = vis.makeParameterization()
        var rng = SeededGenerator(seed: 2)
        let parameters = parameterization.initialParameters(sd: 0.5, using: &rng)
        var maps: [Resampling] = [], size = (10, 10)
        for t in vis.effectiveTransforms { maps.append(t.draw(for: size, using: &rng)); size = maps.last!.outputSize }
        let (_, gradient) = vis.lossAndGradient(parameters, parameterization, maps: maps)
        var checked = 0
        for i in stride(from: 0, to: parameters.count, by: 37) {
            var up = parameters, down = parameters
            up[i] += 1e-2; down[i] -= 1e-2
            let numeric = (vis.lossAndGradient(up, parameterization, maps: maps).0.loss
                - vis.lossAndGradient(down, parameterization, maps: maps).0.loss) / 2e-2
            XCTAssertEqual(numeric, Double(gradient[i]), accuracy: 3e-3 * max(1e-2, abs(numeric)) + 1e-4, "parameter \(i)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
    }

    /// A network whose one channel is a 45° grating detector: its visualization is a
    /// grating of that orientation (the image spectrum's peak lies on the kernel's
    /// frequency direction).
    func testGratingDetectorYieldsItsOrientation() throws {
        let graph = try Architecture(name: "g", input: [1, 32, 32], layers: [
            LayerSpec(.conv, out: 1, kernel: Pair(9), padding: Pair(4)), LayerSpec(.relu),
        ]).makeGraph(seed: 0)
        // cos(2 pi (x + y) / (4 sqrt 2) * sqrt 2 ... ): wave vector along (1, 1), period 4 px along it.
        var kernel = Tensor(shape: [1, 1, 9, 9])
        for y in 0..<9 { for x in 0..<9 {
            kernel[0, 0, y, x] = Float(cos(2 * Double.pi * Double(x + y - 8) / 8))
        }}
        for (name, p) in graph.namedParameters {
            p.value = name.hasSuffix("weight") ? kernel : Tensor(shape: p.value.shape)
        }
        var settings = FeatureVisualization.Settings(normalization: Standardization(mean: [0.5], std: [0.25]))
        settings.size = 32
        settings.steps = 48
        settings.transforms = []
        let result = FeatureVisualization(graph: graph, layer: 1, objective: BatchObjective(units: [UnitObjective(.channel(0))]),
                                          settings: settings).run()
        // The strongest non-DC frequency of the image.
        let fft = RealFFT2D(height: 32, width: 32)
        var plane = result.images.data.map { $0 - result.images.data.reduce(0, +) / 1024 }
        var spectrum = [Float](repeating: 0, count: 32 * 17 * 2)
        plane.withUnsafeMutableBufferPointer { p in spectrum.withUnsafeMutableBufferPointer { s in fft.forward(p.baseAddress!, into: s.baseAddress!) } }
        var best = (power: Float(0), ky: 0, kx: 0)
        for ky in 0..<32 { for kx in 0..<17 where ky != 0 || kx != 0 {
            let k = 2 * (ky * 17 + kx), power = spectrum[k] * spectrum[k] + spectrum[k + 1] * spectrum[k + 1]
            if power > best.power { best = (power, ky, kx) }
        }}
        let fy = Double(best.ky < 16 ? best.ky : best.ky - 32), fx = Double(best.kx)
        let angle = atan2(fy, fx) * 180 / Double.pi  // the grating's wave vector, mod 180
        XCTAssertEqual(angle, 45, accuracy: 10, "peak at (ky, kx) = (\(best.ky), \(best.kx))")
        XCTAssertGreaterThan(result.values[0], 1, "the objective rose: \(result.losses.first!) -> \(result.values[0])")
    }

    func testDiversityLowersGramSimilarity() throws {
        let graph = try smallNetwork(channels: 1, seed: 4)
        var settings = FeatureVisualization.Settings(normalization: Standardization(mean: [0.5], std: [0.25]))
        settings.size = 12
        settings.steps = 24
        settings.transforms = []
        func similarity(_ weight: Float) -> Float {
            let objective = BatchObjective(units: Array(repeating: UnitObjective(.channel(1)), count: 3), groupSize: 3, diversity: weight)
            return FeatureVisualization(graph: graph, layer: 1, objective: objective, settings: settings).run().similarities[0]
        }
        let plain = similarity(0), diverse = similarity(20)
        XCTAssertLessThan(diverse, plain - 0.05, "Gram similarity without diversity \(plain), with \(diverse)")
    }

    func testSameSeedSameImages() throws {
        let graph = try smallNetwork(channels: 3, seed: 1)
        var settings = FeatureVisualization.Settings(normalization: .imageNet)
        settings.size = 16
        settings.steps = 3
        settings.redirectedReLUSteps = 2
        let vis = FeatureVisualization(graph: graph, layer: 3, objective: BatchObjective(units: [UnitObjective(.channel(0)), UnitObjective(.channel(2))]), settings: settings)
        let a = vis.run(), b = vis.run()
        XCTAssertEqual(a.images, b.images)
        XCTAssertEqual(a.images.shape, [2, 3, 16, 16])
        XCTAssertTrue(a.images.data.allSatisfy { $0 > 0 && $0 < 1 })
    }
}
