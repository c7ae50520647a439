@testable import ConvVizCore
import Foundation
import XCTest

/// Top patches: the heap's order, the known answers of a network whose channels sum
/// known windows (scripts/make_top_patches_fixture.py), crops at the border, exact
/// sharded merges and the partial file's round trip.
final class TopPatchesTests: XCTestCase {
    static var fixture: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/top-patches") }
    static let identity = Standardization(mean: [0], std: [1])

    func windowScan() throws -> (TopPatchesScan, TopPatchesImageSource) {
        let source = try ModelSource(model: Self.fixture.appendingPathComponent("window.json").path,
                                     weights: Self.fixture.appendingPathComponent("window.safetensors").path)
        let scan = try TopPatchesScan(model: source, layer: "window")
        let (images, split) = try TopPatchesImages.open(.folder(Self.fixture.appendingPathComponent("images").path), split: .test, input: [1, 8, 8])
        XCTAssertEqual(split, "all")
        XCTAssertEqual(images.count, 12)
        return (scan, images)
    }

    func run(_ scan: TopPatchesScan, _ images: TopPatchesImageSource, top: Int = 5, batch: Int = 3, shard: TopPatchesScan.Shard = .whole,
             standardization: Standardization = identity) throws -> TopPatches {
        var settings = TopPatchesScan.Settings()
        settings.top = top
        settings.batch = batch
        settings.shard = shard
        return try scan.run(images, standardization: standardization, field: scan.theoreticalField, settings: settings,
                            names: ("window.json", "folder:images", "all")).patches
    }

    func testHeapKeepsTheBestInTheTieOrder() {
        var rng = SeededGenerator(seed: 5)
        for capacity in [1, 3, 8] {
            var heap = TopPatchesHeap(capacity: capacity)
            var all: [TopPatches.Patch] = []
            for image in 0..<200 {
                // Few distinct values: ties are common.
                let p = TopPatches.Patch(image: image, y: Int(rng.next() % 3), x: Int(rng.next() % 3), value: Float(rng.next() % 7))
                heap.offer(p)
                all.append(p)
                XCTAssertLessThanOrEqual(heap.count, capacity)
            }
            let expected = Array(all.sorted { a, b in a.value != b.value ? a.value > b.value : a.image < b.image }.prefix(capacity))
            XCTAssertEqual(heap.sorted, expected, "capacity \(capacity)")
        }
    }

    func testWindowNetworkFindsTheKnownImagesPositionsAndCrops() throws {
        let (scan, images) = try windowScan()
        XCTAssertEqual(scan.outputShape, [2, 8, 8])
        let r = try run(scan, images)
        XCTAssertEqual(r.channels.map(\.channel), [0, 1])
        // Channel 0 sums the 3x3 window: the blocks' centres, brightest first; images 3
        // and 4 tie (9 x 150/255) and 3 ranks first; the lone border pixel sums to 1 at
        // four units, the first of which in row-major order is (0, 0).
        let c0 = r.channels[0].patches
        XCTAssertEqual(c0.map(\.image), [0, 3, 4, 1, 2])
        XCTAssertEqual(c0.map { [$0.y, $0.x] }, [[3, 4], [2, 2], [6, 1], [5, 5], [0, 0]])
        XCTAssertEqual(c0[0].value, 9 * 200 / 255, accuracy: 1e-5)
        XCTAssertEqual(c0[1].value, c0[2].value)
        XCTAssertEqual(c0[4].value, 1, accuracy: 1e-6)
        // The crop of a block's centre is the block itself.
        XCTAssertEqual(c0.map(\.box), [[2, 3, 3, 3], [1, 1, 3, 3], [5, 0, 3, 3], [4, 4, 3, 3], [-1, -1, 3, 3]])
        // Channel 1 is the pixel up-left of the unit: every unit whose up-left pixel is in
        // the block ties; the first in row-major order wins, one below-right of the block's corner.
        let c1 = r.channels[1].patches
        XCTAssertEqual(c1.map(\.image), [2, 0, 3, 4, 1])
        XCTAssertEqual(c1.map { [$0.y, $0.x] }, [[1, 1], [3, 4], [2, 2], [6, 1], [5, 5]])
        XCTAssertEqual(c1[0].value, 1)
    }

    func testBorderCropIsPaddedNotShifted() throws {
        let (scan, images) = try windowScan()
        let r = try run(scan, images)
        let border = r.channels[0].patches[4]
        XCTAssertEqual(border.image, 2)
        let crop = try r.crops(from: images)[0][4].crop
        XCTAssertEqual(crop.pixels.shape, [1, 3, 3])
        // Row 0 and column 0 of the box lie outside the image: padding. The image's
        // (0, 0), the bright pixel, stays at the box's (1, 1).
        XCTAssertEqual(crop.inside, [false, false, false, false, true, true, false, true, true])
        XCTAssertEqual(crop.pixels.data, [0, 0, 0, 0, 1, 0, 0, 0, 0])
        // An inner crop equals the window of the image.
        let inner = try r.crops(from: images)[0][0]
        XCTAssertEqual(inner.crop.pixels.data, [Float](repeating: Float(200) / 255, count: 9))
        XCTAssertTrue(inner.crop.inside.allSatisfy { $0 })
        XCTAssertEqual(inner.label, 0)
    }

    func testShardedThenMergedEqualsUnshardedByteForByte() throws {
        let (scan, images) = try windowScan()
        // A random-weight SmallConvNet on Fashion-MNIST-sized noise as well: real ties are rare there.
        let small = try TopPatchesScan(model: ModelSource(model: "small"), layer: "conv1", seed: 3)
        var rng = SeededGenerator(seed: 9)
        let noise = HeldImages(LabeledImages(images: Tensor(shape: [24, 1, 28, 28], data: (0..<(24 * 784)).map { _ in rng.uniform(0, 1) }),
                                             labels: Array(repeating: 0, count: 24), classes: ["x"]))
        for (scan, images, batch) in [(scan, images as TopPatchesImageSource, 2), (small, noise, 3)] {
            var settings = TopPatchesScan.Settings()
            settings.top = 4
            settings.batch = batch
            settings.channels = Array(0..<min(6, scan.channelCount))
            func result(_ shard: TopPatchesScan.Shard) throws -> TopPatches {
                settings.shard = shard
                return try scan.run(images, standardization: .fashionMNIST, field: scan.theoreticalField, settings: settings, names: ("m", "d", "test")).patches
            }
            let whole = try result(.whole)
            for n in [1, 2, 3, 7] {
                let parts = try (0..<n).map { try result(TopPatchesScan.Shard(index: $0, count: n)) }
                // Through the partial files, as `merge` reads them, in a scrambled order.
                let read = try parts.reversed().map { try TopPatches(partialJSON: Data($0.json(partial: true).utf8), file: "part") }
                let merged = try TopPatches.merge(read, names: read.map { _ in "part" })
                XCTAssertEqual(merged.json(), whole.json(), "\(n) shards")
                XCTAssertEqual(merged.scan.scanned, images.count)
                XCTAssertTrue(merged.scan.isComplete)
                // Associative: merging merged halves gives the same.
                if n == 7 {
                    let left = try TopPatches.merge(Array(read.prefix(3)), names: ["a", "b", "c"])
                    let right = try TopPatches.merge(Array(read.dropFirst(3)), names: ["d", "e", "f", "g"])
                    XCTAssertFalse(left.scan.isComplete)
                    XCTAssertEqual(try TopPatches.merge([right, left], names: ["r", "l"]).json(), whole.json())
                }
            }
        }
    }

    func testMergeRefusesPartsThatDoNotBelongTogether() throws {
        let (scan, images) = try windowScan()
        let a = try run(scan, images, shard: TopPatchesScan.Shard(index: 0, count: 2))
        XCTAssertThrowsError(try TopPatches.merge([a, a], names: ["p0", "q0"])) { e in
            XCTAssertTrue("\(e)".contains("shard 0/2 is also in p0"), "\(e)")
        }
        let b = try run(scan, images, batch: 4, shard: TopPatchesScan.Shard(index: 1, count: 2))
        XCTAssertThrowsError(try TopPatches.merge([a, b], names: ["p0", "p1"])) { e in XCTAssertTrue("\(e)".contains("--batch"), "\(e)") }
        let c = try run(scan, images, top: 2, shard: TopPatchesScan.Shard(index: 1, count: 2))
        XCTAssertThrowsError(try TopPatches.merge([a, c], names: ["p0", "p1"])) { e in XCTAssertTrue("\(e)".contains("--top"), "\(e)") }
    }

    func testPartialJSONRoundTripsExactValuesAndRefusesBadFiles() throws {
        let awkward: [Float] = [0.1, 1e-7, 3.4028235e38, -2.5, Float(bitPattern: 0x3f8ccccd), .leastNonzeroMagnitude]
        let patches = awkward.enumerated().map { TopPatches.Patch(image: $0.offset, y: 1, x: 2, value: $0.element, box: [-1, 0, 5, 5]) }
            .sorted(by: TopPatches.Patch.ranksBefore)
        let result = TopPatches(model: "m \"quoted\"\n", layer: "layer1.0.relu", data: "folder:/tmp/x", split: "all", top: 6,
                                channels: [.init(channel: 3, patches: patches)],
                                scan: .init(shards: [1], shardCount: 2, batch: 8, images: 10, scanned: 2, standardization: .fashionMNIST,
                                            crop: "theoretical", misaligned: true, input: [1, 28, 28]))
        let text = result.json(partial: true)
        XCTAssertEqual(try TopPatches(partialJSON: Data(text.utf8), file: "p"), result)
        XCTAssertThrowsError(try TopPatches(partialJSON: Data(result.json().utf8), file: "final.json")) { e in
            XCTAssertTrue("\(e)".contains("final.json: not a partial result"), "\(e)")
        }
        XCTAssertThrowsError(try TopPatches(partialJSON: Data("[1, 2]".utf8), file: "list.json"))
        let unordered = text.replacingOccurrences(of: "\"image\": 0,", with: "\"image\": 11,")
        XCTAssertThrowsError(try TopPatches(partialJSON: Data(unordered.utf8), file: "p"))
    }

    func testPrefixRunsFoldedAndFusedAsEvaluateDoes() throws {
        // A checkpoint-like source: SmallConvNet with BatchNorm statistics that are not the identity.
        var rng = SeededGenerator(seed: 2)
        let graph = try Architecture.smallConvNet().makeGraph(seed: 1)
        var weights: [String: Tensor] = [:]
        for (name, p) in graph.namedParameters {
            var t = p.value
            if name.hasSuffix("running_var") { t.data = t.data.map { _ in rng.uniform(0.5, 1.5) } }
            if name.hasSuffix("running_mean") || name.hasSuffix(".bias") { t.data = t.data.map { _ in rng.uniform(-0.5, 0.5) } }
            weights[name] = t
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("top-patches-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("small.safetensors")
        try SafeTensorsFile.encode(weights.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).write(to: file)
        let arch = dir.appendingPathComponent("small.json")
        try Data(#"{"name": "small", "input": [1, 28, 28], "layers": [{"type": "conv", "name": "conv1", "out": 32, "kernel": 5, "padding": 2}, {"type": "batchnorm", "name": "bn1"}, {"type": "relu", "name": "relu1"}, {"type": "maxpool", "kernel": 2}, {"type": "conv", "name": "conv2", "out": 64, "kernel": 5, "padding": 2}, {"type": "batchnorm", "name": "bn2"}, {"type": "relu", "name": "relu2"}, {"type": "maxpool", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "name": "fc", "out": 10}]}"#.utf8).write(to: arch)
        let source = try ModelSource(model: arch.path, weights: file.path)
        let scan = try TopPatchesScan(model: source, layer: "relu2")
        XCTAssertEqual(scan.folded, 2)
        XCTAssertEqual(scan.fused, 2)
        // Only the prefix: nothing after relu2 is built.
        XCTAssertEqual(scan.graph.architecture.layers.last?.name, "relu2")
        XCTAssertEqual(scan.graph.architecture.layers.map(\.name), ["conv1", "relu1", "pool1", "conv2", "relu2"])
        // Its values are the unfolded network's, within float rounding.
        let x = Tensor(shape: [4, 1, 28, 28], data: (0..<(4 * 784)).map { _ in rng.normal() })
        let reference = try source.makeGraph()
        let expected = reference.output(x, through: reference.index(ofLayer: "relu2")!)
        let got = scan.graph.output(x)
        XCTAssertEqual(got.shape, expected.shape)
        let worst = zip(got.data, expected.data).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-4 * max(1, expected.maxAbs))
        // The receptive field of relu2 (after conv 5, pool 2, conv 5): 14 px, box around the unit.
        XCTAssertEqual(scan.theoreticalField.box(y: 0, x: 0), [-6, -6, 14, 14])
        XCTAssertEqual(scan.theoreticalField.box(y: 13, x: 13), [20, 20, 14, 14])
        XCTAssertEqual(scan.filters()?.shape, [64, 32, 5, 5])
        // A linear layer has no positions: one entry per image, the whole image.
        let fc = try TopPatchesScan(model: source, layer: "fc")
        XCTAssertEqual(fc.outputShape, [10])
        XCTAssertEqual(fc.theoreticalField.box(y: 0, x: 0), [0, 0, 28, 28])
        XCTAssertNil(fc.filters())
    }

    func testEffectiveCropIsCentredAndInsideTheTheoreticalField() throws {
        let (scan, images) = try windowScan()
        var (probe, _) = try images.read(0..<8)
        Self.identity.apply(to: &probe)
        let field = try XCTUnwrap(try scan.effectiveField(probe: probe))
        // One 3x3 layer: every pixel of the window moves channel 0 by 1 and channel 1's
        // single tap by 1 more at the corner: the box is the whole 3x3 window.
        XCTAssertEqual(field.box(y: 4, x: 4), [3, 3, 3, 3])
        XCTAssertEqual(field.kind, "effective")
    }

    /// The scan's memory does not grow with the data: peak RSS after 60,000 images
    /// (Fashion-MNIST's training split, streamed) is that after 6,000 give or take a few
    /// MB, while holding the split as floats would take 188 MB.
    func testMemoryStaysFlatOverSixtyThousandImages() throws {
        guard ProcessInfo.processInfo.environment["CONVVIZ_LONG_TESTS"] == "1" else { throw XCTSkip("set CONVVIZ_LONG_TESTS=1") }
        let (images, _) = try TopPatchesImages.open(.fashionMNIST, split: .train, input: [1, 28, 28])
        XCTAssertEqual(images.count, 60_000)
        let scan = try TopPatchesScan(model: ModelSource(model: "small"), layer: "conv1")
        var settings = TopPatchesScan.Settings()
        settings.batch = 256
        func peakMB() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_maxrss) / 1024
        }
        settings.limit = 6_000
        _ = try scan.run(images, standardization: .fashionMNIST, field: scan.theoreticalField, settings: settings, names: ("small", "fashion-mnist", "train"))
        let after6k = peakMB()
        settings.limit = nil
        let all = try scan.run(images, standardization: .fashionMNIST, field: scan.theoreticalField, settings: settings, names: ("small", "fashion-mnist", "train"))
        let after60k = peakMB()
        XCTAssertEqual(all.patches.scan.scanned, 60_000)
        print(String(format: "peak RSS after 6,000 images: %.1f MB; after 60,000: %.1f MB", after6k, after60k))
        XCTAssertLessThan(after60k - after6k, 30, "peak RSS grew from \(after6k) MB to \(after60k) MB")
    }
}
