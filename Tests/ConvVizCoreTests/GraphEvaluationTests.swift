import XCTest
@testable import ConvVizCore

/// Graphs exported from PyTorch (`scripts/make_graph_fixtures.py`): every layer's output
/// against onnxruntime's value of the same ONNX tensor, under the golden rule
/// |got - ref| <= 1e-4 max|ref| + 1e-4 |ref|.
final class GraphEvaluationTests: XCTestCase {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/graphs") }
    static let fixtures = ["residual", "residual.opset11", "residual.opset17", "depthwise", "inception", "squeeze_excitation", "misaligned", "assorted"]

    func file(_ name: String) -> URL { Self.directory.appendingPathComponent(name) }

    /// The fixture's base name (`residual.opset11` shares `residual`'s input and outputs).
    func base(_ fixture: String) -> String { String(fixture.split(separator: ".")[0]) }

    func assertClose(_ got: Tensor, _ ref: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, ref.count, "\(label): \(got.shape) vs \(ref.shape)", file: file, line: line)
        guard got.count == ref.count else { return }
        let scale = ref.maxAbs
        var worst: Float = 0
        for (a, b) in zip(got.data, ref.data) {
            let excess = abs(a - b) - (1e-4 * scale + 1e-4 * abs(b))
            worst = max(worst, excess)
        }
        XCTAssertLessThanOrEqual(worst, 0, "\(label): beyond the golden rule by \(worst) (max|ref| \(scale))", file: file, line: line)
    }

    func testEveryLayerMatchesOnnxruntime() throws {
        for fixture in Self.fixtures {
            let source = try ModelSource(model: file("\(fixture).onnx").path)
            let graph = try source.makeGraph()
            let x = try NPY.read(contentsOf: file("\(base(fixture)).input.npy"))
            let values = graph.forward(x, mode: .evaluation, keep: Set(graph.operations.indices))
            let reference = try SafeTensorsFile(contentsOf: file("\(base(fixture)).outputs.safetensors"))
            var compared = Set<Int>()
            for name in reference.names {
                guard let index = source.architecture.index(ofLayer: name) else { continue }   // Clip's constant bounds
                assertClose(values[index]!, try reference.tensor(name), "\(fixture) \(name)")
                compared.insert(index)
            }
            XCTAssertEqual(compared.count, graph.operations.count, "\(fixture): every layer compared")
        }
    }

    func testParameterCountsMatchPyTorch() throws {
        for fixture in Self.fixtures {
            let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: file("\(base(fixture)).json"))) as! [String: Any]
            let table = try ShapeTable(try ModelSource(model: file("\(fixture).onnx").path).architecture)
            XCTAssertEqual(table.totalParams, sidecar["torch_params"] as? Int, fixture)
        }
    }

    /// The same block written as architecture JSON, with PyTorch's state dict.
    func testArchitectureJSONWithStateDict() throws {
        let source = try ModelSource(model: file("residual.architecture.json").path, weights: file("residual.weights.safetensors").path)
        XCTAssertFalse(source.architecture.isChain)
        let graph = try source.makeGraph()
        let y = graph.output(try NPY.read(contentsOf: file("residual.input.npy")))
        assertClose(y, try SafeTensorsFile(contentsOf: file("residual.outputs.safetensors")).tensor("output"), "residual JSON")
        XCTAssertEqual(try ShapeTable(source.architecture).totalParams, 909)
    }

    /// Input gradients through the branches against central differences of the graph.
    func testInputGradientThroughBranches() throws {
        for fixture in ["residual", "inception", "squeeze_excitation", "depthwise"] {
            let graph = try ModelSource(model: file("\(fixture).onnx").path).makeGraph()
            var x = try NPY.read(contentsOf: file("\(base(fixture)).input.npy"))
            x = Tensor(shape: [1] + Array(x.shape.dropFirst()), data: Array(x.data.prefix(x.count / x.shape[0])))
            let out = graph.output(x, mode: .evaluationWithGradients)
            var rng = SeededGenerator(seed: 3)
            let weights = Tensor.uniform(shape: out.shape, bound: 1, using: &rng)
            let dx = graph.inputGradient(weights, from: graph.operations.count - 1)
            func loss(_ input: Tensor) -> Double {
                let y = graph.output(input)
                return zip(y.data, weights.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            // Float32 forward passes limit a central difference to about 3e-5 here (and a
            // ReLU or max-pool kink crossed within the step adds to it); a gradient that
            // misses a branch is off by the size of the gradient itself.
            let scale = Double(dx.maxAbs)
            for i in stride(from: 0, to: x.count, by: max(1, x.count / 40)) {
                var plus = x, minus = x
                let h: Float = 1e-3
                plus.data[i] += h; minus.data[i] -= h
                let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
                XCTAssertEqual(Double(dx.data[i]), numeric, accuracy: 2e-3 * scale + 5e-5, "\(fixture) input[\(i)]: gradient vs finite difference")
            }
        }
    }

    /// Shapes of an absurd description are computed without weights; building it is refused
    /// before anything is allocated.
    func testAbsurdSizesAreCountedNotAllocated() throws {
        let json = #"{"name": "huge", "input": [3, 64, 64], "layers": [{"type": "conv", "out": 999999999, "kernel": 9}, {"type": "flatten"}, {"type": "linear", "out": 999999999}]}"#
        let architecture = try Architecture(json: Data(json.utf8))
        let table = try ShapeTable(architecture)
        XCTAssertEqual(table.rows[0].params, 999_999_999 * 3 * 9 * 9 + 999_999_999)
        XCTAssertEqual(table.totalParams, Int.max, "saturates instead of trapping")
        XCTAssertThrowsError(try architecture.makeGraph()) { XCTAssertTrue("\($0)".contains("at most"), "\($0)") }
    }

    /// A squeeze-excitation gate [C, 1, 1] gives every unit the whole image as context;
    /// position (jump, centre) and the local field come from the spatial path.
    func testSqueezeExcitationKeepsTheLocalField() throws {
        let table = try ShapeTable(try ModelSource(model: file("squeeze_excitation.onnx").path).architecture)
        let scaled = try XCTUnwrap(table.rows.first { $0.name == "/Mul" })
        XCTAssertEqual(scaled.receptiveField, [12, 12], "the gate saw the whole 12x12 input")
        XCTAssertEqual(scaled.localReceptiveField, [3, 3])
        XCTAssertEqual(scaled.jump, [1, 1])
        XCTAssertEqual(scaled.center, [0, 0])
        XCTAssertTrue(scaled.hasGlobalContext && scaled.isAligned)
        XCTAssertEqual(table.field(row: table.rows.count - 1, unit: (5, 5)).y0, 4, "boxes use the local field")
    }

    /// PyTorch's module paths name layers of an exported model: a module is its last node.
    func testModulePathsAreAliases() throws {
        XCTAssertEqual(ONNXGraphBuilder.modulePaths("/layer2/layer2.0/relu_1/Relu").scopes, ["layer2", "layer2.0", "layer2.0.relu_1"])
        XCTAssertEqual(ONNXGraphBuilder.modulePaths("/features/features.0/features.0.2/Clip").scopes, ["features", "features.0", "features.0.2"])
        XCTAssertEqual(ONNXGraphBuilder.modulePaths("/Add_1").op, "add")
        let architecture = try ModelSource(model: file("residual.onnx").path).architecture
        func name(_ alias: String) -> String? { architecture.index(ofLayer: alias).map { architecture.layers[$0].name! } }
        XCTAssertEqual(name("relu_1"), "/relu_1/Relu")
        XCTAssertEqual(name("downsample"), "downsample.1", "a Sequential's output is its last layer")
        XCTAssertEqual(name("add"), "/Add")
        XCTAssertEqual(name("conv1"), "conv1")
    }

    func testMisalignedBranchesAreReported() throws {
        let table = try ShapeTable(try ModelSource(model: file("misaligned.onnx").path).architecture)
        let add = try XCTUnwrap(table.rows.last)
        XCTAssertFalse(add.isAligned)
        let byName = Dictionary(uniqueKeysWithValues: add.misalignedBranches.map { ($0.from, $0) })
        // Hand-derived in scripts/make_graph_fixtures.py.
        XCTAssertEqual(byName["a2"]?.receptiveField, [5, 5]); XCTAssertEqual(byName["a2"]?.jump, [2, 2]); XCTAssertEqual(byName["a2"]?.center, [2, 2])
        XCTAssertEqual(byName["b2"]?.receptiveField, [7, 1]); XCTAssertEqual(byName["b2"]?.jump, [3, 3]); XCTAssertEqual(byName["b2"]?.center, [0, 0])
        XCTAssertEqual(add.receptiveField, [7, 5], "the maximum over the branches")
        XCTAssertTrue(table.render(.table).contains("/Add: branches disagree"))
        // Aligned junctions are not flagged: the residual block's add.
        let residual = try ShapeTable(try ModelSource(model: file("residual.onnx").path).architecture)
        XCTAssertTrue(residual.rows.allSatisfy(\.isAligned))
        XCTAssertEqual(residual.rows.first { $0.type == "add" }?.receptiveField, [7, 7])
    }
}
