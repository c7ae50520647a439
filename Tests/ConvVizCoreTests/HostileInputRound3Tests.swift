import Foundation
import XCTest
@testable import ConvVizCore

/// Hostile input, third round (issue 30), one property per class over generated cases:
/// sizes whose product is small but whose factors are not, duplicate names, counters at
/// their limits, and input channels photographs cannot give. Each reader or rule either
/// accepts the value or throws one of our errors in one line naming the file and the
/// culprit; nothing traps and nothing is allocated from a refused size.
final class HostileInputRound3Tests: XCTestCase {
    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    var limits: ReadLimits {
        var l = ReadLimits()
        l.maxElements = 1 << 20; l.maxDataBytes = 1 << 20
        return l
    }

    /// The error `body` throws, as one line; a failure if it does not throw.
    func refusal(_ what: String, _ body: () throws -> Void) throws -> String {
        do { try body() } catch {
            let text = "\(error)"
            guard !text.contains("\n") else { throw Failure("\(what): more than one line: \(text)") }
            return text
        }
        throw Failure("\(what): accepted")
    }

    // MARK: sizes whose product is small but whose factors are not

    /// A shape with a zero dimension and others from 1 to 2^62: its nonzero product is
    /// what the other axes would be laid out by.
    func hostileShape(_ rng: inout SeededGenerator) -> [Int] {
        var shape = (0..<rng.below(4) + 2).map { _ -> Int in
            switch rng.below(4) {
            case 0: 1 << (20 + rng.below(43))
            case 1: rng.below(8) + 1
            case 2: (1 << 31) - 1
            default: rng.below(1 << 12) + 1
            }
        }
        shape[rng.below(shape.count)] = 0
        return shape
    }

    func nonzeroProduct(_ shape: [Int]) -> Double { shape.filter { $0 != 0 }.reduce(1.0) { $0 * Double($1) } }

    func npyBytes(shape: [Int]) -> Data {
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        var header = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let bytes = Array((text + "\n").utf8)
        header.append(contentsOf: [UInt8(bytes.count & 0xFF), UInt8(bytes.count >> 8)])
        header.append(contentsOf: bytes)
        return header
    }

    func safetensorsBytes(header: String, payload: Int = 0) -> Data {
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(Data(header.utf8))
        out.append(Data(count: payload))
        return out
    }

    func onnxModel(initializers: [Onnx_TensorProto], nodes: [Onnx_NodeProto] = [], output: String = "y") throws -> Data {
        var g = Onnx_GraphProto()
        g.name = "g"
        g.node = nodes
        g.initializer = initializers
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        g.input = [input]
        var out = Onnx_ValueInfoProto()
        out.name = output
        g.output = [out]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.graph = g
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        m.opsetImport = [opset]
        return try m.serializedBytes()
    }

    func onnxTensor(_ name: String, _ shape: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = Data(count: shape.contains(0) ? 0 : 4 * shape.reduce(1, *))
        return t
    }

    func idxBytes(shape: [Int]) -> Data {
        Data([0, 0, 8, UInt8(shape.count)] + shape.flatMap { withUnsafeBytes(of: UInt32(truncatingIfNeeded: $0).bigEndian) { Array($0) } })
    }

    /// Every reader refuses a zero dimension beside factors whose product passes the
    /// element limit (by name: file, "too large"), and reads it when they are within it.
    func testZeroDimensionsDoNotMakeTheOtherFactorsFree() {
        PropertyHarness.check("zero-dimension shapes", count: 400) { rng, i in
            let shape = hostileShape(&rng)
            let within = nonzeroProduct(shape) <= Double(limits.maxElements)
            let idxShape = shape.prefix(4).map { min($0, Int(UInt32.max)) }
            let readers: [(String, [Int], () throws -> Void)] = [
                ("z\(i).npy", shape, { _ = try NPY.read(self.npyBytes(shape: shape), file: "z\(i).npy", limits: self.limits) }),
                ("z\(i).safetensors", shape, {
                    let header = #"{"t": {"dtype": "F32", "shape": [\#(shape.map(String.init).joined(separator: ", "))], "data_offsets": [0, 0]}}"#
                    let file = try SafeTensorsFile(data: self.safetensorsBytes(header: header), file: "z\(i).safetensors", limits: self.limits)
                    _ = try file.tensor("t")
                }),
                ("z\(i).onnx", shape, { _ = try ONNXFile(data: try self.onnxModel(initializers: [self.onnxTensor("w", shape)]), file: "z\(i).onnx", limits: self.limits) }),
                ("z\(i).idx", idxShape, { _ = try IDXReader.parse(self.idxBytes(shape: idxShape), file: "z\(i).idx", limits: self.limits) }),
            ]
            for (file, given, read) in readers {
                let accepted = nonzeroProduct(given) <= Double(limits.maxElements)
                do {
                    try read()
                    guard accepted else { throw Failure("\(file): shape \(given) accepted") }
                } catch let e as ReadError {
                    // A small ONNX model may still fail later for want of nodes; only the size matters here.
                    if accepted { guard e.kind != .tooLarge else { throw Failure("\(file): \(given) refused: \(e)") }; continue }
                    guard e.kind == .tooLarge, "\(e)".hasPrefix(file), "\(e)".contains("\(given)") else { throw Failure("\(file): \(e)") }
                } catch let e as Failure { throw e } catch { if !accepted { throw Failure("\(file): not a ReadError: \(error)") } }
            }
            _ = within
        }
    }

    /// Training data sized from an architecture's input: samples and image folders are
    /// bounded (count x C x H x W, overflow-checked) before anything is allocated.
    func testTrainingDataIsBoundedBeforeAllocation() throws {
        PropertyHarness.check("training data bounds", count: 200) { rng, _ in
            let side = [1 << 16, 1 << 20, 1 << 10, 4000, 181, 300, 301][rng.below(7)]
            let input = [[1, 3][rng.below(2)], side, side]
            let count = [1, 20_000, Int.max / 2][rng.below(3)]
            for source in [DataSource.samples, .folder("/nonexistent-\(rng.below(1000))")] {
                let n = source == .samples ? count : 1
                let fits = nonzeroProduct([n] + input) <= Double(limits.maxElements)
                do {
                    try source.checkFits(input: input, samplePatches: count, limits: limits)
                    guard fits else { throw Failure("\(source) \(input) x \(n) accepted") }
                } catch let e as ReadError {
                    guard !fits, e.kind == .tooLarge, "\(e)".contains("--max-elements") else { throw Failure("\(source): \(e)") }
                } catch let e as TrainingSession.Mismatch {
                    // Square patches from photographs 300 pixels a side.
                    guard source == .samples, side > SamplePhotos.smallestSide, e.description.contains("\(SamplePhotos.smallestSide)") else { throw Failure("\(source): \(e)") }
                }
            }
        }
        // A patch larger than the photographs with the limit raised: refused, not a trap.
        var raised = limits
        raised.maxElements = 1 << 40
        XCTAssertThrowsError(try DataSource.samples.load(input: [3, 400, 400], seed: 0, samplePatches: 1, limits: raised)) { e in
            XCTAssert("\(e)".contains("300"), "\(e)")
        }
    }

    /// Channel counts that add up through the graph (concatenations of concatenations
    /// double each time) are overflow-checked: a shape error naming the layer, not a trap.
    func testConcatenatedChannelsAreOverflowChecked() {
        PropertyHarness.check("concat chains", count: 60) { rng, _ in
            let depth = rng.below(70) + 1, channels = [1, 3, 1 << 20][rng.below(3)]
            var layers = [#"{"type": "relu", "name": "c0"}"#]
            for k in 1...depth { layers.append(#"{"type": "concat", "name": "c\#(k)", "inputs": ["c\#(k - 1)", "c\#(k - 1)"]}"#) }
            let arch = try Architecture(json: Data(#"{"name": "cat", "input": [\#(channels), 2, 2], "layers": [\#(layers.joined(separator: ", "))]}"#.utf8))
            let fits = Double(channels) * pow(2, Double(depth)) < Double(Int.max)
            do {
                let shapes = try arch.shapes()
                guard fits, shapes.last?[0] == channels << depth else { throw Failure("\(channels) x 2^\(depth): \(shapes.last ?? [])") }
            } catch let e as ShapeError {
                guard !fits, "\(e)".contains("overflows") else { throw Failure("\(e)") }
            }
        }
    }

    // MARK: duplicate names

    /// Names as a hostile header spells them: plain, with escapes that decode to the same
    /// string, non-ASCII.
    func spellings(_ rng: inout SeededGenerator) -> (name: String, first: String, second: String) {
        let base = ["conv1.weight", "a", "fc.bias", "层.weight", "x\"y"][rng.below(5)]
        let plain = base.replacingOccurrences(of: "\"", with: "\\\"")
        switch rng.below(3) {
        case 0: return (base, plain, plain)
        case 1:
            let first = base.unicodeScalars.first!
            let escaped = String(format: "\\u%04x", first.value) + String(plain.dropFirst(plain.hasPrefix("\\") ? 2 : 1))
            return (base, plain, escaped)
        default: return (base, plain, plain)
        }
    }

    /// A safetensors header naming one tensor twice (any spelling, any place among the
    /// others) is refused naming it; so is a key twice in an entry or in __metadata__.
    func testSafetensorsHeadersWithDuplicatesAreRefusedNamingThem() {
        PropertyHarness.check("safetensors duplicates", count: 300) { rng, i in
            let (name, first, second) = spellings(&rng)
            var entries = (0..<rng.below(4)).map { k in (#""other\#(k)""#, 8) }
            entries.insert((#""\#(first)""#, 4), at: rng.below(entries.count + 1))
            entries.insert((#""\#(second)""#, 4), at: rng.below(entries.count + 1))
            var offset = 0
            let body = entries.map { key, size -> String in
                defer { offset += size }
                return #"\#(key): {"dtype": "F32", "shape": [\#(size / 4)], "data_offsets": [\#(offset), \#(offset + size)]}"#
            }
            let file = "d\(i).safetensors"
            let data = safetensorsBytes(header: "{" + body.joined(separator: ", ") + "}", payload: offset)
            let text = try refusal(file) { _ = try SafeTensorsFile(data: data, file: file) }
            guard text.hasPrefix(file), text.contains("'\(name)' twice") else { throw Failure("\(file): \(text)") }
            // A key twice inside an entry, and in the metadata.
            let inner = safetensorsBytes(header: #"{"t": {"dtype": "F32", "dtype": "I8", "shape": [1], "data_offsets": [0, 4]}}"#, payload: 4)
            let innerText = try refusal("inner") { _ = try SafeTensorsFile(data: inner, file: file) }
            guard innerText.contains("'dtype' twice"), innerText.contains("'t'") else { throw Failure(innerText) }
            let meta = safetensorsBytes(header: #"{"__metadata__": {"\#(first)": "1", "\#(second)": "2"}}"#)
            let metaText = try refusal("metadata") { _ = try SafeTensorsFile(data: meta, file: file) }
            guard metaText.contains("__metadata__"), metaText.contains("'\(name)' twice") else { throw Failure(metaText) }
        }
        // Equal names stay legal in different objects, and escapes that differ stay different.
        let fine = safetensorsBytes(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "\u0062x": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]}}"#, payload: 8)
        XCTAssertEqual(try SafeTensorsFile(data: fine, file: "f.safetensors").names, ["a", "b", "bx"])
    }

    /// An architecture giving a key twice (two "out"s in a layer, two "layers") or naming
    /// two layers alike is refused naming the key or the layer.
    func testArchitecturesWithDuplicateKeysOrNamesAreRefused() {
        PropertyHarness.check("architecture duplicates", count: 200) { rng, _ in
            let (name, first, second) = spellings(&rng)
            let layers = [#"{"type": "conv", "name": "\#(first)", "out": 4, "kernel": 3}"#, #"{"type": "relu", "name": "\#(second)"}"#]
            let arch = #"{"name": "d", "input": [3, 8, 8], "layers": [\#(layers.joined(separator: ", "))]}"#
            let text = try refusal("names") { _ = try Architecture(json: Data(arch.utf8)) }
            guard text.contains("'\(name)'") else { throw Failure(text) }
            let key = ["out", "kernel", "type", "name"][rng.below(4)]
            let twice = #"{"name": "d", "input": [3, 8, 8], "layers": [{"type": "conv", "name": "c", "out": 4, "kernel": 3, "\#(key)": \#(key == "type" ? #""relu""# : key == "name" ? #""e""# : "5")}]}"#
            let keyText = try refusal("keys") { _ = try Architecture(json: Data(twice.utf8)) }
            guard keyText.contains("'\(key)' is given twice"), keyText.contains("layers") else { throw Failure(keyText) }
        }
        let top = #"{"name": "d", "input": [3, 8, 8], "layers": [{"type": "relu"}], "layers": [{"type": "flatten"}]}"#
        XCTAssertThrowsError(try Architecture(json: Data(top.utf8))) { XCTAssert("\($0)".contains("'layers' is given twice in the top level"), "\($0)") }
    }

    /// ONNX: an initializer given twice, or a value that two nodes (or a node and an
    /// initializer) define, is refused naming the value.
    func testONNXValuesDefinedTwiceAreRefused() throws {
        func relu(_ name: String, _ input: String, _ output: String) -> Onnx_NodeProto {
            var n = Onnx_NodeProto()
            n.opType = "Relu"; n.name = name; n.input = [input]; n.output = [output]
            return n
        }
        PropertyHarness.check("onnx duplicates", count: 100) { rng, i in
            let value = ["w", "conv.weight", "/layer1/Relu_output_0"][rng.below(3)]
            let others = (0..<rng.below(3)).map { onnxTensor("o\($0)", [2]) }
            let file = "d\(i).onnx"
            let twice = try onnxModel(initializers: others + [onnxTensor(value, [1]), onnxTensor(value, [2])], nodes: [relu("r", "x", "y")])
            let text = try refusal("initializers") { _ = try ONNXFile(data: twice, file: file) }
            guard text.hasPrefix(file), text.contains("'\(value)' is given twice") else { throw Failure(text) }
            let nodes = try onnxModel(initializers: others, nodes: [relu("a", "x", value), relu("b", "x", value), relu("c", value, "y")])
            let nodeText = try refusal("nodes") { _ = try ONNXFile(data: nodes, file: file) }
            guard nodeText.contains("'\(value)' is defined twice"), nodeText.contains("'a'"), nodeText.contains("'b'") else { throw Failure(nodeText) }
            let shadow = try onnxModel(initializers: others + [onnxTensor(value, [1])], nodes: [relu("a", "x", value), relu("c", value, "y")])
            let shadowText = try refusal("node over initializer") { _ = try ONNXFile(data: shadow, file: file) }
            guard shadowText.contains("'\(value)' is defined twice"), shadowText.contains("initializer") else { throw Failure(shadowText) }
        }
    }

    // MARK: counters at their limits

    /// Values around the integer limits, as text.
    static let counterTexts = ["0", "1", "9007199254740991", "9007199254740992", "9007199254740993", "9223372036854775806",
                               "9223372036854775807", "9223372036854775808", "-1", "-9223372036854775808", "1e3", " 5", "0x10"]

    /// A checkpoint's step and epoch are read with range checks: at most 2^53 (what JSON
    /// readers hold exactly), epoch at most step; anything else refused naming the file.
    func testCheckpointCountersAreRangeChecked() throws {
        let arch = try Architecture(json: Data(#"{"name": "c", "input": [1, 4, 4], "layers": [{"type": "flatten"}, {"type": "linear", "out": 2}]}"#.utf8))
        let model = try arch.makeModel(seed: 0)
        let good = Checkpoint(model: model, architecture: arch, standardization: Standardization(mean: [0], std: [1]))
        for stepText in Self.counterTexts {
            for epochText in ["0", "1", "2", stepText] {
                var data = good.encoded(model: model)
                let file = try SafeTensorsFile(data: data, file: "c.safetensors")
                var metadata = file.metadata
                metadata["convviz.step"] = stepText
                metadata["convviz.epoch"] = epochText
                data = SafeTensorsFile.encode(model.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: metadata)
                let parsed = try SafeTensorsFile(data: data, file: "c.safetensors")
                let step = Int(stepText), epoch = Int(epochText)
                let valid = step.map { $0 >= 0 && $0 <= 1 << 53 } == true && epoch.map { $0 >= 0 && ($0 <= step! || $0 <= 1) } == true
                do {
                    let header = try Checkpoint.header(of: parsed, file: "c.safetensors")
                    XCTAssert(valid, "step \(stepText) epoch \(epochText) accepted")
                    XCTAssertEqual(header.step, step)
                } catch {
                    XCTAssertFalse(valid, "step \(stepText) epoch \(epochText): \(error)")
                    XCTAssert("\(error)".hasPrefix("c.safetensors: "), "\(error)")
                    XCTAssertFalse("\(error)".contains("\n"))
                }
            }
        }
    }

    /// The run's end (epochs x steps per epoch, or --max-steps) is overflow-checked:
    /// without --max-steps, epochs near Int.max are refused in one line instead of a run
    /// that never ends; a resumed step past the end is refused naming the checkpoint.
    func testStepPlansAreOverflowSafeAndRefusedPastTheLimit() {
        PropertyHarness.check("step plans", count: 1000) { rng, _ in
            var s = TrainingSettings()
            let around = [Int.max, Int.max / 2, 1 << 53, (1 << 53) / 7, 1 << 62, 1, 10, 1 << 31]
            s.epochs = max(1, around[rng.below(around.count)] &+ (rng.below(5) - 2))
            s.batchSize = [1, 7, 128, Int.max][rng.below(4)]
            s.maxSteps = rng.below(3) == 0 ? nil : max(1, around[rng.below(around.count)] &- rng.below(3))
            let n = [1, 2, 60_000, 1 << 40][rng.below(4)]
            let perEpoch = max(1, n / min(s.batchSize, n))
            let exact = Double(s.epochs) * Double(perEpoch)
            let end = min(Double(s.maxSteps ?? Int.max), exact)
            do {
                let plan = try s.stepPlan(trainingImages: n)
                guard end <= Double(TrainingSettings.stepLimit), plan.perEpoch == perEpoch, Double(plan.total) == end || abs(Double(plan.total) - end) < end * 1e-15 else {
                    throw Failure("\(s.epochs) epochs, batch \(s.batchSize), max \(String(describing: s.maxSteps)), n \(n): \(plan)")
                }
            } catch let e as TrainingSettings.CounterError {
                guard end > Double(TrainingSettings.stepLimit) - 1, e.description.contains(s.maxSteps.map { Double($0) == end } == true ? "--max-steps" : "--epochs"), !e.description.contains("\n") else { throw Failure(e.description) }
            }
        }
    }

    /// A trainer resumed at a step past its run's end refuses before training a step
    /// (a checkpoint at Int.max went on "resuming at step 9223372036854775807").
    func testTrainerRefusesAStepPastTheEndOfItsRun() throws {
        let arch = try Architecture(json: Data(#"{"name": "c", "input": [1, 4, 4], "layers": [{"type": "flatten"}, {"type": "linear", "out": 2}]}"#.utf8))
        let images = LabeledImages(images: Tensor(shape: [4, 1, 4, 4], repeating: 0.5), labels: [0, 1, 0, 1], classes: ["a", "b"])
        for (step, refused) in [(2, false), (3, true), (Int.max, true), (TrainingSettings.stepLimit, true)] {
            var settings = TrainingSettings()
            settings.batchSize = 2
            settings.epochs = 1
            let trainer = try Trainer(model: try arch.makeModel(seed: 0), architecture: arch, settings: settings, standardization: Standardization(mean: [0], std: [1]))
            trainer.resume(step: step, optimizerState: [:])
            do {
                let summary = try trainer.train(images, test: nil) { _ in }
                XCTAssertFalse(refused, "step \(step): \(summary.steps) steps")
            } catch {
                XCTAssert(refused, "step \(step): \(error)")
                XCTAssert("\(error)".contains("step \(step), past the end of this run at step 2"), "\(error)")
            }
        }
    }

    // MARK: input channels

    /// Photographs (gray or RGB) become images of 1 or 3 channels; any other count is
    /// refused in one line naming the source, from every loader, never a trap.
    func testChannelCountsPhotographsCannotGiveAreRefused() throws {
        let photo = Tensor(shape: [3, 4, 5], repeating: 0.25), gray = Tensor(shape: [1, 4, 5], repeating: 0.5)
        for target in 0...6 {
            for image in [photo, gray] {
                do {
                    let out = try ImageResize.channels(image, target, file: "p.png")
                    XCTAssert(target == 1 || target == 3, "\(target)")
                    XCTAssertEqual(out.shape, [target, 4, 5])
                } catch {
                    XCTAssertFalse(target == 1 || target == 3, "\(target): \(error)")
                    XCTAssert("\(error)".hasPrefix("p.png: "), "\(error)")
                }
            }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("round3-channels-\(getpid())/cat")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        try FileManager.default.copyItem(at: SamplePhotos.url("astronaut"), to: folder.appendingPathComponent("a.png"))
        for channels in [2, 4] {
            for source in [DataSource.samples, .folder(folder.deletingLastPathComponent().path)] {
                XCTAssertThrowsError(try source.load(input: [channels, 16, 16], seed: 0, samplePatches: 8)) { e in
                    XCTAssert("\(e)".contains("\(channels)-channel"), "\(e)")
                    XCTAssert("\(e)".hasPrefix("\(source)"), "\(e)")
                }
            }
            XCTAssertThrowsError(try ImageFolder.load(folder.deletingLastPathComponent(), channels: channels, height: 8, width: 8)) { e in
                XCTAssert("\(e)".contains("a.png"), "\(e)")
            }
        }
    }
}
