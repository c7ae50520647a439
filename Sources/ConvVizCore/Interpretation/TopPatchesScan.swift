import Foundation

/// A scan of a data set for the patches that excite each channel of one layer most.
///
/// The network runs as deployed and only as far as it must: the prefix the layer
/// depends on, BatchNorms folded into the convolutions before them and ReLUs run in the
/// convolutions' epilogues (what `convviz evaluate` runs, so the values are the same).
/// Batches stream through; per channel a `TopPatchesHeap` keeps the best `top`, so
/// memory holds one batch and `top x channels` entries whatever the data set's size.
///
/// A shard `I/N` scans batches I, I + N, I + 2N, ...: each batch is the same images in
/// every cut, hence the same arithmetic and the same values, and `TopPatches.merge` of
/// the N results equals the unsharded scan.
public struct TopPatchesScan {
    /// A part of a scan: every `count`-th batch from `index`.
    public struct Shard: Equatable, Sendable, CustomStringConvertible {
        public let index: Int, count: Int
        public init(index: Int, count: Int) throws {
            guard count >= 1, index >= 0, index < count else {
                throw TopPatches.MergeError("shard \(index)/\(count): give I/N with 0 <= I < N")
            }
            self.index = index
            self.count = count
        }
        public static let whole = try! Shard(index: 0, count: 1)
        public var description: String { "\(index)/\(count)" }
    }

    public struct Settings: Sendable {
        /// Channels to rank (nil: all).
        public var channels: [Int]?
        public var top = 9
        public var batch = 128
        public var shard = Shard.whole
        /// Scan the first `limit` images only.
        public var limit: Int?
        public init() {}
    }

    /// Where a scan is: images done of the shard's total, seconds since it began.
    public struct Progress: Sendable {
        public let done: Int, total: Int
        public let seconds: Double
        public var imagesPerSecond: Double { Double(done) / max(seconds, 1e-9) }
        /// Seconds left at the rate so far.
        public var remaining: Double { done > 0 ? Double(total - done) / imagesPerSecond : .infinity }
    }

    public struct Result {
        public var patches: TopPatches
        /// Wall time of the scan: reading, standardizing, the prefix and the ranking.
        public var seconds: Double
        public var imagesPerSecond: Double { Double(patches.scan.scanned) / max(seconds, 1e-9) }
    }

    /// A non-finite activation cannot be ranked.
    public struct NonFinite: Error, CustomStringConvertible {
        public let description: String
    }

    /// The network as named (the shape table and names refer to it).
    public let source: ModelSource
    /// The layer's index in `source.architecture` and its name.
    public let layer: Int
    public let layerName: String
    /// The prefix as it runs: folded and fused.
    public let graph: Graph
    public let folded: Int, fused: Int
    /// The layer's per-sample output: `[C, H, W]`, or `[C]` for a layer without positions.
    public let outputShape: [Int]
    public let table: ShapeTable

    /// `layer`: a layer name or alias of `source`; `seed` initialises a network without
    /// weights.
    public init(model source: ModelSource, layer name: String, seed: UInt64 = 0) throws {
        let probe = try ActivationProbe(source: source, layer: name)
        let index = probe.layer
        self.source = source
        layer = index
        layerName = source.architecture.layers[index].name!
        do { table = try ShapeTable(source.architecture) } catch let e as ShapeError {
            throw ReadError(source.path, .badShape, e.description)
        }
        outputShape = table.rows[index].output
        guard outputShape.count == 3 || outputShape.count == 1 else {
            throw ReadError(source.path, .badShape, "layer '\(layerName)' outputs \(outputShape) per image; top patches rank channels of [C, H, W] maps or [C] vectors")
        }
        let (prefix, folded) = try source.prefix(through: index).foldingBatchNorm()
        graph = try prefix.makeGraph(seed: seed)
        self.folded = folded
        fused = graph.fusingActivations()
    }

    public var channelCount: Int { outputShape[0] }

    /// The theoretical field of the layer's units.
    public var theoreticalField: TopPatchesField { TopPatchesField(table: table, row: layer) }

    /// The effective field of the unit at the map's centre, measured on `probe` (a
    /// standardized batch), cut at `fraction` of its peak. Nil for a layer without positions.
    public func effectiveField(probe: Tensor, fraction: Float = 0.1, seed: UInt64 = 0) throws -> TopPatchesField? {
        guard outputShape.count == 3 else { return nil }
        // Gradients need the ReLUs as layers: the prefix again, unfused.
        let graph = try ActivationProbe(source: source, index: layer).graph(input: probe.shape, seed: seed)
        let unit = (y: outputShape[1] / 2, x: outputShape[2] / 2)
        let erf = EffectiveReceptiveField(graph: graph, layer: graph.operations.count - 1, unit: unit, inputs: probe)
        return TopPatchesField(table: table, row: layer, effective: erf, unit: unit, fraction: fraction)
    }

    /// The filters `[C_out, C_in, kh, kw]` of the convolution whose channels the layer
    /// shows (the layer itself, or the convolution before its BatchNorm and activation),
    /// as trained (not folded; the seeded initial ones for a network without weights);
    /// nil for any other layer.
    public func filters() -> Tensor? {
        let a = source.architecture
        var i = layer
        let passThrough: Set<LayerSpec.Kind> = [.batchnorm, .relu, .relu6, .clip, .leakyrelu, .sigmoid, .hardsigmoid, .hardswish, .silu, .identity, .dropout]
        while passThrough.contains(a.layers[i].kind), let name = a.inputs(of: i).first, a.inputs(of: i).count == 1, let j = a.index(ofLayer: name) { i = j }
        guard a.layers[i].kind == .conv, (a.layers[i].groups ?? 1) == 1 else { return nil }
        let name = "\(a.layers[i].name!).weight"
        // Without weights nothing was folded: the prefix holds the seeded initial filters.
        guard let weights = source.weights else { return graph.namedParameters.first { $0.name == name }?.parameter.value }
        return weights[name]
    }

    /// Scans `images` (standardized with `standardization` before the network sees them).
    /// `names` are what the result records: the model, the data and the split.
    public func run(_ images: TopPatchesImageSource, standardization: Standardization, field: TopPatchesField, settings: Settings,
                    names: (model: String, data: String, split: String), progress: (Progress) -> Void = { _ in }) throws -> Result {
        precondition(settings.top >= 1 && settings.batch >= 1)
        // A batch whose activations would not fit is refused before anything runs.
        try ActivationProbe(source: source, index: layer).checkBudget(input: [settings.batch] + source.architecture.input)
        let channels = settings.channels ?? Array(0..<channelCount)
        precondition(channels.allSatisfy { $0 >= 0 && $0 < channelCount })
        let total = min(images.count, settings.limit ?? images.count)
        let batches = (total + settings.batch - 1) / settings.batch
        let mine = Array(stride(from: settings.shard.index, to: batches, by: settings.shard.count))
        let shardImages = mine.reduce(0) { $0 + min(settings.batch, total - $1 * settings.batch) }
        var heaps = channels.map { _ in TopPatchesHeap(capacity: settings.top) }
        let spatial = outputShape.count == 3
        let plane = spatial ? outputShape[1] * outputShape[2] : 1, width = spatial ? outputShape[2] : 1
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var done = 0
        progress(Progress(done: 0, total: shardImages, seconds: 0))
        for b in mine {
            let first = b * settings.batch, end = min(first + settings.batch, total)
            var (x, _) = try images.read(first..<end)
            standardization.apply(to: &x)
            let out = graph.output(x)
            let n = end - first, perImage = out.count / n
            // Per channel, the first image without a finite value (-1: none); each part
            // writes only its own channels' entries.
            var bad = [Int](repeating: -1, count: channels.count)
            out.data.withUnsafeBufferPointer { values in
                heaps.withUnsafeMutableBufferPointer { heaps in
                    bad.withUnsafeMutableBufferPointer { bad in
                        // Channels are independent: each part owns its heaps.
                        Parallel.forEachRange(channels.count, minimumPerPart: 4) { _, range in
                            for k in range {
                                let c = channels[k]
                                for s in 0..<n {
                                    let base = s * perImage + c * plane
                                    var best = -Float.infinity, at = 0
                                    for i in 0..<plane where values[base + i] > best { best = values[base + i]; at = i }
                                    guard best.isFinite else { if bad[k] < 0 { bad[k] = first + s }; continue }
                                    heaps[k].offer(TopPatches.Patch(image: first + s, y: at / width, x: at % width, value: best))
                                }
                            }
                        }
                    }
                }
            }
            if let k = bad.firstIndex(where: { $0 >= 0 }) {
                throw NonFinite(description: "\(names.data): image \(bad[k]) gives no finite value in channel \(channels[k]) of '\(layerName)' (NaN or infinity); the network's weights or the input's standardization are broken")
            }
            done += n
            progress(Progress(done: done, total: shardImages, seconds: elapsed()))
        }
        let seconds = elapsed()
        let ranked = zip(channels, heaps).map { c, heap in
            TopPatches.Channel(channel: c, patches: heap.sorted.map { p in
                var p = p
                p.box = field.box(y: p.y, x: p.x)
                return p
            })
        }
        let scan = TopPatches.Scan(shards: [settings.shard.index], shardCount: settings.shard.count, batch: settings.batch, images: total,
                                   scanned: done, standardization: standardization, crop: field.kind, misaligned: field.misaligned,
                                   input: source.architecture.input)
        let result = TopPatches(model: names.model, layer: layerName, data: names.data, split: names.split, top: settings.top,
                                channels: ranked, scan: scan)
        return Result(patches: result, seconds: seconds)
    }
}
