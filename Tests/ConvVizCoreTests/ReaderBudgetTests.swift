import CZlib
import Foundation
import XCTest
@testable import ConvVizCore

/// Readers' memory budgets (issue 17): sizes a header declares are checked before the
/// data is inflated, read or parsed.
final class ReaderBudgetTests: XCTestCase {
    /// A gzip stream of `header` followed by `zeros` zero bytes, compressed a megabyte at a
    /// time (the uncompressed file never exists).
    static func gzip(header: Data, zeros: Int) -> Data {
        var stream = z_stream()
        XCTAssertEqual(deflateInit2_(&stream, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)), Z_OK)
        defer { deflateEnd(&stream) }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        func feed(_ bytes: [UInt8], flush: Int32) {
            var input = bytes
            input.withUnsafeMutableBufferPointer { inp in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                repeat {
                    buffer.withUnsafeMutableBufferPointer { o in
                        stream.next_out = o.baseAddress
                        stream.avail_out = uInt(o.count)
                        _ = deflate(&stream, flush)
                        out.append(o.baseAddress!, count: o.count - Int(stream.avail_out))
                    }
                } while stream.avail_out == 0 || (flush == Z_FINISH && stream.avail_in > 0)
            }
        }
        feed([UInt8](header), flush: Z_NO_FLUSH)
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var left = zeros
        while left > 0 { let n = min(left, chunk.count); feed(Array(chunk[..<n]), flush: Z_NO_FLUSH); left -= n }
        feed([], flush: Z_FINISH)
        return out
    }

    func idxHeader(_ shape: [UInt32]) -> Data {
        Data([0, 0, 8, UInt8(shape.count)] + shape.flatMap { withUnsafeBytes(of: $0.bigEndian) { Array($0) } })
    }

    func testGzipIDXDeclaringMoreThanTheDataLimitIsRefusedBeforeInflating() throws {
        // 2.8 GB declared in a small stream: refused from the 16-byte header.
        let declared = idxHeader([3_571_429, 28, 28])
        let small = Self.gzip(header: declared, zeros: 1 << 20)
        XCTAssertThrowsError(try IDXReader.parse(small, file: "bomb.idx.gz")) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .tooLarge)
            XCTAssert("\(e)".contains("bomb.idx.gz"), "\(e)")
        }
        // 300 MB of real data behind an honest header: over the 128 MiB default, refused
        // before it is inflated; accepted when the limit is raised.
        let honest = Self.gzip(header: idxHeader([300, 1000, 1000]), zeros: 300_000_000)
        XCTAssertLessThan(honest.count, 1 << 20)
        let started = Date()
        XCTAssertThrowsError(try IDXReader.parse(honest, file: "big.idx.gz")) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .tooLarge)
            XCTAssert("\(e)".contains("declares 300000000 bytes"), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "refused from the header, not after inflating")
        let tiny = Self.gzip(header: idxHeader([2, 3]), zeros: 6)
        XCTAssertEqual(try IDXReader.parse(tiny, file: "ok.gz").shape, [2, 3])
        var raised = ReadLimits(); raised.maxDataBytes = 6
        XCTAssertEqual(try IDXReader.parse(tiny, file: "ok.gz", limits: raised).bytes, [0, 0, 0, 0, 0, 0])
        raised.maxDataBytes = 5
        XCTAssertThrowsError(try IDXReader.parse(tiny, file: "ok.gz", limits: raised))
        // More inflated data than the header declares.
        XCTAssertThrowsError(try IDXReader.parse(Self.gzip(header: idxHeader([2, 3]), zeros: 7), file: "long.gz")) {
            XCTAssertEqual(($0 as? ReadError)?.kind, .badShape)
        }
    }

    func testIDXImagesWithoutAreaAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idx-zero-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("i.idx"), labels = dir.appendingPathComponent("l.idx")
        try idxHeader([5, 0, 28]).write(to: images)
        try (idxHeader([5]) + Data(count: 5)).write(to: labels)
        XCTAssertThrowsError(try IDXDataset.load(images: images, labels: labels, classes: ["a"])) { e in
            XCTAssert("\(e)".contains("zero dimension"), "\(e)")
        }
        XCTAssertThrowsError(try FileInspector.describe(images)) { XCTAssert("\($0)".contains("zero dimension"), "\($0)") }
    }

    func testSparseCIFARFileIsRefusedByItsSizeBeforeReading() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparse-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssert(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(CIFARReader.recordSize * 200_000))  // 614 MB, no blocks
        try handle.close()
        let started = Date()
        XCTAssertThrowsError(try CIFARReader.read(url)) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .tooLarge)
            XCTAssert("\(e)".contains(url.path), "\(e)")
        }
        // inspect measures the file by its kind before reading it too.
        XCTAssertThrowsError(try FileInspector.describe(url)) { XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
    }

    func testSafetensorsHeaderOfTooManyTensorsIsRefusedBeforeParsing() throws {
        var header = "{"
        for i in 0..<70_000 { header += #""t\#(i)":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"# }
        header.removeLast(); header += "}"
        let json = Data(header.utf8)
        var data = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        data.append(json)
        XCTAssertThrowsError(try SafeTensorsFile(data: data, file: "many.safetensors")) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .tooLarge)
            XCTAssert("\(e)".contains("70000 tensors"), "\(e)")
        }
        var raised = ReadLimits(); raised.maxTensorCount = 100_000
        XCTAssertEqual(try SafeTensorsFile(data: data, file: "many.safetensors", limits: raised).entries.count, 70_000)
    }

    func testSpecialFilesAreRefusedByKindBeforeReading() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(getpid())")
        unlink(fifo.path)
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        defer { unlink(fifo.path) }
        for (path, word) in [(fifo.path, "FIFO"), ("/dev/zero", "device"), ("/tmp", "directory")] {
            XCTAssertThrowsError(try FileReading.read(URL(fileURLWithPath: path))) { e in
                XCTAssert("\(e)".contains(path) && "\(e)".contains(word), "\(e)")
            }
            XCTAssertThrowsError(try FileInspector.describe(URL(fileURLWithPath: path))) { XCTAssert("\($0)".contains(word), "\($0)") }
        }
    }

    func testShapesReadACheckpointsHeaderWithoutBuildingItsWeights() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("header-only-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let arch = #"{"name": "h", "input": [3, 8, 8], "layers": [{"type": "conv", "name": "conv1", "out": 4, "kernel": 3}]}"#
        // Enough values, under a name the network does not have: building it would fail.
        try SafeTensorsFile.encode([("other", Tensor(shape: [112]))], metadata: ["convviz.architecture": arch]).write(to: url)
        let table = try ModelSource.shapeTable(of: url.path)
        XCTAssertEqual(table.rows.last?.output, [4, 6, 6])
        XCTAssertThrowsError(try Checkpoint(contentsOf: url), "a full read still checks every tensor")
    }

    /// A raised element limit must not turn count x element size into an overflow trap.
    func testRaisedLimitsDoNotOverflowByteCounts() {
        var unlimited = ReadLimits(); unlimited.maxElements = .max; unlimited.maxHeaderBytes = .max
        var h = "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }"
        while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
        h += "\n"
        let npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count & 255), UInt8(h.utf8.count >> 8)] + Array(h.utf8))
        XCTAssertThrowsError(try NPY.read(npy, file: "big.npy", limits: unlimited)) { XCTAssertNotNil($0 as? ReadError) }
        let json = Data(#"{"t":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}}"#.utf8)
        var st = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        st.append(json)
        XCTAssertThrowsError(try SafeTensorsFile(data: st, file: "big.safetensors", limits: unlimited)) { XCTAssertNotNil($0 as? ReadError) }
        var huge = withUnsafeBytes(of: UInt64.max >> 1) { Data($0) }
        huge.append(json)
        XCTAssertThrowsError(try SafeTensorsFile(data: huge, file: "huge.safetensors", limits: unlimited)) { XCTAssertNotNil($0 as? ReadError) }
    }

    func testFileNamesWithControlCharactersStayOnOneLine() {
        let e = ReadError("bad\nname\u{1B}[31m.npy", .corrupt, "line one\nline two")
        XCTAssertEqual(e.description, #"bad\nname\u{1B}[31m.npy: line one\nline two"#)
        XCTAssertFalse(e.description.contains("\n"))
    }
}
