import ConvVizCore
import Foundation
import XCTest

/// Other people's models through the command line: ONNX files and architecture JSON with
/// a PyTorch state dict, on the graphs `scripts/make_graph_fixtures.py` exported.
final class ExternalModelTests: XCTestCase {
    func convviz(_ args: [String]) throws -> ConvVizProcess.Run { try ConvVizProcess.run(args) }

    var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    func fixture(_ name: String) -> String { repository.appendingPathComponent("Tests/ConvVizCoreTests/Fixtures/graphs/\(name)").path }
    var photo: String { repository.appendingPathComponent("Sources/ConvVizCore/Resources/samples/chelsea.png").path }

    var temp: URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-external-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func testShapesOfAnOnnxModelCountParametersAsPyTorch() throws {
        for name in ["residual", "depthwise", "inception", "squeeze_excitation", "assorted"] {
            let r = try convviz(["shapes", fixture("\(name).onnx"), "--format", "json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("\(name).json")))) as! [String: Any]
            XCTAssertEqual(json["total_params"] as? Int, sidecar["torch_params"] as? Int, name)
            let layers = json["layers"] as! [[String: Any]]
            XCTAssertTrue(layers.allSatisfy { ["name", "type", "output", "params", "macs", "receptive_field", "jump", "center"].allSatisfy($0.keys.contains) })
        }
        let misaligned = try convviz(["shapes", fixture("misaligned.onnx")])
        XCTAssertTrue(misaligned.stdout.contains("* /Add: branches disagree"), misaligned.stdout)
    }

    /// `--input` feeds the array as it is; `--layer` takes an ONNX value name; the saved
    /// maps equal onnxruntime's.
    func testActivationsSaveTheValuesOnnxruntimeComputes() throws {
        let maps = temp.appendingPathComponent("maps.npy").path, png = temp.appendingPathComponent("maps.png").path
        let reference = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: fixture("residual.outputs.safetensors")))
        for (layer, value) in [("/relu/Relu_output_0", "/relu/Relu_output_0"), ("/Add", "/Add_output_0"), ("layer:bn2", "/bn2/BatchNormalization_output_0")] {
            let name = layer.hasPrefix("layer:") ? String(layer.dropFirst(6)) : layer
            let r = try convviz(["activations", "--model", fixture("residual.onnx"), "--input", fixture("residual.input.npy"),
                                 "--layer", name, "--save-maps", maps, "-o", png])
            XCTAssertEqual(r.status, 0, r.stderr)
            let got = try NPY.read(contentsOf: URL(fileURLWithPath: maps)), want = try reference.tensor(value)
            XCTAssertEqual(got.shape, want.shape)
            let scale = want.maxAbs
            for (a, b) in zip(got.data, want.data) { XCTAssertLessThanOrEqual(abs(a - b), 1e-4 * scale + 1e-4 * abs(b)) }
        }
        // The last layer is flat: the values are saved, no figure is drawn, and that is said.
        let logits = try convviz(["activations", "--model", fixture("residual.onnx"), "--input", fixture("residual.input.npy"),
                                  "--layer", "output", "--save-maps", maps, "-o", png])
        XCTAssertEqual(logits.status, 0, logits.stderr)
        XCTAssertTrue(logits.stderr.contains("no figure"), logits.stderr)
        XCTAssertEqual(try NPY.read(contentsOf: URL(fileURLWithPath: maps)).shape, [2, 5])
        // A photo is resized and standardized (ImageNet's statistics for an ONNX model), and the figure says so.
        let svg = temp.appendingPathComponent("photo.svg").path
        let photoRun = try convviz(["activations", "--model", fixture("residual.onnx"), "--image", photo, "--layer", "conv1", "-o", svg])
        XCTAssertEqual(photoRun.status, 0, photoRun.stderr)
        XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).contains("ImageNet mean and std"))
    }

    func testArchitectureJSONWithStateDictMatchesTheOnnxModel() throws {
        let maps = temp.appendingPathComponent("json-maps.npy").path
        let r = try convviz(["activations", "--model", fixture("residual.architecture.json"), "--weights", fixture("residual.weights.safetensors"),
                             "--input", fixture("residual.input.npy"), "--layer", "relu.1", "--save-maps", maps, "-o", temp.appendingPathComponent("j.png").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let want = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: fixture("residual.outputs.safetensors"))).tensor("/relu_1/Relu_output_0")
        let got = try NPY.read(contentsOf: URL(fileURLWithPath: maps))
        for (a, b) in zip(got.data, want.data) { XCTAssertLessThanOrEqual(abs(a - b), 1e-4 * want.maxAbs + 1e-4 * abs(b)) }
        // A state dict that does not fit is refused by name.
        let wrong = try convviz(["activations", "--model", fixture("residual.architecture.json"), "--weights", fixture("depthwise.weights.safetensors"),
                                 "--input", fixture("residual.input.npy"), "--layer", "fc", "-o", temp.appendingPathComponent("w.png").path])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("depthwise.weights.safetensors") && wrong.stderr.contains("conv1.weight"), wrong.stderr)
    }

    func testFiguresOfAnOnnxModel() throws {
        let dir = temp
        let commands: [[String]] = [
            ["filters", fixture("residual.onnx") + ":conv1.weight", "-o", dir.appendingPathComponent("filters.png").path],
            ["filters", "--model", fixture("residual.architecture.json"), "--weights", fixture("residual.weights.safetensors"),
             "--layer", "downsample.0", "-o", dir.appendingPathComponent("filters-json.svg").path],
            ["receptive-field", "--model", fixture("residual.onnx"), "--image", photo, "--samples", "2", "-o", dir.appendingPathComponent("rf.svg").path],
            ["rf-growth", "--model", fixture("residual.onnx"), "-o", dir.appendingPathComponent("growth.svg").path],
            ["volumes", fixture("depthwise.onnx"), "-o", dir.appendingPathComponent("volumes.svg").path],
        ]
        for args in commands {
            let r = try convviz(args)
            XCTAssertEqual(r.status, 0, "\(args[0]): \(r.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: args.last!), args[0])
        }
        let mosaic = try String(contentsOfFile: dir.appendingPathComponent("filters-json.svg").path, encoding: .utf8)
        XCTAssertTrue(mosaic.contains("downsample.0.weight 8×3×1×1"), "the layer's weight, by the layer's name")
        // The depthwise filters are drawn one input channel deep.
        let volumes = try String(contentsOfFile: dir.appendingPathComponent("volumes.svg").path, encoding: .utf8)
        XCTAssertTrue(volumes.contains("16×1×3×3"), "depthwise.0's filters are 16x1x3x3")
    }

    func testFoldingAnOnnxModelKeepsItsOutputs() throws {
        let folded = temp.appendingPathComponent("folded.safetensors").path
        let r = try convviz(["fold-bn", "--model", fixture("residual.onnx"), "-o", folded])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("folded 3 BatchNorm"), r.stdout)
        let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: folded))
        let architecture = try Architecture(json: Data(try XCTUnwrap(file.metadata["convviz.architecture"]).utf8))
        XCTAssertFalse(architecture.layers.contains { $0.kind == .batchnorm })
        var weights: [String: Tensor] = [:]
        for name in file.names { weights[name] = try file.tensor(name) }
        let graph = try architecture.makeGraph()
        try graph.load(weights, file: folded)
        let y = graph.output(try NPY.read(contentsOf: URL(fileURLWithPath: fixture("residual.input.npy"))))
        let want = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: fixture("residual.outputs.safetensors"))).tensor("output")
        for (a, b) in zip(y.data, want.data) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(want.maxAbs, 1)) }
        // The folded file is a model the other commands take, ONNX names and all.
        let maps = temp.appendingPathComponent("folded-out.npy").path
        let run = try convviz(["activations", "--model", folded, "--input", fixture("residual.input.npy"), "--layer", "output",
                               "--save-maps", maps, "-o", temp.appendingPathComponent("folded.png").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        for (a, b) in zip(try NPY.read(contentsOf: URL(fileURLWithPath: maps)).data, want.data) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(want.maxAbs, 1)) }
    }

    func testOtherFormatsAreNamedPlainly() throws {
        let out = temp.appendingPathComponent("x.png").path
        for pickle in ["pickle.pt", "legacy-pickle.pth"] {
            for args in [["shapes", fixture(pickle)], ["filters", fixture(pickle), "-o", out],
                         ["activations", "--model", fixture("residual.architecture.json"), "--weights", fixture(pickle), "--input", fixture("residual.input.npy"), "--layer", "fc", "-o", out]] {
                let r = try convviz(args)
                XCTAssertNotEqual(r.status, 0)
                XCTAssertTrue(r.stderr.contains("PyTorch pickle checkpoints are not read; save a state dict with safetensors.torch.save_file or export with torch.onnx.export"), "\(args[0]) \(pickle): \(r.stderr)")
                XCTAssertFalse(r.stderr.contains("safetensors header"), r.stderr)
            }
        }
        let unsupported = try convviz(["shapes", fixture("unsupported-op.onnx")])
        XCTAssertNotEqual(unsupported.status, 0)
        XCTAssertTrue(unsupported.stderr.contains("/attention/Einsum") && unsupported.stderr.contains("Einsum"), unsupported.stderr)
        let external = try convviz(["shapes", fixture("external-data.onnx")])
        XCTAssertNotEqual(external.status, 0)
        XCTAssertTrue(external.stderr.contains("external"), external.stderr)
        let noise = temp.appendingPathComponent("noise.bin")
        try Data((0..<256).map { UInt8(($0 * 73 + 11) % 256) }).write(to: noise)
        let unknown = try convviz(["shapes", noise.path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown"), unknown.stderr)
        XCTAssertFalse(unknown.stderr.contains("corrupt"), unknown.stderr)
    }
}
