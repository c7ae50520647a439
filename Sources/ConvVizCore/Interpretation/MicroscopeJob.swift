import Foundation

/// Computes a microscope site's numbers layer by layer, caching under the site folder so
/// an interrupted run continues where it stopped (`resume`):
///
/// ```
/// SITE/cache/manifest.txt          the plan's fingerprint (a resumed run must match)
/// SITE/cache/LAYER/scan.json       the layer's scan: top patches, means, labels
/// SITE/cache/LAYER/vis.npy, .json  the layer's feature visualizations and objectives
/// SITE/units/LAYER/C/unit.json     a finished unit's record (written after its images)
/// ```
///
/// Per layer the data set is read once (`microscopeScan`), all its channels are
/// optimized together (one `FeatureVisualization` batch, exactly what `visualize
/// --channels` runs), and then each unit's content goes to `writeUnit` (the pictures)
/// before its record is written: a unit with a record is finished and never redone.
public struct MicroscopeJob {
    /// Where the whole job is: work done of total (scan batches, optimization steps and
    /// units, each one), seconds since this run began, and what is being done.
    public struct Progress: Sendable {
        public let done: Int, total: Int
        public let seconds: Double
        public let phase: String
        /// Seconds left at the rate so far (an estimate: the parts cost differently).
        public var remaining: Double { done > 0 ? seconds * Double(total - done) / Double(done) : .infinity }
    }

    /// Everything one unit's pictures need.
    public struct UnitContent {
        public var record: MicroscopeUnit
        /// The feature visualization `[C, S, S]` in [0, 1].
        public var visualization: Tensor
        /// The top patches' crops, best first.
        public var crops: [TopPatchesCrop]
        /// The channel's filter `[C_in, kh, kw]` (nil: not a convolution, or no weights).
        public var kernel: Tensor?
        /// Per `--image` photo, the channel's map `[h, w]`.
        public var maps: [Tensor]
        /// Per photo, the photo as the network sees it `[C, H, W]` in [0, 1].
        public var photos: [Tensor]
        /// The class names of the data (empty without labels).
        public var classes: [String]
        /// Folder for this unit's files.
        public var folder: URL
    }

    /// The plan asked for other settings than the site was begun with.
    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
    }

    public let source: ModelSource
    public let plan: MicroscopePlan
    public let images: TopPatchesImageSource
    public let standardization: Standardization
    /// The `--image` photos, standardized `[1, C, H, W]`, and in [0, 1] `[C, H, W]`.
    public let photos: [(input: Tensor, pixels: Tensor)]
    public let site: URL

    public init(source: ModelSource, plan: MicroscopePlan, images: TopPatchesImageSource, standardization: Standardization,
                photos: [(input: Tensor, pixels: Tensor)] = [], site: URL) {
        self.source = source
        self.plan = plan
        self.images = images
        self.standardization = standardization
        self.photos = photos
        self.site = site
    }

    var cache: URL { site.appendingPathComponent("cache") }
    var manifest: URL { cache.appendingPathComponent("manifest.txt") }
    func layerCache(_ layer: MicroscopePlan.Layer) -> URL { cache.appendingPathComponent(layer.slug) }
    public func unitFolder(_ layer: MicroscopePlan.Layer, _ channel: Int) -> URL {
        site.appendingPathComponent("units").appendingPathComponent(layer.slug).appendingPathComponent("\(channel)")
    }
    func recordFile(_ layer: MicroscopePlan.Layer, _ channel: Int) -> URL { unitFolder(layer, channel).appendingPathComponent("unit.json") }

    /// Runs the plan. Without `resume` earlier work under `site/cache` and `site/units`
    /// is removed first; with it, finished units and cached layer results are kept
    /// (after checking the plan is the one they were made with). `stopAfterUnits`
    /// stops after that many units were written in this run (an interruption, for
    /// tests) and returns nil. Returns every unit's record, in plan order.
    public func run(resume: Bool, stopAfterUnits: Int? = nil, progress: (Progress) -> Void = { _ in },
                    writeUnit: (UnitContent) throws -> Void) throws -> [MicroscopeUnit]? {
        let fm = FileManager.default
        if resume, let previous = try? String(contentsOf: manifest, encoding: .utf8) {
            guard previous == plan.fingerprint else {
                throw Mismatch(description: "\(site.path) was begun with other settings (model, data, layers, channels, --image, --steps, --size, --lr, --seed, --limit); give the same ones, or run without --resume to start again")
            }
        } else {
            for folder in [cache, site.appendingPathComponent("units")] where fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
        }
        try fm.createDirectory(at: cache, withIntermediateDirectories: true)
        try AtomicFile.write(Data(plan.fingerprint.utf8), to: manifest)

        let visSettings = plan.visualizationSettings(for: source)
        let scanTotal = min(images.count, plan.settings.limit ?? images.count)
        let batches = (scanTotal + plan.settings.batch - 1) / plan.settings.batch
        // The work left: per layer its scan and optimization unless cached, and its units.
        var total = 0
        for layer in plan.layers {
            let pending = layer.channels.filter { !fm.fileExists(atPath: recordFile(layer, $0).path) }
            guard !pending.isEmpty else { continue }
            if !fm.fileExists(atPath: layerCache(layer).appendingPathComponent("scan.json").path) { total += batches }
            if !fm.fileExists(atPath: layerCache(layer).appendingPathComponent("vis.json").path) { total += visSettings.steps }
            total += pending.count
        }
        var done = 0, written = 0
        let start = DispatchTime.now().uptimeNanoseconds
        func report(_ phase: String) {
            progress(Progress(done: done, total: total, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, phase: phase))
        }
        report("start")

        var records: [MicroscopeUnit] = []
        for layer in plan.layers {
            let pending = layer.channels.filter { !fm.fileExists(atPath: recordFile(layer, $0).path) }
            if pending.isEmpty {
                records += try layer.channels.map { try readRecord(layer, $0) }
                continue
            }
            let scanner = try TopPatchesScan(model: source, layer: layer.name, seed: plan.settings.seed)
            try fm.createDirectory(at: layerCache(layer), withIntermediateDirectories: true)
            let scan = try layerScan(layer, scanner) { d in done += 1; report("\(layer.name): scan \(d)/\(scanTotal) images") }
            let vis = try layerVisualization(layer, settings: visSettings) { step in done += 1; report("\(layer.name): optimization step \(step)/\(visSettings.steps)") }

            // The top patches' crops of the units still to write, one pass over their images.
            let shown = TopPatches(model: scan.patches.model, layer: scan.patches.layer, data: scan.patches.data, split: scan.patches.split,
                                   top: plan.settings.top, channels: scan.patches.channels.map {
                                       TopPatches.Channel(channel: $0.channel, patches: Array($0.patches.prefix(plan.settings.top)))
                                   }, scan: scan.patches.scan)
            let pendingSet = Set(pending)
            var cropsByChannel: [Int: [TopPatchesCrop]] = [:]
            let wanted = TopPatches(model: shown.model, layer: shown.layer, data: shown.data, split: shown.split, top: shown.top,
                                    channels: shown.channels.filter { pendingSet.contains($0.channel) }, scan: shown.scan)
            for (channel, crops) in zip(wanted.channels, try wanted.crops(from: images)) { cropsByChannel[channel.channel] = crops.map(\.crop) }
            let filters = scanner.filters()
            let probe = ActivationProbe(source: source, index: layer.index)
            let maps = try photos.map { try probe.activations($0.input, seed: plan.settings.seed) }
            let field = scanner.table.rows[layer.index].receptiveField
            let visPer = vis.images.count / max(vis.images.shape[0], 1)

            for (k, channel) in layer.channels.enumerated() {
                if !pendingSet.contains(channel) { records.append(try readRecord(layer, channel)); continue }
                let labelled = images.classes.count > 1
                let best = scan.patches.channels[k].patches
                var counts = [Int](repeating: 0, count: labelled ? images.classes.count : 0)
                if labelled { for p in best.prefix(plan.settings.classTop) where scan.labels[p.image] < counts.count { counts[scan.labels[p.image]] += 1 } }
                let record = MicroscopeUnit(
                    layer: layer.name, channel: channel, objective: vis.values[k], meanActivation: scan.means[k],
                    patches: shown.channels[k].patches.map {
                        MicroscopeUnit.Patch(image: $0.image, y: $0.y, x: $0.x, value: $0.value, box: $0.box, label: labelled ? scan.labels[$0.image] : nil)
                    },
                    classCounts: counts, receptiveField: field)
                let kernel = filters.map { f -> Tensor in
                    let per = f.count / f.shape[0]
                    return Tensor(shape: Array(f.shape.dropFirst()), data: Array(f.data[(channel * per)..<((channel + 1) * per)]))
                }
                let channelMaps = maps.map { m -> Tensor in
                    let (h, w) = m.shape.count == 4 ? (m.shape[2], m.shape[3]) : (1, 1)
                    return Tensor(shape: [h, w], data: Array(m.data[(channel * h * w)..<((channel + 1) * h * w)]))
                }
                let folder = unitFolder(layer, channel)
                try fm.createDirectory(at: folder, withIntermediateDirectories: true)
                try writeUnit(UnitContent(record: record,
                                          visualization: Tensor(shape: Array(vis.images.shape.dropFirst()), data: Array(vis.images.data[(k * visPer)..<((k + 1) * visPer)])),
                                          crops: cropsByChannel[channel] ?? [], kernel: kernel, maps: channelMaps,
                                          photos: photos.map(\.pixels), classes: labelled ? images.classes : [], folder: folder))
                try AtomicFile.write(try record.json(), to: recordFile(layer, channel))
                records.append(record)
                done += 1
                written += 1
                report("\(layer.name): unit \(channel)")
                if let stopAfterUnits, written >= stopAfterUnits { return nil }
            }
        }
        return records
    }

    func readRecord(_ layer: MicroscopePlan.Layer, _ channel: Int) throws -> MicroscopeUnit {
        let file = recordFile(layer, channel)
        return try MicroscopeUnit(json: try FileReading.read(file), file: file.path)
    }
}
