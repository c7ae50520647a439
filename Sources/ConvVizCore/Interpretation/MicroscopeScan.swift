import Foundation

/// What a microscope needs from one pass over the data for one layer: the top patches
/// (the same ranking as `TopPatchesScan.run`), each channel's mean activation, and the
/// label of every image, so the class chart needs no second pass.
public struct MicroscopeScanResult: Sendable {
    public var patches: TopPatches
    /// Per channel asked, the mean over every position of every image.
    public var means: [Float]
    /// Per scanned image, its label.
    public var labels: [Int]
}

extension TopPatchesScan {
    /// Scans `images` once: per channel the best `settings.top` patches ranked as `run`
    /// ranks them (each image's maximum; ties by image, then position) and the mean
    /// activation. `progress(done, total)` in images after each batch.
    public func microscopeScan(_ images: TopPatchesImageSource, standardization: Standardization, field: TopPatchesField,
                               settings: Settings, names: (model: String, data: String, split: String),
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> MicroscopeScanResult {
        let channels = settings.channels ?? Array(0..<channelCount)
        let total = min(images.count, settings.limit ?? images.count)
        let spatial = outputShape.count == 3
        let plane = spatial ? outputShape[1] * outputShape[2] : 1, width = spatial ? outputShape[2] : 1
        var heaps = channels.map { _ in TopPatchesHeap(capacity: settings.top) }
        var sums = [Double](repeating: 0, count: channels.count)
        var labels: [Int] = []
        labels.reserveCapacity(total)
        var first = 0
        while first < total {
            let end = min(first + settings.batch, total)
            var (x, batchLabels) = try images.read(first..<end)
            labels += batchLabels
            standardization.apply(to: &x)
            let out = graph.output(x)
            let n = end - first, perImage = out.count / n
            // Per channel, the first image without a finite value (each part writes its own).
            var nonFinite = [Int](repeating: -1, count: channels.count)
            out.data.withUnsafeBufferPointer { v in
                heaps.withUnsafeMutableBufferPointer { heaps in
                    sums.withUnsafeMutableBufferPointer { sums in nonFinite.withUnsafeMutableBufferPointer { nonFinite in
                        Parallel.forEachRange(channels.count, minimumPerPart: 4) { _, range in
                            for k in range {
                                let c = channels[k]
                                var sum = 0.0
                                for s in 0..<n {
                                    let row = v.baseAddress! + s * perImage + c * plane
                                    var best = -Float.infinity, at = 0
                                    var imageSum: Float = 0
                                    for i in 0..<plane {
                                        imageSum += row[i]
                                        if row[i] > best { best = row[i]; at = i }
                                    }
                                    sum += Double(imageSum)
                                    if !best.isFinite { if nonFinite[k] < 0 { nonFinite[k] = first + s }; continue }
                                    heaps[k].offer(TopPatches.Patch(image: first + s, y: at / width, x: at % width, value: best))
                                }
                                sums[k] += sum
                            }
                        }
                    }}
                }
            }
            if let k = nonFinite.firstIndex(where: { $0 >= 0 }) {
                let (image, channel) = (nonFinite[k], channels[k])
                throw NonFinite(description: "\(names.data): image \(image) gives no finite value in channel \(channel) of '\(layerName)' (NaN or infinity)")
            }
            first = end
            progress(first, total)
        }
        let ranked = zip(channels, heaps).map { c, heap in
            TopPatches.Channel(channel: c, patches: heap.sorted.map { p in var p = p; p.box = field.box(y: p.y, x: p.x); return p })
        }
        let scan = TopPatches.Scan(shards: [0], shardCount: 1, batch: settings.batch, images: total, scanned: total,
                                   standardization: standardization, crop: field.kind, misaligned: field.misaligned,
                                   input: source.architecture.input)
        let patches = TopPatches(model: names.model, layer: layerName, data: names.data, split: names.split, top: settings.top,
                                 channels: ranked, scan: scan)
        let count = Double(max(total * plane, 1))
        return MicroscopeScanResult(patches: patches, means: sums.map { Float($0 / count) }, labels: labels)
    }
}
