import Foundation
import XCTest
@testable import ConvVizCore

/// Files of 1 MB and more are read through `ONNXMappedModel` (weights converted in place,
/// a tensor at a time): the same initializers as parsing the bytes in memory, the same
/// errors for damaged files, a layout the walk does not know parsed as before, and the
/// file on disk untouched.
extension ONNXImportTests {
    /// The chain model with a 1.2 MB initializer beside its layers.
    func largeChainModel() -> Onnx_ModelProto {
        var m = chainModel()
        m.graph.initializer.append(floats("extra.weight", [300, 1000]))
        return m
    }

    func write(_ data: Data, _ name: String) throws -> URL {
        let url = temporaryDirectory.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func testLargeFileReadInPlaceEqualsTheParsedBytes() throws {
        let data = try bytes(largeChainModel())
        XCTAssertGreaterThanOrEqual(data.count, ONNXMappedModel.minimumSize)
        let url = try write(data, "large.onnx")
        let mapped = try XCTUnwrap(ONNXMappedModel(url))
        XCTAssertEqual(mapped.rawData.count, 7, "every raw_data initializer hidden (two are float_data)")
        let inPlace = try ONNXFile(contentsOf: url), parsed = try ONNXFile(data: data, file: url.path)
        XCTAssertEqual(inPlace.initializerTensors, parsed.initializerTensors)
        XCTAssertEqual(inPlace.initializers["extra.weight"]?.data.last, Float(299_999) * 0.01 - 0.1)
        XCTAssertEqual(try Data(contentsOf: url), data, "the renumbered tags stay in the private mapping")
    }

    func testLargeDamagedFilesGiveTheParsersErrors() throws {
        let data = try bytes(largeChainModel())
        let cut = try write(data.prefix(data.count - 1000), "cut.onnx")
        XCTAssertNil(ONNXMappedModel(cut), "a cut file is not walked")
        XCTAssertEqual(errorText { try ONNXFile(contentsOf: cut) },
                       "\(cut.path): the ONNX model ends inside a protobuf field: the file is cut short")
        var badRaw = largeChainModel()
        badRaw.graph.initializer[8].rawData = Data(count: 10)
        badRaw.graph.initializer.append(floats("extra.bias", [300_000]))
        let bad = try write(try bytes(badRaw), "bad-raw.onnx")
        XCTAssertEqual(errorText { try ONNXFile(contentsOf: bad) },
                       "\(bad.path): tensor 'extra.weight': raw_data has 10 bytes; shape [300, 1000] of FLOAT needs 1200000")
    }

    /// A second graph field (protobuf merges it into the first): the walk leaves the file
    /// alone and the parser reads it as before, here to the same error.
    func testASecondGraphIsLeftToTheParser() throws {
        var data = try bytes(largeChainModel())
        var second = Onnx_ModelProto()
        second.graph.initializer = [floats("extra.weight", [300, 1000])]
        data.append(try second.serializedBytes())
        let url = try write(data, "two-graphs.onnx")
        XCTAssertNil(ONNXMappedModel(url))
        let inMemory = errorText { try ONNXFile(data: data, file: url.path) }
        XCTAssertEqual(errorText { try ONNXFile(contentsOf: url) }, inMemory)
        XCTAssertEqual(inMemory, "\(url.path): initializer 'extra.weight' is given twice")
    }
}
