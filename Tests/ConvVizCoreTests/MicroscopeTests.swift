@testable import ConvVizCore
import Foundation
import XCTest

/// The microscope's job: its records equal what top-patches and feature visualization
/// compute for the same units, and a run stopped after some units then resumed leaves
/// the same files as one run straight through.
final class MicroscopeTests: XCTestCase {
    static let tinyArchitecture = #"{"name": "tiny", "input": [1, 12, 12], "layers": [{"type": "conv", "name": "conv1", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool", "kernel": 2}, {"type": "conv", "name": "conv2", "out": 5, "kernel": 3, "padding": 1}, {"type": "relu"}]}"#

    func folder(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("microscope-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func setUp(_ dir: URL) throws -> (ModelSource, MicroscopePlan, HeldImages) {
        let arch = dir.appendingPathComponent("tiny.json")
        try Self.tinyArchitecture.write(to: arch, atomically: true, encoding: .utf8)
        let source = try ModelSource(model: arch.path)
        var rng = SeededGenerator(seed: 3)
        let images = HeldImages(LabeledImages(images: .uniform(shape: [40, 1, 12, 12], bound: 1, using: &rng),
                                              labels: (0..<40).map { $0 % 3 }, classes: ["a", "b", "c"]))
        var settings = MicroscopePlan.Settings()
        settings.steps = 5
        settings.batch = 16
        settings.classTop = 20
        settings.seed = 7
        let plan = MicroscopePlan(model: arch.path, data: "held", layers: [
            .init(name: "conv1", index: 0, channels: [0, 1, 2, 3]), .init(name: "conv2", index: 3, channels: [1, 3, 4]),
        ], settings: settings)
        return (source, plan, images)
    }

    /// A stand-in for the pictures: the visualization's bytes.
    func writeVisualization(_ content: MicroscopeJob.UnitContent) throws {
        try AtomicFile.write(NPY.encode(content.visualization), to: content.folder.appendingPathComponent("vis.npy"))
    }

    func testRecordsEqualTopPatchesAndFeatureVisualization() throws {
        let dir = try folder("equal")
        let (source, plan, images) = try setUp(dir)
        let standardization = Standardization(mean: [0.5], std: [0.25])
        let job = MicroscopeJob(source: source, plan: plan, images: images, standardization: standardization, site: dir.appendingPathComponent("site"))
        let records = try XCTUnwrap(try job.run(resume: false, writeUnit: writeVisualization))
        XCTAssertEqual(records.map(\.channel), [0, 1, 2, 3, 1, 3, 4])
        for layer in plan.layers {
            // top-patches for the same channels.
            let scan = try TopPatchesScan(model: source, layer: layer.name, seed: plan.settings.seed)
            var settings = TopPatchesScan.Settings()
            settings.channels = layer.channels
            settings.batch = plan.settings.batch
            let expected = try scan.run(images, standardization: standardization, field: scan.theoreticalField, settings: settings,
                                        names: ("m", "d", "test")).patches
            // visualize for the same channels.
            let vis = try MicroscopeJob.visualize(source: source, layer: layer, settings: plan.visualizationSettings(for: source))
            let graph = try source.prefix(through: layer.index).makeGraph(seed: plan.settings.seed)
            var whole = try images.read(0..<40).images
            standardization.apply(to: &whole)
            let out = graph.output(whole)
            let plane = out.shape[2] * out.shape[3]
            for (k, channel) in layer.channels.enumerated() {
                let record = try XCTUnwrap(records.first { $0.layer == layer.name && $0.channel == channel })
                let want = expected.channels[k].patches
                XCTAssertEqual(record.patches.count, 9)
                XCTAssertEqual(record.patches.map(\.image), want.map(\.image), "\(layer.name) \(channel)")
                XCTAssertEqual(record.patches.map(\.y), want.map(\.y))
                XCTAssertEqual(record.patches.map(\.x), want.map(\.x))
                XCTAssertEqual(record.patches.map(\.value), want.map(\.value))
                XCTAssertEqual(record.patches.map(\.box), want.map(\.box))
                XCTAssertEqual(record.patches.map(\.label), want.map { $0.image % 3 })
                XCTAssertEqual(record.objective, vis.values[k])
                let saved = try NPY.read(contentsOf: job.unitFolder(layer, channel).appendingPathComponent("vis.npy"))
                let per = vis.images.count / vis.images.shape[0]
                XCTAssertEqual(saved.data, Array(vis.images.data[(k * per)..<((k + 1) * per)]))
                // The mean over every position of every image.
                var sum = 0.0
                for s in 0..<40 { for i in 0..<plane { sum += Double(out.data[(s * out.shape[1] + channel) * plane + i]) } }
                XCTAssertEqual(Double(record.meanActivation), sum / Double(40 * plane), accuracy: 1e-5 * max(1, abs(sum / Double(40 * plane))))
                XCTAssertEqual(record.classCounts.reduce(0, +), 20)
                XCTAssertEqual(record.receptiveField, layer.name == "conv1" ? [3, 3] : [8, 8])
            }
        }
    }

    func files(under dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in e where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            out[String(url.path.dropFirst(dir.path.count))] = try Data(contentsOf: url)
        }
        return out
    }

    func testResumeAfterAStopMidLayerGivesTheSameFiles() throws {
        let dir = try folder("resume")
        let (source, plan, images) = try setUp(dir)
        let standardization = Standardization(mean: [0.5], std: [0.25])
        let straight = dir.appendingPathComponent("straight"), resumed = dir.appendingPathComponent("resumed")
        let all = try MicroscopeJob(source: source, plan: plan, images: images, standardization: standardization, site: straight)
            .run(resume: false, writeUnit: writeVisualization)
        let job = MicroscopeJob(source: source, plan: plan, images: images, standardization: standardization, site: resumed)
        // Stopped after two units of conv1, then after one unit of conv2.
        XCTAssertNil(try job.run(resume: false, stopAfterUnits: 2, writeUnit: writeVisualization))
        XCTAssertNil(try job.run(resume: true, stopAfterUnits: 3, writeUnit: writeVisualization))
        var written: [Int] = []
        let rest = try job.run(resume: true, writeUnit: { content in written.append(content.record.channel); try self.writeVisualization(content) })
        XCTAssertEqual(written, [3, 4], "only the units not yet finished are made again")
        XCTAssertEqual(rest, all)
        let a = try files(under: straight), b = try files(under: resumed)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (path, data) in a { XCTAssertEqual(b[path], data, path) }
        // Other settings cannot resume this site.
        var other = plan
        other.settings.steps = 6
        XCTAssertThrowsError(try MicroscopeJob(source: source, plan: other, images: images, standardization: standardization, site: resumed)
            .run(resume: true, writeUnit: writeVisualization))
    }
}
