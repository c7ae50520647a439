import Foundation
import XCTest
@testable import ConvVizCore

/// IDX, CIFAR-10, .npy and safetensors readers on small files made here.
final class ReaderTests: XCTestCase {
    func idx(_ shape: [Int], _ bytes: [UInt8]) -> Data {
        var d = Data([0, 0, 0x08, UInt8(shape.count)])
        for s in shape { d.append(contentsOf: [UInt8(s >> 24 & 255), UInt8(s >> 16 & 255), UInt8(s >> 8 & 255), UInt8(s & 255)]) }
        d.append(contentsOf: bytes)
        return d
    }

    func temp(_ name: String, _ data: Data) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convviz-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func testIDXPlainAndGzip() throws {
        let raw = idx([2, 2, 3], Array(0..<12))
        let plain = try IDXReader.parse(raw, file: "x")
        XCTAssertEqual(plain.shape, [2, 2, 3])
        XCTAssertEqual(plain.bytes, Array(0..<12))
        let gz = try XCTUnwrap(Gzip.compressForTests(raw))
        XCTAssertEqual(try IDXReader.parse(gz, file: "x.gz").bytes, Array(0..<12))
    }

    func testIDXDatasetChecksCountsAndLabels() throws {
        let images = try temp("img.idx", idx([3, 2, 2], Array(repeating: 255, count: 12)))
        let labels = try temp("lab.idx", idx([3], [0, 1, 2]))
        let set = try IDXDataset.load(images: images, labels: labels, classes: ["a", "b", "c"])
        XCTAssertEqual(set.images.shape, [3, 1, 2, 2])
        XCTAssertEqual(set.images.data.first, 1)
        let fewer = try temp("lab2.idx", idx([2], [0, 1]))
        XCTAssertThrowsError(try IDXDataset.load(images: images, labels: fewer, classes: ["a", "b", "c"])) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .badShape)
            XCTAssert("\(e)".contains("2 labels for 3 images"), "\(e)")
        }
        let bad = try temp("lab3.idx", idx([3], [0, 7, 1]))
        XCTAssertThrowsError(try IDXDataset.load(images: images, labels: bad, classes: ["a", "b", "c"])) { e in
            XCTAssertEqual((e as? ReadError)?.kind, .badLabel)
        }
    }

    func testFashionMNISTFromDebian() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"),
                          "dataset-fashion-mnist is not installed")
        let test = try FashionMNIST.load(split: "t10k")
        XCTAssertEqual(test.images.shape, [10000, 1, 28, 28])
        XCTAssertEqual(Set(test.labels).count, 10)
        XCTAssertEqual(Standardization.measured(test.images).mean[0], 0.2868, accuracy: 0.002)
    }

    /// A folder given by hand that is missing, a file, or without the files gets its own
    /// message, not Debian's "not installed".
    func testFashionMNISTFolderGivenByHand() throws {
        func message(_ dir: String) -> String {
            do { _ = try FashionMNIST.load(split: "train", directory: URL(fileURLWithPath: dir)); return "loaded" } catch { return "\(error)" }
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("fmnist-empty-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssert(message("/nonexistent-\(getpid())").contains("no such folder"), message("/nonexistent"))
        XCTAssert(message("/etc/hostname").contains("is a file"), message("/etc/hostname"))
        XCTAssert(message(empty.path).contains("the folder has no train-images-idx3-ubyte.gz"), message(empty.path))
        for dir in ["/nonexistent", "/etc/hostname", empty.path] { XCTAssertFalse(message(dir).contains("not installed"), dir) }
    }

    /// DIR/<class>/*.png, mixed sizes and channel counts, resized to the network's input.
    func testImageFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("folder-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        for (cls, shade, size, rgb) in [("cats", UInt8(40), 8, true), ("dogs", UInt8(200), 12, false)] {
            let sub = dir.appendingPathComponent(cls)
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            for i in 0..<3 {
                try Data(HandMadePNG.uniform(width: UInt32(size), height: UInt32(size), rgb: rgb, value: shade)).write(to: sub.appendingPathComponent("\(i).png"))
            }
        }
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("README.txt"))
        let set = try ImageFolder.load(dir, channels: 1, height: 6, width: 6)
        XCTAssertEqual(set.classes, ["cats", "dogs"])
        XCTAssertEqual(set.labels, [0, 0, 0, 1, 1, 1])
        XCTAssertEqual(set.images.shape, [6, 1, 6, 6])
        XCTAssertEqual(set.images[0, 0, 2, 2], 40.0 / 255, accuracy: 1e-5)
        XCTAssertEqual(set.images[5, 0, 3, 3], 200.0 / 255, accuracy: 1e-5)
        let (train, test) = set.split(testFraction: 0.34, seed: 1)
        XCTAssertEqual(train.count + test.count, 6)
        XCTAssertThrowsError(try ImageFolder.load(dir.appendingPathComponent("nope"), channels: 1, height: 6, width: 6)) {
            XCTAssertEqual(($0 as? ReadError)?.kind, .notFound)
        }
    }

    func testCIFARRecords() throws {
        var d = Data()
        for r in 0..<2 { d.append(UInt8(r + 3)); d.append(contentsOf: (0..<3072).map { UInt8(($0 + r) % 256) }) }
        let set = try CIFARReader.parse(d, file: "b.bin")
        XCTAssertEqual(set.images.shape, [2, 3, 32, 32])
        XCTAssertEqual(set.labels, [3, 4])
        XCTAssertEqual(set.images[1, 0, 0, 1], 2 / 255)
        XCTAssertThrowsError(try CIFARReader.parse(d.dropLast(5), file: "b.bin")) { XCTAssertEqual(($0 as? ReadError)?.kind, .truncated) }
    }

    func testNPYRoundTripAndErrors() throws {
        var rng = SeededGenerator(seed: 1)
        let t = Tensor.normal(shape: [2, 3, 4], using: &rng)
        let data = NPY.encode(t)
        XCTAssertEqual(data.count % 64, (2 * 3 * 4 * 4) % 64, "header padded to 64 bytes")
        XCTAssertEqual(try NPY.read(data, file: "t.npy"), t)
        XCTAssertThrowsError(try NPY.read(data.dropLast(4), file: "t.npy")) { XCTAssertEqual(($0 as? ReadError)?.kind, .truncated) }
        var bad = data; bad[1] = 0x58
        XCTAssertThrowsError(try NPY.read(bad, file: "t.npy")) { XCTAssertEqual(($0 as? ReadError)?.kind, .badMagic) }
    }

    func testSafeTensorsRoundTripAndValidation() throws {
        let a = Tensor(shape: [2, 2], data: [1, 2, 3, 4]), b = Tensor(shape: [3], data: [5, 6, 7])
        let data = SafeTensorsFile.encode([("a", a), ("b", b)], int64Scalars: [("n", 9)], metadata: ["k": "v"])
        let file = try SafeTensorsFile(data: data, file: "t.safetensors")
        XCTAssertEqual(try file.tensor("a"), a)
        XCTAssertEqual(try file.tensor("b"), b)
        XCTAssertEqual(try file.tensor("n").data, [9])
        XCTAssertEqual(file.metadata["k"], "v")
        XCTAssertThrowsError(try file.tensor("zzz")) { XCTAssertEqual(($0 as? ReadError)?.kind, .missingTensor) }
        XCTAssertThrowsError(try SafeTensorsFile(data: data.dropLast(3), file: "t")) { XCTAssertEqual(($0 as? ReadError)?.kind, .corrupt) }
        var huge = data; huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        XCTAssertThrowsError(try SafeTensorsFile(data: huge, file: "t")) { XCTAssertEqual(($0 as? ReadError)?.kind, .tooLarge) }
    }
}

extension Gzip {
    /// gzip-compresses with zlib (tests only; ConvViz itself only reads gzip).
    static func compressForTests(_ data: Data) -> Data? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        guard (try? p.run()) != nil else { return nil }
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return out
    }
}
