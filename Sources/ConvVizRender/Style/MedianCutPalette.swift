/// A palette of at most `count` colours for a set of 8-bit RGB colours, by median cut
/// (Heckbert, "Color image quantization for frame buffer display", 1982), then one
/// pass of nearest-colour reassignment: the box with the widest channel range (its pixel
/// count breaking ties) is split at the median pixel of that channel until there are
/// `count` boxes; each box's colour is the pixel-weighted mean of its colours; each
/// colour then takes the nearest of those means (squared RGB distance).
///
/// Deterministic: the same colours and counts give the same palette, whatever their order.
public struct MedianCutPalette: Sendable {
    /// The palette's colours as 0xRRGGBB words, sorted.
    public let colours: [UInt32]
    /// Each input colour's replacement.
    public let mapping: [UInt32: UInt32]
    /// The largest difference in one channel (0 to 255) between a colour and its replacement.
    public let maxError: Int
    /// That difference averaged over the pixels (`counts`).
    public let meanError: Double

    /// `counts`: pixels per 0xRRGGBB colour. Fewer colours than `count` are kept as they are.
    public init(counts: [UInt32: Int], count: Int, refinements: Int = 2) {
        precondition(count >= 1)
        let all = counts.keys.sorted()
        guard all.count > count else {
            colours = all
            mapping = Dictionary(uniqueKeysWithValues: all.map { ($0, $0) })
            maxError = 0
            meanError = 0
            return
        }
        func channel(_ c: UInt32, _ i: Int) -> Int { Int(c >> UInt32(16 - 8 * i) & 255) }
        // A box: its colours, and the channel with the widest range (what splitting cuts).
        struct Box { var colours: [UInt32]; var range = 0, channel = 0, pixels = 0 }
        func box(_ colours: [UInt32]) -> Box {
            var b = Box(colours: colours)
            b.pixels = colours.reduce(0) { $0 + counts[$1]! }
            for i in 0..<3 {
                var lo = 255, hi = 0
                for c in colours { let v = channel(c, i); lo = min(lo, v); hi = max(hi, v) }
                if hi - lo > b.range { b.range = hi - lo; b.channel = i }
            }
            return b
        }
        var boxes = [box(all)]
        while boxes.count < count {
            // The box to split: the widest range in one channel, then the most pixels.
            guard let best = boxes.indices.filter({ boxes[$0].range > 0 }).max(by: { (boxes[$0].range, boxes[$0].pixels, -$0) < (boxes[$1].range, boxes[$1].pixels, -$1) }) else { break }
            let ch = boxes[best].channel
            let sorted = boxes[best].colours.sorted { (channel($0, ch), $0) < (channel($1, ch), $1) }
            // The median pixel: the first colour at which half the box's pixels are reached,
            // kept inside so that both halves are non-empty.
            let half = boxes[best].pixels / 2
            var running = 0, cut = 1
            for (j, c) in sorted.enumerated() {
                running += counts[c]!
                if running >= half { cut = min(max(j + 1, 1), sorted.count - 1); break }
            }
            boxes[best] = box(Array(sorted[..<cut]))
            boxes.append(box(Array(sorted[cut...])))
        }
        let means: [UInt32] = boxes.map { box in
            var sum = [0, 0, 0], pixels = 0
            for c in box.colours { let n = counts[c]!; pixels += n; for i in 0..<3 { sum[i] += n * channel(c, i) } }
            return (0..<3).reduce(UInt32(0)) { $0 << 8 | UInt32((Double(sum[$1]) / Double(pixels)).rounded()) }
        }
        // Lloyd's refinement: each colour to its nearest mean, each mean to the centre of
        // its colours, `refinements` times (median cut's boxes are a start, not the best).
        var palette = Array(Set(means)).sorted()
        var mapping: [UInt32: UInt32] = [:]
        func assign() {
            mapping = [:]
            for c in all {
                var nearest = palette[0], distance = Int.max
                for p in palette {
                    let dr = channel(c, 0) - channel(p, 0), dg = channel(c, 1) - channel(p, 1), db = channel(c, 2) - channel(p, 2)
                    let d = dr * dr + dg * dg + db * db
                    if d < distance { distance = d; nearest = p }
                }
                mapping[c] = nearest
            }
        }
        assign()
        for _ in 0..<refinements {
            var sums: [UInt32: (r: Int, g: Int, b: Int, n: Int)] = [:]
            for c in all {
                let n = counts[c]!, m = mapping[c]!
                let s = sums[m] ?? (0, 0, 0, 0)
                sums[m] = (s.r + n * channel(c, 0), s.g + n * channel(c, 1), s.b + n * channel(c, 2), s.n + n)
            }
            palette = Array(Set(sums.values.map { s in
                UInt32((Double(s.r) / Double(s.n)).rounded()) << 16 | UInt32((Double(s.g) / Double(s.n)).rounded()) << 8 | UInt32((Double(s.b) / Double(s.n)).rounded())
            })).sorted()
            assign()
        }
        var worst = 0, total = 0, pixels = 0
        for c in all {
            let p = mapping[c]!, e = (0..<3).map { abs(channel(c, $0) - channel(p, $0)) }.max()!
            worst = max(worst, e)
            total += e * counts[c]!; pixels += counts[c]!
        }
        meanError = Double(total) / Double(pixels)
        colours = palette
        self.mapping = mapping
        maxError = worst
    }
}
