/// Where a unit of a layer looks in the input: the box a top patch is cropped to.
///
/// Theoretical: the receptive field of the shape table's row, `[top, left, height,
/// width]` in input pixels, centred on the unit; where branches meet in disagreement the
/// union of every branch's box. Effective: the box holding the pixels whose mean
/// |gradient| reaches `fraction` of the peak for a unit at the map's centre (Luo et al.
/// 2016), moved to each unit by the layer's jump. Either box may pass the image's
/// border: the crop keeps the box and fills the part outside with padding, so a unit at
/// the border is not shown shifted.
public struct TopPatchesField: Sendable {
    /// One branch's grid: unit (y, x) is centred at `c + (y, x) * j`, and its box spans
    /// the offsets `lo ... hi` (inclusive, per axis) around that centre.
    struct Grid: Sendable {
        let c: [Double], j: [Double], lo: [Double], hi: [Double]
    }

    let grids: [Grid]
    /// Branches disagreed in centre or jump: boxes are their union.
    public let misaligned: Bool
    /// "theoretical", or how the effective box was cut.
    public let kind: String

    /// The theoretical field of `row` in `table`.
    public init(table: ShapeTable, row index: Int) {
        let row = table.rows[index]
        let branches = row.misalignedBranches.isEmpty
            ? [(r: row.localReceptiveField, c: row.center, j: row.jump)]
            : row.misalignedBranches.map { (r: $0.receptiveField, c: $0.center, j: $0.jump) }
        grids = branches.map { b in
            Grid(c: b.c, j: b.j, lo: b.r.map { -($0 - 1) / 2 }, hi: b.r.map { ($0 - 1) / 2 })
        }
        misaligned = !row.misalignedBranches.isEmpty
        kind = "theoretical"
    }

    /// The effective field `erf` of the unit `unit` of `row` (computed at that unit),
    /// cut at `fraction` of its peak and moved to every unit by the row's jump.
    public init(table: ShapeTable, row index: Int, effective erf: EffectiveReceptiveField, unit: (y: Int, x: Int), fraction: Float) {
        let row = table.rows[index]
        let cy = row.center[0] + Double(unit.y) * row.jump[0], cx = row.center[1] + Double(unit.x) * row.jump[1]
        let e = erf.extent(fraction: fraction) ?? (Int(cy.rounded()), Int(cx.rounded()), Int(cy.rounded()), Int(cx.rounded()))
        grids = [Grid(c: row.center, j: row.jump, lo: [Double(e.y0) - cy, Double(e.x0) - cx], hi: [Double(e.y1) - cy, Double(e.x1) - cx])]
        misaligned = false
        kind = "effective"
    }

    /// `[top, left, height, width]` in input pixels of unit (y, x).
    public func box(y: Int, x: Int) -> [Int] {
        var lo = [Double.infinity, .infinity], hi = [-Double.infinity, -.infinity]
        for g in grids {
            let centre = [g.c[0] + Double(y) * g.j[0], g.c[1] + Double(x) * g.j[1]]
            for a in 0..<2 { lo[a] = min(lo[a], centre[a] + g.lo[a]); hi[a] = max(hi[a], centre[a] + g.hi[a]) }
        }
        // Edges are whole pixels for any chain of integer windows; rounding outward keeps
        // a field that is not whole (an effective box around a half-pixel centre) inside.
        let first = lo.map { Int(($0 + 1e-9).rounded(.down)) }, last = hi.map { Int(($0 - 1e-9).rounded(.up)) }
        return [first[0], first[1], last[0] - first[0] + 1, last[1] - first[1] + 1]
    }
}

/// A patch of an image cut by a box that may pass its border.
public struct TopPatchesCrop: Equatable, Sendable {
    /// `[C, height, width]` in the image's values; 0 outside the image.
    public var pixels: Tensor
    /// Per pixel (row-major, `height x width`): inside the image.
    public var inside: [Bool]

    /// Cuts `box` `[top, left, height, width]` out of `image` `[C, H, W]`.
    public init(image: Tensor, box: [Int]) {
        precondition(image.rank == 3 && box.count == 4 && box[2] >= 1 && box[3] >= 1)
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let (top, left, bh, bw) = (box[0], box[1], box[2], box[3])
        var pixels = Tensor(shape: [c, bh, bw])
        var inside = [Bool](repeating: false, count: bh * bw)
        for y in 0..<bh { for x in 0..<bw {
            let sy = top + y, sx = left + x
            guard sy >= 0 && sy < h && sx >= 0 && sx < w else { continue }
            inside[y * bw + x] = true
            for k in 0..<c { pixels.data[(k * bh + y) * bw + x] = image.data[(k * h + sy) * w + sx] }
        }}
        self.pixels = pixels
        self.inside = inside
    }
}

extension TopPatches {
    /// Every channel's patches cut out of `images` (the split the result was scanned
    /// from), with each image's label; the images are read once, in index order.
    public func crops(from images: TopPatchesImageSource) throws -> [[(crop: TopPatchesCrop, label: Int)]] {
        let found = try images.images(at: channels.flatMap { $0.patches.map(\.image) })
        return channels.map { channel in
            channel.patches.map { p in (TopPatchesCrop(image: found[p.image]!.image, box: p.box), found[p.image]!.label) }
        }
    }
}
