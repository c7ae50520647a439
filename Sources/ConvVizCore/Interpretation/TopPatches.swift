/// The dataset patches that excite each channel of a layer most (Zeiler and Fergus 2014;
/// find_maxes of the deep-visualization toolbox): per channel, the `top` images whose
/// spatial maximum of that channel is largest, one entry per image, each with the
/// unit's position, its value and the input-pixel box of its receptive field.
///
/// Order, the same everywhere (scan, heap, merge): a larger value first; equal values by
/// image index, then position (row-major). It is total on distinct images, so the best
/// `top` of a union does not depend on how the union was cut: merging is exact and
/// associative, and a scan cut into shards and merged gives the unsharded bytes.
public struct TopPatches: Equatable, Sendable {
    /// One image's best unit for one channel.
    public struct Patch: Equatable, Sendable {
        /// Index of the image in the scanned split.
        public var image: Int
        /// The unit's position in the layer's output (0, 0 for a layer without positions).
        public var y: Int
        public var x: Int
        public var value: Float
        /// The unit's field in input pixels, `[top, left, height, width]`; it may pass the
        /// image's border (the part outside is padding).
        public var box: [Int]

        public init(image: Int, y: Int, x: Int, value: Float, box: [Int] = []) {
            self.image = image
            self.y = y
            self.x = x
            self.value = value
            self.box = box
        }

        /// The order of the whole feature: larger value, then smaller image, then
        /// smaller (y, x).
        public static func ranksBefore(_ a: Patch, _ b: Patch) -> Bool {
            if a.value != b.value { return a.value > b.value }
            if a.image != b.image { return a.image < b.image }
            return a.y != b.y ? a.y < b.y : a.x < b.x
        }
    }

    public struct Channel: Equatable, Sendable {
        public var channel: Int
        /// Best first, at most `top`.
        public var patches: [Patch]
        public init(channel: Int, patches: [Patch]) { self.channel = channel; self.patches = patches }
    }

    /// What a shard's file records besides the result, so that merging can check the
    /// parts belong together and the figure can be drawn from the merged file.
    public struct Scan: Equatable, Sendable {
        /// Shards this result covers (one for a scan; several after a partial merge).
        public var shards: [Int]
        public var shardCount: Int
        /// Images per batch: shards are cut by batch, so every part must use the same.
        public var batch: Int
        /// Images of the split scanned by all shards together (after `--limit`).
        public var images: Int
        /// Images this result has seen.
        public var scanned: Int
        public var standardization: Standardization
        /// "theoretical" or "effective".
        public var crop: String
        /// The layer's field disagrees between branches: boxes are their union.
        public var misaligned: Bool
        /// The network's input `[C, H, W]` (what a folder's images are resized to).
        public var input: [Int]

        public init(shards: [Int], shardCount: Int, batch: Int, images: Int, scanned: Int,
                    standardization: Standardization, crop: String, misaligned: Bool, input: [Int]) {
            self.shards = shards
            self.shardCount = shardCount
            self.batch = batch
            self.images = images
            self.scanned = scanned
            self.standardization = standardization
            self.crop = crop
            self.misaligned = misaligned
            self.input = input
        }

        /// Whether every shard is in.
        public var isComplete: Bool { shards == Array(0..<shardCount) }
    }

    public var model: String
    public var layer: String
    public var data: String
    /// The split scanned: "test", "train" or "all".
    public var split: String
    public var top: Int
    public var channels: [Channel]
    public var scan: Scan

    public init(model: String, layer: String, data: String, split: String, top: Int, channels: [Channel], scan: Scan) {
        self.model = model
        self.layer = layer
        self.data = data
        self.split = split
        self.top = top
        self.channels = channels
        self.scan = scan
    }
}

/// The best `capacity` patches seen so far for one channel: a binary heap whose root is
/// the worst kept, so a candidate is refused by one comparison once the heap is full.
/// Memory is `capacity` entries whatever the number of images offered.
public struct TopPatchesHeap: Sendable {
    public let capacity: Int
    private var heap: [TopPatches.Patch] = []

    public init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    public var count: Int { heap.count }

    /// Whether `a` is worse than `b` (heap order: the worst at the root).
    private static func worse(_ a: TopPatches.Patch, _ b: TopPatches.Patch) -> Bool { TopPatches.Patch.ranksBefore(b, a) }

    /// Keeps `patch` if it is among the best `capacity` offered so far.
    public mutating func offer(_ patch: TopPatches.Patch) {
        if heap.count < capacity {
            heap.append(patch)
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.worse(heap[i], heap[parent]) else { break }
                heap.swapAt(i, parent)
                i = parent
            }
        } else if Self.worse(heap[0], patch) {
            heap[0] = patch
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && Self.worse(heap[l], heap[m]) { m = l }
                if r < heap.count && Self.worse(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
    }

    /// The value a candidate must beat (or tie and win by index) to be kept; nil while
    /// the heap is not full.
    public var threshold: TopPatches.Patch? { heap.count == capacity ? heap[0] : nil }

    /// The kept patches, best first.
    public var sorted: [TopPatches.Patch] { heap.sorted(by: TopPatches.Patch.ranksBefore) }
}

extension TopPatches {
    /// Why parts cannot be merged.
    public struct MergeError: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The best `top` of every channel over all `parts`, which must come from the same
    /// model, layer, data, channels and batch size, and cover disjoint shards of the same
    /// cut. `names` (files, for messages) are parallel to `parts`.
    public static func merge(_ parts: [TopPatches], names: [String]) throws -> TopPatches {
        precondition(parts.count == names.count)
        guard let first = parts.first else { throw MergeError("nothing to merge") }
        var seen: [Int: String] = [:]
        for (part, name) in zip(parts, names) {
            func differs(_ what: String, _ a: String, _ b: String) -> MergeError {
                MergeError("\(name): \(what) is \(b) but \(names[0]) has \(a); parts must come from the same scan")
            }
            if part.model != first.model { throw differs("the model", first.model, part.model) }
            if part.layer != first.layer { throw differs("the layer", first.layer, part.layer) }
            if part.data != first.data || part.split != first.split { throw differs("the data", "\(first.data) (\(first.split))", "\(part.data) (\(part.split))") }
            if part.top != first.top { throw differs("--top", "\(first.top)", "\(part.top)") }
            if part.channels.map(\.channel) != first.channels.map(\.channel) {
                throw differs("the channel list", IndexListing.describe(first.channels.map(\.channel)), IndexListing.describe(part.channels.map(\.channel)))
            }
            let (s, f) = (part.scan, first.scan)
            if s.shardCount != f.shardCount { throw differs("the shard count", "\(f.shardCount)", "\(s.shardCount)") }
            if s.batch != f.batch { throw differs("--batch", "\(f.batch)", "\(s.batch)") }
            if s.images != f.images { throw differs("the number of images (--limit)", "\(f.images)", "\(s.images)") }
            if s.standardization != f.standardization { throw differs("the standardization", "\(f.standardization)", "\(s.standardization)") }
            if s.crop != f.crop { throw differs("--crop", f.crop, s.crop) }
            if s.input != f.input { throw differs("the input shape", "\(f.input)", "\(s.input)") }
            for shard in s.shards {
                if let other = seen[shard] { throw MergeError("\(name): shard \(shard)/\(s.shardCount) is also in \(other); each shard may be merged once") }
                seen[shard] = name
            }
        }
        var channels: [Channel] = []
        for (k, channel) in first.channels.enumerated() {
            var heap = TopPatchesHeap(capacity: first.top)
            for part in parts { for patch in part.channels[k].patches { heap.offer(patch) } }
            channels.append(Channel(channel: channel.channel, patches: heap.sorted))
        }
        var scan = first.scan
        scan.shards = seen.keys.sorted()
        scan.scanned = parts.reduce(0) { $0 + $1.scan.scanned }
        scan.misaligned = parts.contains { $0.scan.misaligned }
        return TopPatches(model: first.model, layer: first.layer, data: first.data, split: first.split, top: first.top, channels: channels, scan: scan)
    }
}

/// Index lists for messages: `0:16` for a run, commas otherwise.
enum IndexListing {
    static func describe(_ indices: [Int]) -> String {
        guard let first = indices.first else { return "none" }
        if indices == Array(first..<(first + indices.count)) && indices.count > 2 { return "\(first):\(first + indices.count)" }
        return indices.map(String.init).joined(separator: ",")
    }
}
