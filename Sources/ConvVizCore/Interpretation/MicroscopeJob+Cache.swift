import Foundation

/// A layer's two batched computations, each read from `SITE/cache/LAYER` when an earlier
/// run finished it, else computed and saved there. Floats are saved by their bits, so a
/// cached result is the computed one exactly.
extension MicroscopeJob {
    /// The layer's feature visualizations: `[N, C, S, S]` images and their objectives.
    struct LayerVisualization {
        var images: Tensor
        var values: [Float]
    }

    /// The per-channel numbers beside the patches, saved as `means.json`.
    struct ScanExtras: Codable {
        var means: [String]
        var labels: [Int]
    }

    struct VisualizationValues: Codable {
        var values: [String]
        var steps: Int
    }

    /// Keys sorted: the same numbers are the same bytes.
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }

    static func bits(_ v: [Float]) -> [String] { v.map { String($0.bitPattern, radix: 16) } }

    static func floats(_ s: [String], file: URL) throws -> [Float] {
        try s.map {
            guard let b = UInt32($0, radix: 16) else { throw ReadError(file.path, .corrupt, "'\($0)' is not a float's bits; delete \(file.deletingLastPathComponent().path) to recompute") }
            return Float(bitPattern: b)
        }
    }

    func layerScan(_ layer: MicroscopePlan.Layer, _ scanner: TopPatchesScan, progress: (Int) -> Void) throws -> MicroscopeScanResult {
        let folder = layerCache(layer)
        let patchesFile = folder.appendingPathComponent("scan.json"), extrasFile = folder.appendingPathComponent("means.json")
        if FileManager.default.fileExists(atPath: patchesFile.path), FileManager.default.fileExists(atPath: extrasFile.path) {
            let patches = try TopPatches(partialJSON: try FileReading.read(patchesFile), file: patchesFile.path)
            let extras: ScanExtras
            do { extras = try JSONDecoder().decode(ScanExtras.self, from: try FileReading.read(extrasFile)) } catch let e as ReadError { throw e } catch {
                throw ReadError(extrasFile.path, .corrupt, "\(error); delete it to recompute")
            }
            return MicroscopeScanResult(patches: patches, means: try Self.floats(extras.means, file: extrasFile), labels: extras.labels)
        }
        var settings = TopPatchesScan.Settings()
        settings.channels = layer.channels
        settings.top = max(plan.settings.top, plan.settings.classTop)
        settings.batch = plan.settings.batch
        settings.limit = plan.settings.limit
        let result = try scanner.microscopeScan(images, standardization: standardization, field: scanner.theoreticalField, settings: settings,
                                                names: (plan.model, plan.data, plan.settings.split)) { done, _ in progress(done) }
        // The extras first: scan.json present means both are.
        try AtomicFile.write(try Self.encoder.encode(ScanExtras(means: Self.bits(result.means), labels: result.labels)), to: extrasFile)
        try AtomicFile.write(result.patches.json(partial: true), to: patchesFile)
        return result
    }

    func layerVisualization(_ layer: MicroscopePlan.Layer, settings: FeatureVisualization.Settings, progress: (Int) -> Void) throws -> LayerVisualization {
        let folder = layerCache(layer)
        let imagesFile = folder.appendingPathComponent("vis.npy"), valuesFile = folder.appendingPathComponent("vis.json")
        if FileManager.default.fileExists(atPath: valuesFile.path), FileManager.default.fileExists(atPath: imagesFile.path) {
            let saved: VisualizationValues
            do { saved = try JSONDecoder().decode(VisualizationValues.self, from: try FileReading.read(valuesFile)) } catch let e as ReadError { throw e } catch {
                throw ReadError(valuesFile.path, .corrupt, "\(error); delete it to recompute")
            }
            return LayerVisualization(images: try NPY.read(contentsOf: imagesFile), values: try Self.floats(saved.values, file: valuesFile))
        }
        let result = try Self.visualize(source: source, layer: layer, settings: settings, progress: progress)
        try AtomicFile.write(NPY.encode(result.images), to: imagesFile)
        try AtomicFile.write(try Self.encoder.encode(VisualizationValues(values: Self.bits(result.values), steps: settings.steps)), to: valuesFile)
        return LayerVisualization(images: result.images, values: result.values)
    }

    /// Every channel of `layer` optimized together: the batch `convviz visualize
    /// --layer L --channels ...` runs for the same settings.
    public static func visualize(source: ModelSource, layer: MicroscopePlan.Layer, settings: FeatureVisualization.Settings,
                                 progress: (Int) -> Void = { _ in }) throws -> FeatureVisualization.Result {
        let graph = try source.prefix(through: layer.index).makeGraph(seed: settings.seed)
        let objective = BatchObjective(units: layer.channels.map { UnitObjective(.channel($0)) })
        let vis = FeatureVisualization(graph: graph, layer: layer.index, objective: objective, settings: settings)
        return vis.run { step, _ in progress(step) }
    }
}
