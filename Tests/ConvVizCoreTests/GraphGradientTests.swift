import XCTest
@testable import ConvVizCore

/// `Graph.gradients`: gradients at intermediate values against finite differences
/// through the fixture graphs' branches, the ReLU rules by hand, the errors, and the
/// issue-23 defects (fused ReLUs, broadcast products).
final class GraphGradientTests: XCTestCase {
    static var graphs: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/graphs") }

    func firstSample(_ fixture: String) throws -> Tensor {
        let x = try NPY.read(contentsOf: Self.graphs.appendingPathComponent("\(fixture).input.npy"))
        return Tensor(shape: [1] + Array(x.shape.dropFirst()), data: Array(x.data.prefix(x.count / x.shape[0])))
    }

    /// Gradient at a middle layer of each branching fixture vs central differences of the
    /// network run from that layer's value (`forward(replacing:)`).
    func testGradientAtIntermediateValuesMatchesFiniteDifferences() throws {
        for fixture in ["residual", "inception", "squeeze_excitation", "depthwise"] {
            let graph = try ModelSource(model: Self.graphs.appendingPathComponent("\(fixture).onnx").path).makeGraph()
            let x = try firstSample(fixture)
            let last = graph.operations.count - 1
            // A layer about a third of the way in: its value feeds the output through
            // the branches that follow.
            let middle = graph.operations.count / 3
            let values = graph.forward(x, mode: .evaluationWithGradients, keep: [middle])
            var rng = SeededGenerator(seed: 5)
            let seed = Tensor.uniform(shape: values[last]!.shape, bound: 1, using: &rng)
            let grads = try graph.gradients(seed, from: last, at: [middle, -1])
            let g = grads[middle]!
            XCTAssertEqual(g.shape, values[middle]!.shape)
            XCTAssertEqual(grads[-1]!.shape, x.shape)
            func loss(_ v: Tensor) -> Double {
                let y = graph.forward(x, mode: .evaluation, replacing: [middle: v])[last]!
                return zip(y.data, seed.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            let v = values[middle]!
            let scale = Double(g.maxAbs)
            XCTAssertGreaterThan(scale, 0, fixture)
            // A value at exactly 0 (after a ReLU) sits on a kink: the difference there
            // sees half a max-pool's gradient. Those are skipped.
            for i in stride(from: 0, to: v.count, by: max(1, v.count / 30)) where v.data[i] != 0 {
                var plus = v, minus = v
                let h: Float = 1e-3
                plus.data[i] += h; minus.data[i] -= h
                let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
                XCTAssertEqual(Double(g.data[i]), numeric, accuracy: 2e-3 * scale + 5e-5, "\(fixture) layer \(middle)[\(i)]")
            }
            // The input gradient agrees with the one-target call (and with inputGradient).
            let again = graph.forward(x, mode: .evaluationWithGradients)[last]!
            XCTAssertEqual(again.shape, seed.shape)
            let dx = graph.inputGradient(seed, from: last)
            XCTAssertLessThanOrEqual(zip(dx.data, grads[-1]!.data).map { abs($0 - $1) }.max()!, 1e-5 * dx.maxAbs, fixture)
        }
    }

    /// Skipping weight gradients changes no input gradient (every convolution path).
    func testInputGradientsWithoutParameterGradientsAreTheSame() throws {
        for fixture in ["residual", "depthwise", "inception"] {
            let graph = try ModelSource(model: Self.graphs.appendingPathComponent("\(fixture).onnx").path).makeGraph()
            let x = try NPY.read(contentsOf: Self.graphs.appendingPathComponent("\(fixture).input.npy"))
            let last = graph.operations.count - 1
            let y = graph.output(x, mode: .evaluationWithGradients)
            var rng = SeededGenerator(seed: 9)
            let seed = Tensor.uniform(shape: y.shape, bound: 1, using: &rng)
            let with = try graph.gradients(seed, from: last, at: [-1], parameterGradients: true)[-1]!
            let layers = graph.operations.compactMap { op -> (any ParameterGradientToggle)? in
                if case let .layer(l) = op { return l as? any ParameterGradientToggle }
                return nil
            }
            XCTAssertTrue(layers.contains { $0 is Conv2D })
            let before = layers.map { $0.parameters.map(\.grad) }
            let without = try graph.gradients(seed, from: last, at: [-1])[-1]!
            XCTAssertLessThanOrEqual(zip(with.data, without.data).map { abs($0 - $1) }.max()!, 1e-6 * with.maxAbs, fixture)
            // The convolutions' and linear layers' parameter gradients were not touched by the second pass.
            let after = layers.map { $0.parameters.map(\.grad) }
            XCTAssertEqual(after, before, fixture)
            XCTAssertTrue(layers.allSatisfy(\.accumulatesParameterGradients), "the setting is restored")
        }
    }

    /// y = W2 relu(W1 x): W1 = [[1, -1], [2, 1]], x = [1, 2] gives h = [-1, 4], y = 3 relu(h1) - relu(h2) = -4.
    /// dy/dh = [0, -1] (plain), guided keeps only positive gradients of active units: [0, 0],
    /// the deconvnet keeps positive gradients whatever the unit: [3, 0]; dx = W1^T dh.
    func testReLURulesByHand() throws {
        let json = #"{"name": "hand", "input": [2, 1, 1], "layers": [{"type": "flatten"}, {"type": "linear", "name": "fc1", "out": 2, "bias": false}, {"type": "relu"}, {"type": "linear", "name": "fc2", "out": 1, "bias": false}]}"#
        let graph = try Architecture(json: Data(json.utf8)).makeGraph()
        try graph.load(["fc1.weight": Tensor(shape: [2, 2], data: [1, -1, 2, 1]), "fc2.weight": Tensor(shape: [1, 2], data: [3, -1])], file: "hand")
        let x = Tensor(shape: [1, 2, 1, 1], data: [1, 2])
        let y = graph.output(x, mode: .evaluationWithGradients)
        XCTAssertEqual(y.data, [-4])
        let seed = Tensor(shape: [1, 1], data: [1])
        func dx(_ rule: ReLURule) throws -> [Float] { try graph.gradients(seed, from: 3, at: [-1], rule: rule)[-1]!.data }
        XCTAssertEqual(try dx(.plain), [-2, -1])
        XCTAssertEqual(try dx(.guided), [0, 0])
        XCTAssertEqual(try dx(.deconvnet), [3, -3])
        XCTAssertEqual(try dx(.redirected), [-2, -1], "a unit passes gradient: the true one")
        // x = [-1, -1]: h = [0, -3], both units dead, the true gradient is zero. Redirected:
        // dh = g = [3, -1], zeroed where it would push a dead unit's input lower (g > 0): [0, -1].
        _ = graph.output(Tensor(shape: [1, 2, 1, 1], data: [-1, -1]), mode: .evaluationWithGradients)
        XCTAssertEqual(try dx(.plain), [0, 0])
        XCTAssertEqual(try dx(.redirected), [-2, -1])
    }

    func testGradientErrorsSayWhy() throws {
        let json = #"{"name": "fork", "input": [1, 4, 4], "layers": [{"type": "conv", "name": "a", "out": 2, "kernel": 3, "padding": 1}, {"type": "relu", "name": "side", "inputs": ["input"]}, {"type": "relu", "name": "b", "inputs": ["a"]}]}"#
        let graph = try Architecture(json: Data(json.utf8)).makeGraph()
        let x = Tensor(shape: [1, 1, 4, 4], repeating: 0.5)
        let seed = Tensor(shape: [1, 2, 4, 4], repeating: 1)
        XCTAssertThrowsError(try graph.gradients(seed, from: 2, at: [-1])) { XCTAssertTrue("\($0)".contains("no recording forward pass"), "\($0)") }
        _ = graph.output(x, mode: .evaluationWithGradients)
        XCTAssertThrowsError(try graph.gradients(seed, from: 2, at: [1])) {
            XCTAssertEqual("\($0)", "no gradient reaches layer 'side' from 'b': its output does not feed 'b'")
        }
        XCTAssertThrowsError(try graph.gradients(Tensor(shape: [2, 2, 4, 4]), from: 2, at: [-1])) { XCTAssertTrue("\($0)".contains("shape"), "\($0)") }
        XCTAssertNoThrow(try graph.gradients(seed, from: 2, at: [-1, 0]))
    }

    /// Issue 23: a graph whose ReLUs were fused trapped on a recording forward pass. Now the
    /// pass runs them unfused: the same gradients as a graph never fused, and inference
    /// afterwards is fused again with the same outputs.
    func testBackwardThroughFusedReLUs() throws {
        let json = #"{"name": "block", "input": [3, 12, 12], "layers": [{"type": "conv", "out": 16, "kernel": 3, "padding": 1}, {"type": "relu", "name": "r1"}, {"type": "conv", "out": 16, "kernel": 3, "padding": 1}, {"type": "relu", "name": "r2"}, {"type": "add", "inputs": ["r1", "r2"]}, {"type": "conv", "out": 8, "kernel": 1, "stride": 2}, {"type": "relu"}, {"type": "globalavgpool"}, {"type": "flatten"}, {"type": "linear", "out": 5}]}"#
        let architecture = try Architecture(json: Data(json.utf8))
        let plain = try architecture.makeGraph(seed: 3), fused = try architecture.makeGraph(seed: 3)
        XCTAssertEqual(fused.fusingActivations(), 3)
        var rng0 = SeededGenerator(seed: 8)
        let x = Tensor.uniform(shape: [2, 3, 12, 12], bound: 1, using: &rng0)
        let last = plain.operations.count - 1
        let y1 = plain.output(x, mode: .evaluationWithGradients), y2 = fused.output(x, mode: .evaluationWithGradients)
        XCTAssertLessThanOrEqual(zip(y1.data, y2.data).map { abs($0 - $1) }.max()!, 1e-5 * y1.maxAbs)
        var rng = SeededGenerator(seed: 1)
        let seed = Tensor.uniform(shape: y1.shape, bound: 1, using: &rng)
        let d1 = plain.inputGradient(seed, from: last), d2 = fused.inputGradient(seed, from: last)
        XCTAssertLessThanOrEqual(zip(d1.data, d2.data).map { abs($0 - $1) }.max()!, 1e-5 * d1.maxAbs)
        let e1 = plain.output(x), e2 = fused.output(x)
        XCTAssertLessThanOrEqual(zip(e1.data, e2.data).map { abs($0 - $1) }.max()!, 1e-5 * e1.maxAbs)
    }

    /// Issue 23: broadcast products built an index array per output element in forward and
    /// backward. Values and gradients by direct loops, every broadcast pattern of rank 4.
    func testBroadcastProductsAndSums() throws {
        let cases: [([Int], [Int])] = [([2, 3, 1, 1], [2, 3, 4, 5]), ([2, 3, 4, 5], [2, 1, 4, 5]), ([2, 1, 4, 1], [1, 3, 1, 5]), ([1, 1, 1, 1], [2, 3, 4, 5])]
        var rng = SeededGenerator(seed: 2)
        for (sa, sb) in cases {
            for operation in [Elementwise.Operation.multiply, .add] {
                let a = Tensor.uniform(shape: sa, bound: 1, using: &rng), b = Tensor.uniform(shape: sb, bound: 1, using: &rng)
                let layer = Elementwise(name: "m", operation)
                let y = layer.forward([a, b], mode: .evaluationWithGradients)
                let out = zip(sa, sb).map { max($0, $1) }
                XCTAssertEqual(y.shape, out)
                let g = Tensor.uniform(shape: out, bound: 1, using: &rng)
                let (da, db) = { let r = layer.backward(g); return (r[0], r[1]) }()
                var ea = Tensor(shape: sa), eb = Tensor(shape: sb)
                func index(_ shape: [Int], _ c: [Int]) -> Int { zip(shape, c).reduce(0) { $0 * $1.0 + ($1.0 == 1 ? 0 : $1.1) } }
                for n in 0..<out[0] { for c in 0..<out[1] { for h in 0..<out[2] { for w in 0..<out[3] {
                    let o = [n, c, h, w], i = ((n * out[1] + c) * out[2] + h) * out[3] + w
                    let ja = index(sa, o), jb = index(sb, o)
                    let want = operation == .multiply ? a.data[ja] * b.data[jb] : a.data[ja] + b.data[jb]
                    XCTAssertEqual(y.data[i], want, accuracy: 1e-6, "\(sa) \(sb) at \(o)")
                    ea.data[ja] += operation == .multiply ? g.data[i] * b.data[jb] : g.data[i]
                    eb.data[jb] += operation == .multiply ? g.data[i] * a.data[ja] : g.data[i]
                }}}}
                for (got, want) in [(da, ea), (db, eb)] {
                    XCTAssertEqual(got.shape, want.shape)
                    XCTAssertLessThanOrEqual(zip(got.data, want.data).map { abs($0 - $1) }.max()!, 1e-5, "\(sa) \(sb) \(operation)")
                }
            }
        }
    }

    /// The squeeze-excitation product on a large map costs about what the same-shape
    /// product costs, within loose bounds: no per-element index arrays (an Int per output
    /// element, twice the output's memory, built element by element).
    func testBroadcastProductCostsAboutAPlainProduct() throws {
        var rng = SeededGenerator(seed: 4)
        let map = Tensor.uniform(shape: [1, 256, 112, 112], bound: 1, using: &rng)
        let scale = Tensor.uniform(shape: [1, 256, 1, 1], bound: 1, using: &rng)
        let layer = Elementwise(name: "se", .multiply)
        func seconds(_ body: () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<3 { let t = Date(); body(); best = min(best, Date().timeIntervalSince(t)) }
            return best
        }
        let broadcast = seconds { _ = layer.forward([scale, map], mode: .evaluation) }
        let plain = seconds { _ = layer.forward([map, map], mode: .evaluation) }
        let backward = seconds { _ = layer.forward([scale, map], mode: .evaluationWithGradients); _ = layer.backward(map) }
        // Loose bounds (a debug build on a loaded machine; the plain product runs on every
        // core, the broadcast one on one): the index arrays took about a second here.
        XCTAssertLessThan(broadcast, 30 * plain + 0.15, "broadcast \(broadcast) s vs plain \(plain) s")
        XCTAssertLessThan(backward, 60 * plain + 0.3, "broadcast backward \(backward) s vs plain forward \(plain) s")
    }
}
