/// The classic channel-major patch matrix, `[C*Kh*Kw, Ho*Wo]` per sample: row
/// `(c, kh, kw)` holds that tap for every output pixel, in weight order.
///
/// `Conv2D` uses it when a sample has few channels (a first layer): there the
/// pixel-major matrix's runs are a handful of floats, while these rows are runs of a
/// whole output row, and the products come out planar (NCHW) with no transpose. It is
/// built from a zero-padded planar copy (`[C, Hp, Wp]`) and needs stride 1 along the
/// width, so that each output row's taps are contiguous.
extension Im2Col {
    /// Whether the channel-major matrix has the longer runs for this geometry.
    static func prefersChannelMajor(_ g: Geometry) -> Bool {
        let w = g.window
        let pixelMajorRun = w.dilation.w == 1 ? w.kernel.w * g.channels : g.channels
        return w.stride.w == 1 && pixelMajorRun < g.outWidth
    }

    /// Writes sample `x` (`[C, H, W]`) into the interior of `padded` (`[C, Hp, Wp]`).
    static func padPlanar(_ x: UnsafePointer<Float>, _ g: Geometry, into padded: UnsafeMutablePointer<Float>) {
        let (ph, pw) = (g.window.padding.h, g.window.padding.w)
        for c in 0..<g.channels {
            for h in 0..<g.height {
                (padded + (c * g.paddedHeight + h + ph) * g.paddedWidth + pw)
                    .update(from: x + (c * g.height + h) * g.width, count: g.width)
            }
        }
    }

    /// The adjoint of `padPlanar`: the interior of `padded` back to `[C, H, W]`.
    static func unpadPlanar(_ padded: UnsafePointer<Float>, _ g: Geometry, into dx: UnsafeMutablePointer<Float>) {
        let (ph, pw) = (g.window.padding.h, g.window.padding.w)
        for c in 0..<g.channels {
            for h in 0..<g.height {
                (dx + (c * g.height + h) * g.width)
                    .update(from: padded + (c * g.paddedHeight + h + ph) * g.paddedWidth + pw, count: g.width)
            }
        }
    }

    /// Visits every (patch row, output row) run: `body(matrixOffset, paddedOffset)`,
    /// each `outWidth` floats long, in increasing matrix order; with `paddedRows`, only
    /// the runs that read (or fold onto) those rows of each channel's padded plane.
    @inline(__always)
    private static func walkRows(_ g: Geometry, paddedRows: Range<Int>? = nil, _ body: (Int, Int) -> Void) {
        let w = g.window, wp = g.paddedWidth, s = w.stride.h
        // The first output row whose input row `oh * s + first` is at or past `row`.
        func outputRow(reaching row: Int, _ first: Int) -> Int { min(g.outHeight, (max(0, row - first) + s - 1) / s) }
        var offset = 0
        for c in 0..<g.channels {
            for i in 0..<w.kernel.h {
                let first = i * w.dilation.h
                let ohs = paddedRows.map { outputRow(reaching: $0.lowerBound, first)..<outputRow(reaching: $0.upperBound, first) } ?? 0..<g.outHeight
                for j in 0..<w.kernel.w {
                    for oh in ohs {
                        body(offset &+ oh &* g.outWidth, (c * g.paddedHeight + oh * s + first) * wp + j * w.dilation.w)
                    }
                    offset &+= g.outHeight &* g.outWidth
                }
            }
        }
    }

    /// Fills one sample's channel-major matrix from its padded planar copy. Both buffers
    /// need `slack` floats of room past their end: runs of up to 16 floats are copied as
    /// whole vectors, whose extra lanes the next run overwrites.
    /// A stride along the width (`Conv2D+SmallMaps` and `Conv2D+Stem` only; the other
    /// paths need stride 1) gathers every `stride`-th float of the run instead.
    static func unrollChannelMajor(_ padded: UnsafePointer<Float>, _ g: Geometry, into cols: UnsafeMutablePointer<Float>) {
        let count = g.outWidth, stride = g.window.stride.w
        if stride == 2 {
            // Eight outputs at a time: the even lanes of sixteen floats.
            walkRows(g) { dst, src in
                var k = 0
                while k &+ 8 <= count {
                    Vector.store(UnsafeRawPointer(padded + (src &+ 2 &* k)).loadUnaligned(as: SIMD16<Float>.self).evenHalf, cols + (dst &+ k))
                    k &+= 8
                }
                while k < count { cols[dst &+ k] = padded[src &+ 2 &* k]; k &+= 1 }
            }
        } else if stride > 1 {
            walkRows(g) { dst, src in
                for k in 0..<count { cols[dst &+ k] = padded[src &+ k &* stride] }
            }
        } else if count <= 16 {
            walkRows(g) { dst, src in
                UnsafeMutableRawPointer(cols + dst).storeBytes(of: UnsafeRawPointer(padded + src).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            }
        } else {
            walkRows(g) { dst, src in (cols + dst).update(from: padded + src, count: count) }
        }
    }

    /// One sample's channel-major matrix straight from its `[C, H, W]` values, the
    /// channels shared by the cores (at batch 1 the unrolling on one core took a third of
    /// a small-map layer's time). Each part pads its channels one at a time into its own
    /// zeroed plane. `unrollChannelMajor`'s runs overwrite up to `slack` floats past
    /// their end, which later channels of the same part overwrite in turn; a channel whose
    /// overrun would reach past its part (into floats another core writes: up to 16
    /// channels of one float on a 1x1 map) is unrolled into scratch and copied exactly.
    /// `cols` needs `slack` floats past its end.
    static func unrollChannelMajorOnAllCores(_ x: UnsafePointer<Float>, _ g: Geometry, into cols: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(g.channels, minimumPerPart: 8) { _, channels in unrollChannels(channels, x, g, into: cols) }
    }

    /// One part of `unrollChannelMajorOnAllCores`: writes the matrix rows of `channels`
    /// and nothing outside them (parts may run in any order).
    static func unrollChannels(_ channels: Range<Int>, _ x: UnsafePointer<Float>, _ g: Geometry, into cols: UnsafeMutablePointer<Float>) {
        let one = g.withChannels(1)
        let perChannel = g.window.kernel.h * g.window.kernel.w * g.outPlane
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: one.paddedCount + slack)
        let last = UnsafeMutablePointer<Float>.allocate(capacity: perChannel + slack)
        defer { padded.deallocate(); last.deallocate() }
        padded.initialize(repeating: 0, count: one.paddedCount + slack)
        let partEnd = channels.upperBound * perChannel
        for c in channels {
            padPlanar(x + c * one.inPlane, one, into: padded)
            if (c + 1) * perChannel + slack > partEnd {
                unrollChannelMajor(padded, one, into: last)
                (cols + c * perChannel).update(from: last, count: perChannel)
            } else {
                unrollChannelMajor(padded, one, into: cols + c * perChannel)
            }
        }
    }

    /// The rows of `count` whole channels of a channel-major gradient matrix (`cols`, at
    /// the block's first row) folded back onto those channels of a sample (`dx`, at the
    /// block's first channel, `[count, H, W]`), through `padded`: scratch of at least
    /// `g.withChannels(count).paddedCount + slack` floats. Blocks of whole channels write
    /// disjoint parts of the input, so they can run on different cores.
    static func foldChannels(_ cols: UnsafePointer<Float>, _ g: Geometry, count: Int, scratch padded: UnsafeMutablePointer<Float>,
                             into dx: UnsafeMutablePointer<Float>) {
        let part = g.withChannels(count)
        padded.initialize(repeating: 0, count: part.paddedCount)
        foldChannelMajor(cols, part, into: padded)
        unpadPlanar(padded, part, into: dx)
    }

    /// One channel's padded rows `rows` of its input gradient (the rest of the plane is
    /// not touched), through `padded`: scratch of `g.withChannels(1).paddedCount + slack`
    /// floats. Row blocks of one channel write disjoint rows, so a layer with few input
    /// channels (a stem's 3) can share its fold among the cores. Each cell gets the same
    /// additions in the same order as in `foldChannels`: the same bytes.
    static func foldRows(_ cols: UnsafePointer<Float>, _ g: Geometry, rows: Range<Int>, scratch padded: UnsafeMutablePointer<Float>,
                         into dx: UnsafeMutablePointer<Float>) {
        let one = g.withChannels(1), wp = one.paddedWidth, (ph, pw) = (g.window.padding.h, g.window.padding.w)
        (padded + rows.lowerBound * wp).initialize(repeating: 0, count: rows.count * wp)
        foldChannelMajor(cols, one, into: padded, paddedRows: rows)
        // A block may lie wholly in the padding (small blocks, padding of 2 and more).
        let interior = max(rows.lowerBound, ph), end = min(rows.upperBound, ph + g.height)
        for r in Swift.stride(from: interior, to: end, by: 1) {
            (dx + (r - ph) * g.width).update(from: padded + r * wp + pw, count: g.width)
        }
    }

    /// The adjoint of `unrollChannelMajor`, adding onto `padded` (zeroed by the caller);
    /// with `paddedRows`, only the runs that land in those rows of each channel's plane.
    static func foldChannelMajor(_ cols: UnsafePointer<Float>, _ g: Geometry, into padded: UnsafeMutablePointer<Float>,
                                 paddedRows: Range<Int>? = nil) {
        let count = g.outWidth, stride = g.window.stride.w
        if stride == 2 {
            // Eight at a time: the even lanes of sixteen floats take the additions.
            walkRows(g, paddedRows: paddedRows) { src, dst in
                var k = 0
                while k &+ 8 <= count {
                    let at = padded + (dst &+ 2 &* k)
                    var cells = UnsafeRawPointer(at).loadUnaligned(as: SIMD16<Float>.self)
                    cells.evenHalf += Vector.load(cols + (src &+ k))
                    UnsafeMutableRawPointer(at).storeBytes(of: cells, as: SIMD16<Float>.self)
                    k &+= 8
                }
                while k < count { padded[dst &+ 2 &* k] += cols[src &+ k]; k &+= 1 }
            }
            return
        }
        if stride > 1 {  // `Conv2D+SmallMaps` and `Conv2D+SmallBatchInputGradient` only
            walkRows(g, paddedRows: paddedRows) { src, dst in
                for k in 0..<count { padded[dst &+ k &* stride] += cols[src &+ k] }
            }
            return
        }
        walkRows(g, paddedRows: paddedRows) { src, dst in
            let s = cols + src, d = padded + dst
            var k = 0
            while k &+ 8 <= count { Vector.store(Vector.load(d + k) + Vector.load(s + k), d + k); k &+= 8 }
            while k < count { d[k] += s[k]; k &+= 1 }
        }
    }
}
