import Foundation
import XCTest
@testable import ConvVizCore

/// Small ONNX models built here with the generated protobuf types, read back through
/// `ONNXFile` and `ONNXImport`, and hostile files for the ONNX reader and `WeightsSource`.
final class ONNXImportTests: XCTestCase {
    // MARK: Building models

    enum Dim { case fixed(Int), symbolic(String) }

    func floats(_ name: String, _ shape: [Int], _ values: [Float]? = nil, raw: Bool = true) -> Onnx_TensorProto {
        let count = shape.reduce(1, *)
        let v = values ?? (0..<count).map { Float($0) * 0.01 - 0.1 }
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        if raw {
            var data = Data()
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            t.rawData = data
        } else {
            t.floatData = v
        }
        return t
    }

    func int64s(_ name: String, _ values: [Int64], raw: Bool = false) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        if raw {
            var data = Data()
            for x in values { withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) } }
            t.rawData = data
        } else {
            t.int64Data = values
        }
        return t
    }

    func attr(_ name: String, _ value: Any) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        switch value {
        case let v as Int: a.type = .int; a.i = Int64(v)
        case let v as Float: a.type = .float; a.f = v
        case let v as Double: a.type = .float; a.f = Float(v)
        case let v as [Int]: a.type = .ints; a.ints = v.map(Int64.init)
        case let v as String: a.type = .string; a.s = Data(v.utf8)
        case let v as Onnx_TensorProto: a.type = .tensor; a.t = v
        default: fatalError("test attribute \(value)")
        }
        return a
    }

    func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String]? = nil, _ attrs: [String: Any] = [:]) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name
        n.input = inputs
        n.output = outputs ?? [name + "_output_0"]
        n.attribute = attrs.sorted { $0.key < $1.key }.map { attr($0.key, $0.value) }
        return n
    }

    func valueInfo(_ name: String, _ dims: [Dim]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case let .fixed(n): dim.dimValue = Int64(n)
            case let .symbolic(s): dim.dimParam = s
            }
            return dim
        }
        t.shape = shape
        v.type.tensorType = t
        return v
    }

    func model(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto], input: Onnx_ValueInfoProto? = nil,
               output: String, opset: Int64 = 17) -> Onnx_ModelProto {
        var g = Onnx_GraphProto()
        g.name = "main_graph"
        g.node = nodes
        g.initializer = initializers
        g.input = [input ?? valueInfo("x", [.symbolic("batch"), .fixed(3), .fixed(8), .fixed(8)])]
        var out = Onnx_ValueInfoProto()
        out.name = output
        g.output = [out]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "pytorch"
        m.producerVersion = "2.5.1"
        m.graph = g
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        m.opsetImport = [opsetID]
        return m
    }

    func bytes(_ m: Onnx_ModelProto) throws -> Data { try m.serializedBytes() }

    func importing(_ m: Onnx_ModelProto) throws -> ONNXImport {
        try ONNXImport(try ONNXFile(data: try bytes(m), file: "m.onnx"))
    }

    /// The exact text of the error `body` throws.
    func errorText(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch let e as ReadError { return e.description } catch let e as ONNXImportError {
            return e.description
        } catch { return "other error: \(error)" }
    }

    var temporaryDirectory: URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// conv(3->4, 3x3, pad 1) -> bn -> relu -> maxpool 2 -> flatten -> gemm(64->10), named as
    /// torch.onnx.export names a PyTorch module's nodes and initializers.
    func chainModel() -> Onnx_ModelProto {
        model([
            node("Conv", "/conv1/Conv", ["x", "conv1.weight", "conv1.bias"], nil,
                 ["kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1], "dilations": [1, 1], "group": 1]),
            node("BatchNormalization", "/bn1/BatchNormalization",
                 ["/conv1/Conv_output_0", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"], nil,
                 ["epsilon": Float(1e-5), "momentum": Float(0.9)]),
            node("Relu", "/relu/Relu", ["/bn1/BatchNormalization_output_0"]),
            node("MaxPool", "/pool/MaxPool", ["/relu/Relu_output_0"], nil, ["kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0], "ceil_mode": 0]),
            node("Flatten", "/Flatten", ["/pool/MaxPool_output_0"], nil, ["axis": 1]),
            node("Gemm", "/fc/Gemm", ["/Flatten_output_0", "fc.weight", "fc.bias"], ["logits"], ["alpha": Float(1), "beta": Float(1), "transB": 1]),
        ], [
            floats("conv1.weight", [4, 3, 3, 3]), floats("conv1.bias", [4]),
            floats("bn1.weight", [4], [1, 2, 3, 4]), floats("bn1.bias", [4]), floats("bn1.running_mean", [4], raw: false),
            floats("bn1.running_var", [4], [1, 1, 1, 1], raw: false),
            floats("fc.weight", [10, 64]), floats("fc.bias", [10]),
        ], output: "logits")
    }

    // MARK: Architecture

    func testChainBecomesLayersNamedAsPyTorch() throws {
        let imported = try importing(chainModel())
        let arch = imported.architecture
        XCTAssertEqual(arch.input, [3, 8, 8])
        XCTAssertEqual(arch.name, "m")
        XCTAssertEqual(arch.layers.map(\.kind), [.conv, .batchnorm, .relu, .maxpool, .flatten, .linear])
        XCTAssertEqual(arch.layers.map(\.name), ["conv1", "bn1", "/relu/Relu", "/pool/MaxPool", "/Flatten", "fc"])
        XCTAssertEqual(arch.layers.map(\.inputs), [["input"], ["conv1"], ["bn1"], ["/relu/Relu"], ["/pool/MaxPool"], ["/Flatten"]])
        let conv = arch.layers[0]
        XCTAssertEqual(conv.out, 4)
        XCTAssertEqual(conv.kernel, Pair(3))
        XCTAssertEqual(conv.stride, Pair(1))
        XCTAssertEqual(conv.padding, Pair(1))
        XCTAssertEqual(conv.dilation, Pair(1))
        XCTAssertEqual(conv.groups, 1)
        XCTAssertEqual(conv.bias, true)
        XCTAssertEqual(arch.layers[1].eps, 1e-5)
        XCTAssertEqual(arch.layers[1].momentum ?? 0, 0.1, accuracy: 1e-6)
        XCTAssertEqual(arch.layers[3].kernel, Pair(2))
        XCTAssertEqual(arch.layers[3].stride, Pair(2))
        XCTAssertEqual(arch.layers[3].padding, Pair(0))
        XCTAssertEqual(arch.layers[3].ceilMode, false)
        XCTAssertEqual(arch.layers[5].out, 10)
        XCTAssertEqual(try arch.shapes(), [[4, 8, 8], [4, 8, 8], [4, 8, 8], [4, 4, 4], [64], [10]])

        // Aliases: node names and output names, and the graph input.
        XCTAssertEqual(arch.aliases["x"], "input")
        XCTAssertEqual(arch.aliases["/conv1/Conv"], "conv1")
        XCTAssertEqual(arch.aliases["/conv1/Conv_output_0"], "conv1")
        XCTAssertEqual(arch.aliases["/relu/Relu_output_0"], "/relu/Relu")
        XCTAssertEqual(arch.aliases["logits"], "fc")
        XCTAssertEqual(arch.index(ofLayer: "/relu/Relu_output_0"), 2)
        XCTAssertEqual(arch.index(ofLayer: "/bn1/BatchNormalization"), 1)

        // Weights keyed as PyTorch's state dict, ready for Graph.load.
        XCTAssertEqual(Set(imported.weights.keys), ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                                    "bn1.running_var", "fc.weight", "fc.bias"])
        XCTAssertEqual(imported.weights["conv1.weight"]?.shape, [4, 3, 3, 3])
        XCTAssertEqual(imported.weights["conv1.weight"]?.data[1] ?? 0, -0.09, accuracy: 1e-7)
        XCTAssertEqual(imported.weights["bn1.weight"]?.data, [1, 2, 3, 4])
        XCTAssertEqual(imported.weights["bn1.running_var"]?.data, [1, 1, 1, 1])
        XCTAssertEqual(imported.weights["fc.weight"]?.shape, [10, 64])
        let graph = try arch.makeGraph()
        try graph.load(imported.weights, file: "m.onnx")
    }

    func testGemmWithoutTransBIsTransposed() throws {
        let m = model([
            node("Flatten", "/Flatten", ["x"]),
            node("Gemm", "/fc/Gemm", ["/Flatten_output_0", "fc.weight", "fc.bias"], ["y"]),  // transB = 0: B is [in, out]
        ], [floats("fc.weight", [192, 2], (0..<384).map(Float.init)), floats("fc.bias", [1, 2], [5, 6])], output: "y")
        let imported = try importing(m)
        XCTAssertEqual(imported.architecture.layers.map(\.kind), [.flatten, .linear])
        let w = try XCTUnwrap(imported.weights["fc.weight"])
        XCTAssertEqual(w.shape, [2, 192])
        XCTAssertEqual(Array(w.data.prefix(3)), [0, 2, 4])      // row 0 = column 0 of B
        XCTAssertEqual(Array(w.data[192..<195]), [1, 3, 5])     // row 1 = column 1 of B
        XCTAssertEqual(imported.weights["fc.bias"], Tensor(shape: [2], data: [5, 6]))

        var alpha = m
        alpha.graph.node[1].attribute = [attr("alpha", Float(2))]
        XCTAssertEqual(errorText { try self.importing(alpha) }, "m.onnx: node '/fc/Gemm' (Gemm): ConvViz does not run this operation (alpha 2.0; ConvViz imports alpha=1)")
    }

    func testMatMulThenAddIsOneLinear() throws {
        let m = model([
            node("Flatten", "/Flatten", ["x"]),
            node("MatMul", "/fc/MatMul", ["/Flatten_output_0", "onnx::MatMul_7"]),
            node("Add", "/fc/Add", ["fc.bias", "/fc/MatMul_output_0"], ["y"]),
        ], [floats("onnx::MatMul_7", [192, 3], (0..<576).map(Float.init)), floats("fc.bias", [3], [1, 2, 3])], output: "y")
        let arch = try importing(m).architecture
        XCTAssertEqual(arch.layers.map(\.kind), [.flatten, .linear])
        XCTAssertEqual(arch.layers[1].name, "/fc/MatMul")
        XCTAssertEqual(arch.layers[1].bias, true)
        XCTAssertEqual(arch.aliases["/fc/Add"], "/fc/MatMul")
        XCTAssertEqual(arch.aliases["y"], "/fc/MatMul")
        let weights = try importing(m).weights
        XCTAssertEqual(weights["/fc/MatMul.weight"]?.shape, [3, 192])
        XCTAssertEqual(Array(weights["/fc/MatMul.weight"]!.data.prefix(2)), [0, 3])
        XCTAssertEqual(weights["/fc/MatMul.bias"]?.data, [1, 2, 3])
    }

    func testResidualAddAndConcat() throws {
        let m = model([
            node("Conv", "/a/Conv", ["x", "a.weight"], nil, ["kernel_shape": [3, 3], "pads": [1, 1, 1, 1]]),
            node("Relu", "/a/Relu", ["/a/Conv_output_0"]),
            node("Conv", "/b/Conv", ["/a/Relu_output_0", "b.weight", "b.bias"], nil, ["auto_pad": "SAME_UPPER"]),
            node("Add", "/Add", ["/a/Relu_output_0", "/b/Conv_output_0"]),
            node("Concat", "/Concat", ["/Add_output_0", "x"], nil, ["axis": 1]),
            node("Conv", "/dw/Conv", ["/Concat_output_0", "dw.weight"], ["y"], ["group": 6, "strides": [2, 2]]),
        ], [floats("a.weight", [3, 3, 3, 3]), floats("b.weight", [3, 3, 3, 3]), floats("b.bias", [3]),
            floats("dw.weight", [6, 1, 1, 1])], output: "y")
        let arch = try importing(m).architecture
        XCTAssertEqual(arch.layers.map(\.kind), [.conv, .relu, .conv, .add, .concat, .conv])
        XCTAssertEqual(arch.layers.map(\.name), ["a", "/a/Relu", "b", "/Add", "/Concat", "dw"])
        XCTAssertEqual(arch.layers[3].inputs, ["/a/Relu", "b"])
        XCTAssertEqual(arch.layers[4].inputs, ["/Add", "input"])
        XCTAssertEqual(arch.layers[0].bias, false)
        XCTAssertEqual(arch.layers[2].padding, Pair(1))  // SAME_UPPER, 3x3 stride 1: symmetric
        XCTAssertEqual(arch.layers[5].groups, 6)
        XCTAssertEqual(arch.layers[5].stride, Pair(2))
        XCTAssertEqual(try arch.shapes().last, [6, 4, 4])
        XCTAssertFalse(arch.isChain)
    }

    func testClipWithConstantInputs() throws {
        let six = { () -> Onnx_NodeProto in
            var n = self.node("Constant", "/Constant", [], ["six"])
            n.attribute = [self.attr("value", self.floats("", [], [6]))]
            return n
        }()
        let m = model([
            six,
            node("Clip", "/act/Clip", ["x", "zero", "six"]),
            node("Clip", "/clamp/Clip", ["/act/Clip_output_0", "minus1", ""]),
            node("GlobalAveragePool", "/pool/GlobalAveragePool", ["/clamp/Clip_output_0"], ["y"]),
        ], [floats("zero", [], [0]), floats("minus1", [], [-1])], output: "y")
        let arch = try importing(m).architecture
        XCTAssertEqual(arch.layers.map(\.kind), [.relu6, .clip, .globalavgpool])
        XCTAssertEqual(arch.layers[1].min, -1)
        XCTAssertNil(arch.layers[1].max)
        XCTAssertNil(arch.aliases["six"])  // folded: no layer
        XCTAssertEqual(try arch.shapes().last, [3, 1, 1])
    }

    func testReshapeToBatchByMinusOneIsFlatten() throws {
        func reshape(_ shape: [Int64]) -> Onnx_ModelProto {
            model([node("Reshape", "/Reshape", ["x", "shape"], ["y"])], [int64s("shape", shape, raw: true)], output: "y")
        }
        for ok in [[1, -1], [-1, 192], [0, -1], [1, 192]] as [[Int64]] {
            let arch = try importing(reshape(ok)).architecture
            XCTAssertEqual(arch.layers.map(\.kind), [.flatten], "\(ok)")
            XCTAssertEqual(try arch.shapes(), [[192]])
        }
        XCTAssertEqual(errorText { try self.importing(reshape([1, 3, 64])) },
                       "m.onnx: node '/Reshape' (Reshape): ConvViz does not run this operation (a reshape of [N, 3, 8, 8] to [1, 3, 64]; ConvViz imports a Reshape only as a flatten to [N, -1])")
        // ReduceMean over H and W, keepdims 0: a pool and a flatten.
        let mean = model([node("ReduceMean", "/mean", ["x"], ["y"], ["axes": [-2, -1], "keepdims": 0])], [], output: "y")
        let arch = try importing(mean).architecture
        XCTAssertEqual(arch.layers.map(\.kind), [.globalavgpool, .flatten])
        XCTAssertEqual(arch.layers.map(\.name), ["/mean/pool", "/mean"])
    }

    func testUnusedNodesAreDropped() throws {
        var m = chainModel()
        m.graph.node.append(node("Einsum", "/unused/Einsum", ["logits"]))
        XCTAssertEqual(try importing(m).architecture.layers.count, 6)
    }

    // MARK: Import errors

    func testUnsupportedOperationsNameTheNode() throws {
        var m = chainModel()
        m.graph.node[2] = node("Einsum", "/features/Einsum", ["/bn1/BatchNormalization_output_0"], ["/relu/Relu_output_0"], ["equation": "ij->ij"])
        XCTAssertEqual(errorText { try self.importing(m) }, "m.onnx: node '/features/Einsum' (Einsum): ConvViz does not run this operation")

        var scaled = chainModel()
        scaled.graph.node[2] = node("Mul", "/scale/Mul", ["/bn1/BatchNormalization_output_0", "scale"], ["/relu/Relu_output_0"])
        scaled.graph.initializer.append(floats("scale", [], [2]))
        XCTAssertEqual(errorText { try self.importing(scaled) }, "m.onnx: node '/scale/Mul' (Mul): ConvViz does not run this operation (a constant operand 'scale')")

        var pads = chainModel()
        pads.graph.node[0].attribute = [attr("pads", [0, 0, 1, 1])]
        XCTAssertEqual(errorText { try self.importing(pads) },
                       "m.onnx: node '/conv1/Conv' (Conv): ConvViz does not run this operation (asymmetric pads [0, 0, 1, 1]; ConvViz pads the same on both sides ([t, l, b, r] with t == b and l == r))")

        var same = chainModel()
        same.graph.node[3].attribute = [attr("kernel_shape", [2, 2]), attr("auto_pad", "SAME_UPPER")]
        XCTAssertEqual(errorText { try self.importing(same) },
                       "m.onnx: node '/pool/MaxPool' (MaxPool): ConvViz does not run this operation (auto_pad SAME_UPPER pads the height of 8x8 unevenly; export with explicit symmetric padding)")

        var hardSigmoid = chainModel()
        hardSigmoid.graph.node[2] = node("HardSigmoid", "/hs", ["/bn1/BatchNormalization_output_0"], ["/relu/Relu_output_0"])
        XCTAssertEqual(errorText { try self.importing(hardSigmoid) },
                       "m.onnx: node '/hs' (HardSigmoid): ConvViz does not run this operation (alpha 0.2, beta 0.5; ConvViz's hardsigmoid has alpha 1/6 and beta 0.5, as PyTorch's)")
    }

    func testInputMustHaveFixedImageSize() throws {
        var m = chainModel()
        m.graph.input = [valueInfo("x", [.symbolic("batch"), .fixed(3), .symbolic("height"), .symbolic("width")])]
        XCTAssertEqual(errorText { try self.importing(m) },
                       "m.onnx: input 'x' has shape [?, 3, ?, ?] with a symbolic channel, height or width; export with a fixed input size (no dynamic_axes on C, H and W), e.g. torch.onnx.export(model, torch.randn(1, 3, 224, 224), path)")
    }

    func testNodesMustBeInTopologicalOrder() throws {
        var m = chainModel()
        m.graph.node.swapAt(1, 2)
        XCTAssertEqual(errorText { try self.importing(m) },
                       "m.onnx: node '/relu/Relu' (Relu) reads '/bn1/BatchNormalization_output_0' before the node that computes it: the nodes are not in topological order")
    }

    // MARK: Reading errors

    /// `torch.onnx.export`'s default writes weights to MODEL.onnx.data: read beside the
    /// model, by offset and length; missing files, escapes from the folder and ranges
    /// past the end are refused by name.
    func testExternalDataIsReadFromBesideTheModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-external-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func external(_ location: String, offset: Int, length: Int) -> Onnx_TensorProto {
            var w = floats("conv1.weight", [4, 3, 3, 3])
            w.clearRawData()
            w.dataLocation = .external
            w.externalData = [("location", location), ("offset", "\(offset)"), ("length", "\(length)")].map {
                var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e
            }
            return w
        }
        let inline = floats("conv1.weight", [4, 3, 3, 3])
        // 16 bytes of padding before the tensor, as the exporter aligns its blocks.
        try (Data(count: 16) + inline.rawData).write(to: dir.appendingPathComponent("m.onnx.data"))
        var m = chainModel()
        m.graph.initializer[0] = external("m.onnx.data", offset: 16, length: inline.rawData.count)
        let path = dir.appendingPathComponent("m.onnx")
        try bytes(m).write(to: path)
        let read = try ONNXFile(contentsOf: path)
        XCTAssertEqual(read.initializers["conv1.weight"], try ONNXFile(data: try bytes(chainModel()), file: "inline.onnx").initializers["conv1.weight"])

        m.graph.initializer[0] = external("missing.data", offset: 0, length: inline.rawData.count)
        try bytes(m).write(to: path)
        XCTAssertTrue(errorText { try ONNXFile(contentsOf: path) }.contains("tensor 'conv1.weight' is stored in the external file 'missing.data', which is missing"))
        m.graph.initializer[0] = external("../escape.data", offset: 0, length: 4)
        try bytes(m).write(to: path)
        XCTAssertTrue(errorText { try ONNXFile(contentsOf: path) }.contains("must be a file beside the model"))
        m.graph.initializer[0] = external("m.onnx.data", offset: 32, length: inline.rawData.count)
        try bytes(m).write(to: path)
        XCTAssertTrue(errorText { try ONNXFile(contentsOf: path) }.contains("run past the end"))
    }

    func testOldOpsetIsRefused() throws {
        let e = errorText { try ONNXFile(data: try self.bytes(self.model([], [], output: "x", opset: 9)), file: "m.onnx") }
        XCTAssertEqual(e, "m.onnx: opset 9: ConvViz reads opsets 11 and up")
    }

    func testTruncatedAndMalformedFiles() throws {
        let data = try bytes(chainModel())
        XCTAssertEqual(errorText { try ONNXFile(data: data.prefix(data.count / 2), file: "m.onnx") },
                       "m.onnx: the ONNX model ends inside a protobuf field: the file is cut short")
        XCTAssertEqual(errorText { try ONNXFile(data: Data(), file: "m.onnx") }, "m.onnx: empty file: not an ONNX model")
        var noGraph = chainModel()
        noGraph.clearGraph()
        XCTAssertEqual(errorText { try ONNXFile(data: try self.bytes(noGraph), file: "m.onnx") }, "m.onnx: the ONNX model has no graph")

        var badRaw = chainModel()
        badRaw.graph.initializer[1].rawData = Data(count: 10)
        XCTAssertEqual(errorText { try ONNXFile(data: try self.bytes(badRaw), file: "m.onnx") },
                       "m.onnx: tensor 'conv1.bias': raw_data has 10 bytes; shape [4] of FLOAT needs 16")
        var huge = chainModel()
        huge.graph.initializer[1].dims = [1 << 40, 1 << 40]
        XCTAssertEqual(errorText { try ONNXFile(data: try self.bytes(huge), file: "m.onnx") },
                       "m.onnx: tensor 'conv1.bias': shape [1099511627776, 1099511627776] exceeds the limit of 1073741824 elements")
        var strings = chainModel()
        strings.graph.initializer[1].dataType = Int32(Onnx_TensorProto.DataType.string.rawValue)
        XCTAssertEqual(errorText { try ONNXFile(data: try self.bytes(strings), file: "m.onnx") },
                       "m.onnx: tensor 'conv1.bias': element type STRING is not supported (ConvViz reads FLOAT, DOUBLE, FLOAT16, INT64 and INT32)")
    }

    func testElementTypes() throws {
        var half = Onnx_TensorProto()
        half.name = "h"
        half.dims = [2]
        half.dataType = Int32(Onnx_TensorProto.DataType.float16.rawValue)
        half.rawData = Data([0x00, 0x3C, 0x00, 0xC0])  // 1.0, -2.0
        var double = Onnx_TensorProto()
        double.name = "d"
        double.dims = [1]
        double.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        double.doubleData = [0.5]
        var m = model([], [half, double, int64s("big", [Int64.max, -1], raw: true), int64s("small", [1, -1])], output: "x")
        m.graph.initializer.append(int64s("i", []))
        let file = try ONNXFile(data: try bytes(m), file: "m.onnx")
        XCTAssertEqual(file.initializers["h"]?.data, [1, -2])
        XCTAssertEqual(file.initializers["d"]?.data, [0.5])
        XCTAssertNil(file.initializers["big"])  // too large for Float
        XCTAssertEqual(file.integerInitializers["big"], [Int64.max, -1])
        XCTAssertEqual(file.initializers["small"]?.data, [1, -1])
        XCTAssertEqual(file.initializerNames, ["h", "d", "big", "small", "i"])
        XCTAssertEqual(file.opsetVersion, 17)
        XCTAssertEqual(file.producerName, "pytorch")
        XCTAssertEqual(file.inputs, [ONNXFile.ValueInfo(name: "x", shape: [nil, 3, 8, 8])])
    }

    // MARK: Other formats given as ONNX or weights

    /// A zip whose first entry is `archive/data.pkl`, as torch.save writes.
    var torchZip: Data {
        let name = Array("archive/data.pkl".utf8)
        var b: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 22)
        b += [UInt8(name.count), 0, 0, 0] + name + [0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E]
        return Data(b)
    }

    func testOtherFormatsAreNamed() throws {
        let dir = temporaryDirectory
        let pickleText = ModelFileFormat.pytorchMessage
        XCTAssertEqual(pickleText, "PyTorch pickle checkpoints are not read; save a state dict with safetensors.torch.save_file or export with torch.onnx.export")

        // safetensors given to the ONNX reader; read as weights.
        let st = dir.appendingPathComponent("w.safetensors")
        try SafeTensorsFile.encode([("conv.weight", Tensor(shape: [2, 1, 3, 3], repeating: 0.5))]).write(to: st)
        XCTAssertEqual(try ModelFileFormat.detect(st), .safetensors)
        XCTAssertEqual(errorText { try ONNXFile(contentsOf: st) }, "\(st.path): not an ONNX model: this is a safetensors file")
        XCTAssertEqual(try WeightsSource(parsing: st.path).load().name, "conv.weight")

        // A PyTorch zip, whatever its name, and a legacy pickle.
        for (file, data) in [("model.pt", torchZip), ("model.safetensors", torchZip), ("model.onnx", torchZip),
                             ("old.pth", Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]))] {
            let url = dir.appendingPathComponent(file)
            try data.write(to: url)
            XCTAssert(try ModelFileFormat.detect(url).isPyTorch, file)
            XCTAssertEqual(errorText { try ONNXFile(contentsOf: url) }, "\(url.path): \(pickleText)")
            XCTAssertEqual(errorText { try WeightsSource(parsing: url.path).load() }, "\(url.path): \(pickleText)")
            XCTAssertEqual(errorText { try FileInspector.describe(url) }, "\(url.path): \(pickleText)")
            XCTAssertThrowsError(try WeightsSource(parsing: url.path).load()) { XCTAssertEqual(($0 as? ReadError)?.kind, .unsupportedFormat) }
        }

        // Random bytes: unknown. (WeightsSource leaves unrecognised bytes under a .npy or
        // .safetensors name to that reader, which says what is wrong with the header.)
        var rng = SeededGenerator(seed: 7)
        let random = Data((0..<256).map { _ in UInt8.random(in: 0...255, using: &rng) })
        XCTAssertEqual(ModelFileFormat.detect(head: random, fileExtension: ""), .unknown)
        let noiseWeights = dir.appendingPathComponent("noise.dat")
        try random.write(to: noiseWeights)
        XCTAssertEqual(errorText { try WeightsSource(parsing: noiseWeights.path).load() },
                       "\(noiseWeights.path): unknown file format (expected weights in .safetensors, .npy or .onnx; this is none of them)")
        let noise = dir.appendingPathComponent("noise.safetensors")
        try random.write(to: noise)
        XCTAssertEqual(try ModelFileFormat.detect(noise), .unknown)
        XCTAssertEqual(errorText { try FileInspector.describe(noise) },
                       "\(noise.path): unknown file format (expected .png, .npy, .safetensors, .onnx, IDX, CIFAR-10 .bin or architecture .json); this is not a safetensors file")
        let noiseError = errorText { try ONNXFile(data: random, file: "noise.onnx") }
        XCTAssertEqual(noiseError, "noise.onnx: not an ONNX model (not a protobuf message: a field runs past the end of the file)")
    }

    func testONNXAsWeightsAndInspected() throws {
        let url = temporaryDirectory.appendingPathComponent("chain.onnx")
        try bytes(chainModel()).write(to: url)
        XCTAssertEqual(try ModelFileFormat.detect(url), .onnx)
        let first = try WeightsSource(parsing: url.path).load()
        XCTAssertEqual(first.name, "conv1.weight")
        XCTAssertEqual(first.tensor.shape, [4, 3, 3, 3])
        XCTAssertEqual(try WeightsSource(parsing: url.path + ":fc.weight").load().tensor.shape, [10, 64])
        XCTAssertEqual(try WeightsSource(parsing: url.path + ":bn1").load().name, "bn1.weight")
        XCTAssertEqual(errorText { try WeightsSource(parsing: url.path + ":nope").load() }.hasSuffix("no tensor or layer 'nope' (has: conv1.weight, conv1.bias, bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var, fc.weight, fc.bias)"), true)

        let text = try FileInspector.describe(url)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "\(url.path): ONNX model from pytorch 2.5.1, opset 17, IR version 8")
        XCTAssertEqual(lines[1], "  input 'x' [?, 3, 8, 8]")
        XCTAssertEqual(lines[2], "  output 'logits' (no shape)")
        XCTAssertEqual(lines[3], "  6 nodes: BatchNormalization 1, Conv 1, Flatten 1, Gemm 1, MaxPool 1, Relu 1")
        XCTAssertEqual(lines[4], "  8 initializers holding \(108 + 4 + 8 + 640 + 10) stored parameter values (and 8 BatchNorm running statistics); the network's parameter count is the shape table's total")
        XCTAssertEqual(lines[5], "  ConvViz architecture: input [3, 8, 8], 6 layers")
    }
}
