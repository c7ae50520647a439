import ConvVizCore
import Foundation

/// The largest figure ConvViz draws without being asked for more: Cairo refuses image
/// surfaces past 32,767 pixels a side and viewers struggle long before that, so every
/// figure that grows with its data (filters, maps) fits itself under these caps, for
/// PNG, SVG and PDF alike.
public enum FigureLimits {
    /// Most pixels (SVG/PDF units) a figure may have on a side.
    public static let maxSide = 16_384
    /// Room kept for the title and a few caption lines when fitting content.
    static let frameAllowance: Double = 200

    /// The content box available under `maxSide`.
    static func contentLimit(_ maxSide: Int) -> (width: Double, height: Double) {
        (Double(maxSide) - 2 * Theme.margin, Double(maxSide) - 2 * Theme.margin - frameAllowance)
    }

    /// About how many bytes an SVG may take unless the user raises it (`--max-svg-mb`):
    /// browsers and slide tools slow to a crawl on larger files, and a figure that big
    /// holds more tiles than anyone can read.
    public static let maxSVGBytes = 20_000_000

    /// Estimated SVG bytes of an embedded raster `width` x `height` holding `distinct`
    /// independent pixels (the rest nearest-neighbour copies of them). Cairo embeds a
    /// raster as a base64 PNG (4/3 of its bytes); its RGBA pixels cost up to 5 bytes each
    /// after deflate when independent (weights are noise to a compressor), copies about
    /// 1/32 byte (PNG's row filters make them runs of zeros), and the `<image>` tag with
    /// its structure-layer rectangle about 600 bytes. Measured on uniform noise, the
    /// worst case: a 512 x 512 x 3 x 3 kernel grid at x3 (5120 x 5120 px) is estimated
    /// at 16.8 MB and writes 16.0 MB; its 512 strips at x3, 17.2 MB for 11.6 MB.
    static func svgImageBytes(width: Int, height: Int, distinct: Int) -> Int {
        (5 * distinct + width * height / 32) * 4 / 3 + 600
    }

    /// Estimated SVG bytes of a text of `characters` characters: Cairo writes one
    /// `<use>` of a glyph outline per character (~90 bytes), the structure layer one
    /// `<text>` element.
    static func svgTextBytes(characters: Int) -> Int { 90 * characters + 120 }

    /// "20" or "2.5": a budget in MB as the caption names it.
    static func megabytes(_ mb: Double) -> String {
        mb == mb.rounded() ? String(Int(mb)) : String(format: "%.1f", mb)
    }

    /// The warning and caption note of a figure that drew fewer tiles than asked:
    /// `which` names those drawn ("filters 0–99 of 512"); `svgBudget` is set when the
    /// SVG budget, not the size, left the others out; `select` names the options that
    /// pick other tiles.
    static func fewerDrawn(_ which: (en: String, zh: String), svgBudget: Int?, tiles: String, select: String, maxSide: Int,
                           language l: Language) -> (warning: String, note: String) {
        if let svgBudget {
            let mb = megabytes(Double(svgBudget) / 1e6)
            return ("SVG would exceed about \(mb) MB: drew \(which.en); raise it with --max-svg-mb, page with --page-size or select with \(select)",
                    l("SVG limited to about \(mb) MB: \(which.en) drawn.", "SVG 限制在约 \(mb) MB：绘制了 \(which.zh)。"))
        }
        return ("too many \(tiles) for \(maxSide) px a side: drew \(which.en); select others with \(select) or page with --page-size",
                l("Too large to draw whole: \(which.en) drawn.", "太大无法全部绘制：绘制了 \(which.zh)。"))
    }

    /// The title, caption, colour bar and document header: a fixed allowance.
    static let svgFrameBytes = 60_000

    /// The largest `n` in `1...upper` for which `fits(n)` holds (`fits` is monotone), or 1.
    static func largest(upTo upper: Int, _ fits: (Int) -> Bool) -> Int {
        var lo = 1, hi = max(1, upper)
        if fits(hi) { return hi }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}

/// A selection of indices: `0:16` (start:end, end excluded, optional `:step`), a comma
/// list `1,5,9`, or both mixed (`0:4,10,12:14`).
public struct IndexSelection: Equatable, Sendable {
    public enum Part: Equatable, Sendable { case single(Int), range(Int, Int?, Int) }
    public var parts: [Part]

    public init?(parsing text: String) {
        var parts: [Part] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let p = piece.trimmingCharacters(in: .whitespaces)
            let fields = p.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch fields.count {
            case 1:
                guard let i = Int(p), i >= 0 else { return nil }
                parts.append(.single(i))
            case 2, 3:
                let start = fields[0].isEmpty ? 0 : Int(fields[0])
                let end: Int?? = fields[1].isEmpty ? .some(nil) : Int(fields[1]).map { .some($0) }
                let step = fields.count == 3 ? Int(fields[2]) : 1
                guard let start, start >= 0, let end, let step, step >= 1 else { return nil }
                if let e = end, e <= start { return nil }
                parts.append(.range(start, end, step))
            default: return nil
            }
        }
        guard !parts.isEmpty else { return nil }
        self.parts = parts
    }

    /// The indices in order, duplicates dropped; throws a message naming the first index
    /// out of `0..<count`.
    public func indices(count: Int, what: String) throws -> [Int] {
        var out: [Int] = [], seen = Set<Int>()
        for part in parts {
            let values: [Int]
            switch part {
            case let .single(i): values = [i]
            case let .range(s, e, step):
                let end = e ?? count
                guard s < count else { throw SelectionError(message: "\(what) \(s) is out of range: there are \(count) (0 to \(count - 1))") }
                if end > count { throw SelectionError(message: "\(what) range \(s):\(end) runs past \(count - 1): there are \(count)") }
                values = Array(stride(from: s, to: end, by: step))
            }
            for i in values {
                guard i < count else { throw SelectionError(message: "\(what) \(i) is out of range: there are \(count) (0 to \(count - 1))") }
                if seen.insert(i).inserted { out.append(i) }
            }
        }
        return out
    }

    /// `[0, 1, 2, 3, 7]` as "0-3, 7" (runs of consecutive indices joined). A list of more
    /// than `limit` runs (a page of filters sorted by norm) names its first ones and how
    /// many indices follow ("…, 24 … +24"), so a caption stays a line or two.
    public static func describe(_ indices: [Int], limit: Int = 16) -> String {
        var parts: [String] = [], i = 0
        while i < indices.count {
            var j = i
            while j + 1 < indices.count && indices[j + 1] == indices[j] + 1 { j += 1 }
            if parts.count >= limit {
                return parts.joined(separator: ", ") + " … +\(indices.count - i)"
            }
            parts.append(j > i + 1 ? "\(indices[i])–\(indices[j])" : (j == i + 1 ? "\(indices[i]), \(indices[j])" : "\(indices[i])"))
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }
}

public struct SelectionError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

extension Tensor {
    /// The L2 norm of each filter of weights `[C_out, C_in, K_h, K_w]` (over all its
    /// input channels and taps; non-finite weights count as 0).
    public func filterNorms() -> [Float] {
        precondition(rank == 4)
        let per = count / Swift.max(shape[0], 1)
        return data.withUnsafeBufferPointer { p in
            (0..<shape[0]).map { f in
                var sum = 0.0
                for v in p[(f * per)..<((f + 1) * per)] where v.isFinite { sum += Double(v) * Double(v) }
                return Float(sum.squareRoot())
            }
        }
    }

    /// Filter indices ordered by L2 norm, largest first (ties by index).
    public func filtersByNorm(_ indices: [Int]) -> [Int] {
        let norms = filterNorms()
        return indices.sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }
    }

    /// Weights `[C_out, C_in, K_h, K_w]` restricted to some filters and input channels, in
    /// the order given (nil keeps all).
    public func kernels(filters: [Int]? = nil, channels: [Int]? = nil) -> Tensor {
        precondition(rank == 4)
        let (co, ci, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
        let f = filters ?? Array(0..<co), c = channels ?? Array(0..<ci), plane = kh * kw
        var out = [Float](); out.reserveCapacity(f.count * c.count * plane)
        data.withUnsafeBufferPointer { p in
            for i in f { for j in c { out.append(contentsOf: p[((i * ci + j) * plane)..<((i * ci + j + 1) * plane)]) } }
        }
        return Tensor(shape: [f.count, c.count, kh, kw], data: out)
    }
}
