import Foundation
import XCTest
@testable import ConvVizCore

final class ArchitectureTests: XCTestCase {
    func parse(_ json: String) throws -> Architecture { try Architecture(json: Data(json.utf8)) }

    func testSmallConvNetShapesAndNames() throws {
        let arch = Architecture.smallConvNet()
        let model = try arch.makeModel(seed: 0)
        XCTAssertEqual(model.layerShapes.last, [10])
        XCTAssertEqual(model.layerShapes[3], [32, 14, 14])
        XCTAssertEqual(model.layerShapes[8], [3136])
        XCTAssertEqual(model.namedParameters.map(\.name), [
            "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
            "conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
            "fc.weight", "fc.bias"])
    }

    func testDefaultsPairsAndRoundTrip() throws {
        let arch = try parse("""
        {"name": "t", "input": [3, 32, 32], "layers": [
          {"type": "conv", "out": 8, "kernel": [3, 5], "padding": [1, 2]},
          {"type": "groupnorm", "groups": 4}, {"type": "relu"},
          {"type": "maxpool", "kernel": 2},
          {"type": "conv", "out": 4, "kernel": 3, "dilation": 2, "bias": false},
          {"type": "avgpool", "kernel": 3, "stride": 1, "padding": 1, "count_include_pad": false},
          {"type": "flatten"}, {"type": "linear", "out": 5}, {"type": "linear", "out": 2}]}
        """)
        XCTAssertEqual(arch.layers.map { $0.name! }, ["conv1", "gn1", "relu1", "pool1", "conv2", "avgpool1", "flatten1", "fc1", "fc2"])
        XCTAssertEqual(arch.layers[3].window?.stride, Pair(2), "pool stride defaults to the kernel")
        let shapes = try arch.shapes()
        XCTAssertEqual(shapes[0], [8, 32, 32])
        XCTAssertEqual(shapes[4], [4, 12, 12])
        XCTAssertEqual(shapes[5], [4, 12, 12])
        XCTAssertEqual(try Architecture(json: arch.jsonData()), arch)
    }

    func testErrorsNameTheLayer() {
        XCTAssertThrowsError(try parse(#"{"input": [1, 8, 8], "layers": [{"type": "conv", "name": "c1", "out": 2, "kernal": 3}]}"#)) {
            XCTAssertEqual($0 as? ArchitectureError, .unknownKey(layer: "c1", key: "kernal"))
        }
        XCTAssertThrowsError(try parse(#"{"input": [1, 8, 8], "layers": [{"type": "convolution"}]}"#)) {
            XCTAssertEqual($0 as? ArchitectureError, .unknownType(layer: "#0", type: "convolution"))
        }
        XCTAssertThrowsError(try parse(#"{"input": [1, 8, 8], "layers": [{"type": "conv", "out": 2}]}"#).makeModel(seed: 0)) {
            XCTAssertEqual($0 as? ArchitectureError, .missingKey(layer: "conv1", key: "kernel"))
        }
        XCTAssertThrowsError(try parse(#"{"input": [1, 4, 4], "layers": [{"type": "conv", "out": 2, "kernel": 7}]}"#).makeModel(seed: 0)) {
            XCTAssert("\($0)".contains("conv1"), "\($0)")
        }
        XCTAssertThrowsError(try parse(#"{"input": [1, 8, 8], "layers": [{"type": "relu", "name": "a"}, {"type": "relu", "name": "a"}]}"#).makeModel(seed: 0)) {
            XCTAssertEqual($0 as? ArchitectureError, .duplicateName("a"))
        }
    }

    func testNormalizationSwap() throws {
        let arch = Architecture.smallConvNet().replacingBatchNorm(with: .group(4))
        XCTAssertEqual(arch.layers.filter { $0.kind == .groupnorm }.map { $0.name! }, ["gn1", "gn2"])
        XCTAssertNoThrow(try arch.makeModel(seed: 0))
        XCTAssertFalse(Architecture.smallConvNet().replacingBatchNorm(with: .none).layers.contains { $0.kind == .batchnorm })
    }
}
