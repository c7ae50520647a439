import CZlib
import Foundation
import XCTest
@testable import ConvVizCore

/// Hand-made hostile files for every reader, each expecting its specific error.
final class HostileInputTests: XCTestCase {
    // MARK: PNG

    func expectPNG(_ bytes: [UInt8], _ kind: ReadError.Kind, _ text: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PNGDecoder.decode(Data(bytes), file: "h.png"), file: file, line: line) { e in
            guard let e = e as? ReadError else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, e.description, file: file, line: line)
            XCTAssertEqual(e.file, "h.png", file: file, line: line)
            if let text { XCTAssert(e.description.contains(text), e.description, file: file, line: line) }
        }
    }

    func testPNGValidBaseline() throws {
        XCTAssertEqual(try PNGDecoder.decode(Data(HandMadePNG.uniform(width: 5, height: 3)), file: "ok.png").shape, [1, 3, 5])
    }

    func testPNGBadMagicTruncationCRCAndZlib() {
        var bad = HandMadePNG.uniform(width: 5, height: 3); bad[1] = 0x51
        expectPNG(bad, .badMagic)
        let good = HandMadePNG.uniform(width: 5, height: 3)
        expectPNG(Array(good.prefix(30)), .corrupt)           // cut inside IHDR
        expectPNG(Array(good.prefix(good.count - 20)), .corrupt)  // cut inside IDAT
        var crc = good; crc[18] ^= 0xFF                       // a byte of IHDR's data, CRC not updated
        expectPNG(crc, .corrupt)
        expectPNG(HandMadePNG.uniform(width: 5, height: 3, idat: [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0x00, 0x12]), .corrupt)  // not a zlib stream
    }

    func testPNGAbsurdAndZeroDimensionsRefusedBeforeAllocating() {
        expectPNG(HandMadePNG.uniform(width: 100_000, height: 100_000), .tooLarge, "100000x100000")
        expectPNG(HandMadePNG.uniform(width: 0, height: 3), .corrupt)
        var limits = ReadLimits(); limits.maxPixels = 10
        XCTAssertThrowsError(try PNGDecoder.decode(Data(HandMadePNG.uniform(width: 5, height: 3)), file: "h.png", limits: limits)) {
            XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge)
        }
    }

    /// A decompression bomb: a tiny file whose header claims a huge image.
    func testPNGDecompressionBomb() {
        let zeros = [UInt8](repeating: 0, count: 1 << 22)
        var compressed = [UInt8](repeating: 0, count: 1 << 16)
        var size = uLongf(compressed.count)
        _ = compress2(&compressed, &size, zeros, uLong(zeros.count), 9)
        expectPNG(HandMadePNG.uniform(width: 50_000, height: 50_000, idat: Array(compressed.prefix(Int(size)))), .tooLarge)
    }

    // MARK: IDX

    func idx(_ type: UInt8, _ shape: [UInt32], _ body: [UInt8]) -> Data {
        Data([0, 0, type, UInt8(shape.count)] + shape.flatMap { withUnsafeBytes(of: $0.bigEndian) { Array($0) } } + body)
    }

    func expectIDX(_ data: Data, _ kind: ReadError.Kind, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try IDXReader.parse(data, file: "h.idx"), file: file, line: line) { e in
            XCTAssertEqual((e as? ReadError)?.kind, kind, "\(e)", file: file, line: line)
        }
    }

    func testIDXHostile() {
        expectIDX(Data([1, 0, 8, 1, 0, 0, 0, 1, 5]), .badMagic)
        expectIDX(idx(0x0D, [1], [0, 0, 0, 0]), .unsupported)  // float type
        expectIDX(idx(8, [10], [1, 2, 3]), .truncated)
        expectIDX(idx(8, [2], [1, 2, 3]), .badShape)
        expectIDX(idx(8, [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], []), .tooLarge)  // product overflows
        expectIDX(Data([0, 0, 8]), .truncated)
        expectIDX(idx(8, [3], []).prefix(6), .truncated)
        let gz = Gzip.compressForTests(idx(8, [4], [1, 2, 3, 4]))!
        expectIDX(gz.prefix(gz.count - 6), .truncated)
        var corrupt = gz; corrupt[12] ^= 0xFF; corrupt[13] ^= 0xFF
        XCTAssertThrowsError(try IDXReader.parse(corrupt, file: "h.idx.gz")) { XCTAssertNotNil($0 as? ReadError) }
        // An inflate bomb: 16 MB of zeros in a few kB, against a 1 MB limit.
        let bomb = Gzip.compressForTests(Data(count: 16 << 20))!
        XCTAssertThrowsError(try Gzip.inflate(bomb, file: "bomb.gz", limit: 1 << 20)) { XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge) }
        // As an IDX: its header declares 16 MB, refused against a 1 MB data limit before inflating.
        let idxBomb = ReaderBudgetTests.gzip(header: idx(8, [16, 1024, 1024], []), zeros: 16 << 20)
        var limits = ReadLimits(); limits.maxDataBytes = 1 << 20
        XCTAssertThrowsError(try IDXReader.parse(idxBomb, file: "bomb.gz", limits: limits)) { XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge) }
    }

    // MARK: NPY

    func npy(_ header: String, body: Int) -> Data {
        var h = header; while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }; h += "\n"
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count & 255), UInt8(h.utf8.count >> 8)] + Array(h.utf8)) + Data(count: body)
    }

    func expectNPY(_ data: Data, _ kind: ReadError.Kind, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NPY.read(data, file: "h.npy"), file: file, line: line) { e in
            XCTAssertEqual((e as? ReadError)?.kind, kind, "\(e)", file: file, line: line)
        }
    }

    func testNPYHostile() {
        XCTAssertEqual(try NPY.read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", body: 24), file: "ok").shape, [2, 3])
        expectNPY(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", body: 20), .truncated)
        expectNPY(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", body: 28), .badShape)
        expectNPY(npy("{'descr': '>c16', 'fortran_order': False, 'shape': (2,), }", body: 32), .unsupported)
        expectNPY(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", body: 24), .unsupported)
        expectNPY(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", body: 0), .tooLarge)
        expectNPY(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", body: 0), .badShape)
        expectNPY(npy("{'fortran_order': False, 'shape': (2,), }", body: 8), .corrupt)
        var v9 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", body: 4); v9[6] = 9
        expectNPY(v9, .unsupported)
    }

    // MARK: safetensors

    func safetensors(_ header: String, payload: Int, length: UInt64? = nil) -> Data {
        let h = Data(header.utf8)
        return withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { Data($0) } + h + Data(count: payload)
    }

    func expectST(_ data: Data, _ kind: ReadError.Kind, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(data: data, file: "h.safetensors"), file: file, line: line) { e in
            XCTAssertEqual((e as? ReadError)?.kind, kind, "\(e)", file: file, line: line)
            XCTAssert("\(e)".contains(text), "\(e)", file: file, line: line)
        }
    }

    func testSafetensorsHostile() {
        let t = #""a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#
        XCTAssertNoThrow(try SafeTensorsFile(data: safetensors("{\(t)}", payload: 8), file: "ok"))
        expectST(safetensors("{\(t)}", payload: 8, length: 1 << 40), .tooLarge, "header claims")
        expectST(safetensors("{\(t)}", payload: 8, length: 500), .truncated, "header claims 500")
        expectST(safetensors("[1, 2]", payload: 0), .corrupt, "not a JSON object")
        expectST(safetensors(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 80]}}"#, payload: 8), .corrupt, "outside")
        expectST(safetensors(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, payload: 8), .badShape, "needs 12 bytes")
        expectST(safetensors(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, payload: 12), .corrupt, "overlaps")
        expectST(safetensors(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, payload: 12), .corrupt, "gap")
        expectST(safetensors(#"{"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}"#, payload: 8), .unsupported, "unknown dtype 'Q4'")
        expectST(safetensors(#"{"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}}"#, payload: 8), .tooLarge, "exceeds")
        expectST(safetensors(#"{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, payload: 8), .badShape, "non-negative")
        expectST(safetensors("{\(t)}", payload: 12), .corrupt, "4 bytes after the last tensor")
        expectST(Data([1, 2, 3]), .truncated, "shorter than")
    }

    // MARK: CIFAR and architectures

    func testCIFARHostile() {
        XCTAssertThrowsError(try CIFARReader.parse(Data(count: 3073 + 5), file: "b.bin")) { XCTAssertEqual(($0 as? ReadError)?.kind, .truncated) }
        XCTAssertThrowsError(try CIFARReader.parse(Data([42] + [UInt8](repeating: 0, count: 3072)), file: "b.bin")) {
            XCTAssertEqual(($0 as? ReadError)?.kind, .badLabel)
            XCTAssert("\($0)".contains("label 42"))
        }
        XCTAssertThrowsError(try CIFARReader.parse(Data(), file: "b.bin"))
    }

    func testArchitectureHostile() {
        for json in [#"{"input": [1, 99999999, 8], "layers": []}"#, #"{"input": [1, 8], "layers": []}"#, #"{"input": [1, 8, 8], "layers": 5}"#,
                     #"{"input": [1, 8, 8], "layers": [{"type": "conv", "out": 2, "kernel": 1e300}]}"#, "[[[[[[[[[[]]]]]]]]]]", ""] {
            XCTAssertThrowsError(try Architecture(json: Data(json.utf8)).makeModel(seed: 0), json)
        }
    }

    // MARK: Every command refuses the same way

    func testInspectorUsesTheSameReaders() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inspect-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let bad = dir.appendingPathComponent("w.safetensors")
        try safetensors(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, payload: 8).write(to: bad)
        XCTAssertThrowsError(try FileInspector.describe(bad)) { XCTAssertEqual(($0 as? ReadError)?.kind, .badShape) }
        XCTAssertThrowsError(try WeightsSource(parsing: bad.path).load()) { XCTAssertEqual(($0 as? ReadError)?.kind, .badShape) }
        let unknown = dir.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: unknown)
        XCTAssertThrowsError(try FileInspector.describe(unknown)) { XCTAssertEqual(($0 as? ReadError)?.kind, .unsupported) }
    }

    // MARK: Issue 17, second round

    /// A zero dimension beside huge ones made the product 0, so the shape passed and the
    /// code iterating the other axes overflowed.
    func testZeroDimensionDoesNotHideHugeOnes() throws {
        XCTAssertNil(checkedProduct([0, 1 << 40, 1 << 40]))
        XCTAssertEqual(checkedProduct([0, 3, 5]), 0)
        XCTAssertEqual(checkedProduct([2, 3, 5]), 30)
        expectNPY(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1099511627776, 1099511627776), }", body: 0), .tooLarge)
        let header = #"{"w": {"dtype": "F32", "shape": [0, 1099511627776, 1099511627776], "data_offsets": [0, 0]}}"#
        var st = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        st.append(Data(header.utf8))
        XCTAssertThrowsError(try SafeTensorsFile(data: st, file: "z.safetensors")) { XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge, "\($0)") }
    }

    func checkpointFile(_ arch: String, tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-ckpt-\(getpid())-\(UUID().uuidString).safetensors")
        try SafeTensorsFile.encode(tensors, metadata: metadata.merging(["convviz.architecture": arch]) { a, _ in a }).write(to: url)
        return url
    }

    /// A 300-byte checkpoint asking for 10^8 or 10^6 filters is refused from its
    /// description, before a network is built.
    func testCheckpointArchitectureCheckedBeforeAllocating() throws {
        for (out, kind) in [(100_000_000, ReadError.Kind.tooLarge), (1_000_000, .badShape)] {
            let url = try checkpointFile(#"{"name": "n", "input": [3, 32, 32], "layers": [{"type": "conv", "name": "conv1", "out": \#(out), "kernel": 3}]}"#,
                                         tensors: [("conv1.weight", Tensor(shape: [1, 3, 3, 3]))])
            XCTAssertThrowsError(try Checkpoint(contentsOf: url)) { e in
                XCTAssertEqual((e as? ReadError)?.kind, kind, "\(e)")
                XCTAssertEqual((e as? ReadError)?.file, url.path)
            }
        }
        let big = try Architecture(json: Data(#"{"name": "big", "input": [3, 8, 8], "layers": [{"type": "conv", "out": 100000000, "kernel": 3}]}"#.utf8))
        XCTAssertThrowsError(try big.makeModel(seed: 0)) { XCTAssert("\($0)".contains("parameters"), "\($0)") }
    }

    func testCheckpointNegativeStepRefused() throws {
        let arch = #"{"name": "n", "input": [1, 4, 4], "layers": [{"type": "conv", "name": "conv1", "out": 1, "kernel": 3}]}"#
        let tensors = [("conv1.weight", Tensor(shape: [1, 1, 3, 3])), ("conv1.bias", Tensor(shape: [1]))]
        XCTAssertNoThrow(try Checkpoint(contentsOf: try checkpointFile(arch, tensors: tensors, metadata: ["convviz.step": "7"])))
        XCTAssertThrowsError(try Checkpoint(contentsOf: try checkpointFile(arch, tensors: tensors, metadata: ["convviz.step": "-1"]))) {
            XCTAssertEqual(($0 as? ReadError)?.kind, .corrupt, "\($0)")
        }
    }

    /// Trainer arithmetic: epochs near Int.max saturate; no images is an error, not a trap.
    func testTrainerSaturatesEpochsAndRefusesNoImages() throws {
        let arch = try Architecture(json: Data(#"{"name": "n", "input": [1, 4, 4], "layers": [{"type": "flatten"}, {"type": "linear", "out": 2}]}"#.utf8))
        var settings = TrainingSettings()
        settings.epochs = 1 << 62
        settings.maxSteps = 2
        settings.batchSize = 2
        let images = LabeledImages(images: Tensor(shape: [4, 1, 4, 4], data: (0..<64).map { Float($0 % 5) / 5 }), labels: [0, 1, 0, 1], classes: ["a", "b"])
        let trainer = try Trainer(model: try arch.makeModel(seed: 0), architecture: arch, settings: settings, standardization: Standardization(mean: [0], std: [1]))
        XCTAssertEqual(try trainer.train(images, test: nil) { _ in }.steps, 2)
        let none = LabeledImages(images: Tensor(shape: [0, 1, 4, 4]), labels: [], classes: ["a", "b"])
        XCTAssertThrowsError(try trainer.train(none, test: nil) { _ in })
        let measured = Standardization.measured(none.images)
        XCTAssertEqual(measured.std, [1])
    }

    /// A photo is never resized to an architecture's absurd input size.
    func testModelInputRefusesResizingBeyondThePixelLimit() throws {
        let arch = try Architecture(json: Data(#"{"name": "huge", "input": [3, 20000, 20000], "layers": [{"type": "relu"}]}"#.utf8))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-photo-\(getpid()).png")
        try Data(HandMadePNG.uniform(width: 5, height: 3)).write(to: url)
        XCTAssertThrowsError(try ModelInput.prepare(imageAt: url, for: arch, standardization: Standardization(mean: [0, 0, 0], std: [1, 1, 1]))) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .tooLarge, "\(e)")
            XCTAssert("\(e)".contains("20000x20000"), "\(e)")
        }
    }

    /// An 11,500 x 11,500 PNG of a few hundred kB is refused from its header by the
    /// default limit (it was decoded, at 1.9 GB), in `inspect` as in every reader.
    func testDefaultPixelLimitKeepsAnImageUnderAGigabyte() throws {
        expectPNG(HandMadePNG.uniform(width: 11_500, height: 11_500), .tooLarge, "11500x11500")
        XCTAssertLessThanOrEqual(ReadLimits.default.maxPixels * 3 * MemoryLayout<Float>.size, 1 << 30)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-wide-\(getpid()).png")
        try Data(HandMadePNG.uniform(width: 11_500, height: 11_500)).write(to: url)
        XCTAssertThrowsError(try FileInspector.describe(url)) { XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge, "\($0)") }
    }
}
