/// Max pooling over `K x K` windows with stride and (negative-infinity) padding.
/// Input `[N, C, H, W]`, output `[N, C, H', W']`; the gradient of each output goes to
/// the input cell that was its maximum (overlapping windows add up).
public final class MaxPool2D: Layer {
    public let name: String
    public let window: Window2D
    private var inputShape: [Int] = []
    /// For each output, the flat index of its maximum within the input plane.
    private var argmax: [Int32] = []

    public init(name: String, window: Window2D) {
        self.name = name
        self.window = window
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        try poolOutputShape(input, window: window, layer: name)
    }

    /// Whether inference keeps the 2x2 stride-2 loop (with indices) instead of
    /// `forwardValuesOnly`: such a pool is not fused into the convolution before it.
    var keepsItsOwnLoop: Bool { window.kernel == Pair(2) && window.stride == Pair(2) && window.padding == Pair(0) }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let out = try! window.outputSize(height: h, width: w, layer: name)
        if !mode.recordsForBackward && !keepsItsOwnLoop {
            return forwardValuesOnly(input, out: out)
        }
        var y = Tensor(uninitializedShape: [n, c, out.h, out.w])
        var arg = [Int32](repeating: -1, count: y.count)
        let k = window.kernel, s = window.stride, p = window.padding
        input.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
        arg.withUnsafeMutableBufferPointer { ab in
            let x = xb.baseAddress!, y = yb.baseAddress!, arg = ab.baseAddress!
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
            if k == Pair(2), s == Pair(2), p == Pair(0) {
                // The common 2x2 stride-2 case, without window bounds: most of a
                // network's pooling time.
                for plane in planes { MaxPool2D.pool2x2(x + plane * h * w, width: w, out: out, y + plane * out.h * out.w, arg + plane * out.h * out.w) }
                return
            }
            // Strides 1 and 2 take eight outputs at a time from a copy of the plane padded
            // with negative infinity (`PaddedPlane`); other strides and each row's last
            // outputs, the window-by-window loop. Both visit a window's cells in the same
            // order with the same comparison, so values and indices are the same.
            let vectors = s.w <= 2 && out.w >= 8
            let padded = vectors ? PaddedPlane(height: h, width: w, padding: p.w, outputs: out.w, stride: s.w, kernel: k.w) : nil
            defer { padded?.free() }
            for plane in planes {
                let src = x + plane * h * w
                let dst = plane * out.h * out.w
                padded?.fill(from: src)
                for oy in 0..<out.h {
                    let y0 = max(0, oy * s.h - p.h), y1 = min(h, oy * s.h - p.h + k.h)
                    var ox = 0
                    if let padded {
                        while ox &+ 8 <= out.w {
                            MaxPool2D.eightWindows(padded, rows: y0..<y1, firstOutput: ox, kernel: k.w, stride: s.w,
                                                   values: y + dst + oy * out.w + ox, indices: arg + dst + oy * out.w + ox)
                            ox &+= 8
                        }
                    }
                    while ox < out.w {
                        let x0 = max(0, ox * s.w - p.w), x1 = min(w, ox * s.w - p.w + k.w)
                        var best = -Float.infinity, bestIndex = -1
                        for iy in y0..<y1 {
                            for ix in x0..<x1 {
                                let v = src[iy * w + ix]
                                // A NaN wins and stays, as in PyTorch (`val > max || isnan(val)`).
                                if bestIndex < 0 || v > best || v.isNaN { best = v; bestIndex = iy * w + ix }
                            }
                        }
                        y[dst + oy * out.w + ox] = best
                        arg[dst + oy * out.w + ox] = Int32(bestIndex)
                        ox &+= 1
                    }
                }
            }
            }
        }}}
        if mode.recordsForBackward { inputShape = input.shape; argmax = arg }
        return y
    }

    /// Inference: the maximum of each window, in two passes per output row, with no index
    /// bookkeeping: the window's rows reduced column by column, then each output's `k.w`
    /// columns of that reduced row, eight outputs at a time for strides 1 and 2. The
    /// reduced row lies in a buffer padded with negative infinity on both sides, so no
    /// window is clipped. A NaN anywhere in a window gives NaN, as PyTorch's does.
    /// (Timings, ResNet-18's 3x3 stride-2 stem pool at batch 1, 2 cores: the
    /// window-by-window scalar loop with argmax took several milliseconds; two passes
    /// with a scalar second pass 1.3 ms, its compares' branches mispredicted on real data;
    /// with vectors in both passes, see `bench model --profile`.)
    func forwardValuesOnly(_ input: Tensor, out: Pair) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        var y = Tensor(uninitializedShape: [n, c, out.h, out.w])
        input.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, y = yb.baseAddress!
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
                let buffer = rowBuffer(width: w, outWidth: out.w)
                defer { buffer.deallocate() }
                for plane in planes {
                    poolRows(0..<out.h, of: x + plane * h * w, firstRow: 0, height: h, width: w, outWidth: out.w, buffer: buffer,
                             into: y + plane * out.h * out.w)
                }
            }
        }}
        return y
    }

    /// The scratch row `poolRows` reduces into: p.w cells of -inf, the reduced row, then
    /// -inf past the last window (ceil mode) and past the last 16-float load of the
    /// stride-2 loop. The caller deallocates it.
    func rowBuffer(width w: Int, outWidth: Int) -> UnsafeMutablePointer<Float> {
        let (k, s, p) = (window.kernel, window.stride, window.padding)
        let count = max(p.w + w, outWidth * s.w) + k.w + 16
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        buffer.initialize(repeating: -.infinity, count: count)
        return buffer
    }

    /// Output rows `rows` of one plane of `height` x `width` inputs, written at
    /// `out + row * outWidth`; the plane's input rows from `firstRow` on lie at `plane`
    /// (a block of a plane: every row the output rows read must be there).
    func poolRows(_ rows: Range<Int>, of plane: UnsafePointer<Float>, firstRow: Int, height h: Int, width w: Int, outWidth: Int,
                  buffer: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (k, s, p) = (window.kernel, window.stride, window.padding)
        let reduced = buffer + p.w
        for oy in rows {
            let y0 = max(0, oy * s.h - p.h), y1 = min(h, oy * s.h - p.h + k.h)
            reduced.update(repeating: -.infinity, count: w)
            for iy in y0..<y1 { MaxPool2D.keepMaxima(of: plane + (iy - firstRow) * w, in: reduced, count: w) }
            MaxPool2D.windowMaxima(buffer, kernel: k.w, stride: s.w, count: outWidth, into: out + oy * outWidth)
        }
    }

    /// Input rows output rows `rows` read (for a block of them computed apart).
    func inputRows(of rows: Range<Int>, height h: Int) -> Range<Int> {
        let (k, s, p) = (window.kernel, window.stride, window.padding)
        let first = max(0, rows.lowerBound * s.h - p.h), last = min(h, (rows.upperBound - 1) * s.h - p.h + k.h)
        return first..<max(first, last)
    }

    /// `best[i] = v[i]` where `v[i] > best[i]` or `v[i]` is NaN (PyTorch's comparison).
    @inline(__always)
    static func keepMaximum(_ best: SIMD8<Float>, _ v: SIMD8<Float>) -> SIMD8<Float> {
        best.replacing(with: v, where: (v .> best) .| (v .!= v))
    }

    /// `best[i] = max(best[i], line[i])` for `count` floats, NaN winning.
    static func keepMaxima(of line: UnsafePointer<Float>, in best: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count { Vector.store(keepMaximum(Vector.load(best + i), Vector.load(line + i)), best + i); i &+= 8 }
        while i < count { let v = line[i]; if v > best[i] || v.isNaN { best[i] = v }; i &+= 1 }
    }

    /// Column `j` of windows `first..<first+8` of a padded row: `row[(first + lane) * stride + j]`,
    /// stride 1 or 2.
    @inline(__always)
    static func column(_ j: Int, ofEightWindows first: Int, in row: UnsafePointer<Float>, stride: Int) -> SIMD8<Float> {
        if stride == 1 { return Vector.load(row + first + j) }
        // Sixteen floats from an even offset: the even lanes are the windows' column j
        // for even j, the odd lanes for odd j.
        let pair = UnsafeRawPointer(row + 2 * first + (j & ~1)).loadUnaligned(as: SIMD16<Float>.self)
        return j & 1 == 0 ? pair.evenHalf : pair.oddHalf
    }

    /// `out[o] = max(row[o * stride ..< o * stride + kernel])`, NaN winning; `row` is
    /// padded so that every window and every vector load lies inside it.
    static func windowMaxima(_ row: UnsafePointer<Float>, kernel: Int, stride: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        var o = 0
        if stride <= 2 {
            while o &+ 8 <= count {
                var best = SIMD8<Float>(repeating: -.infinity)
                for j in 0..<kernel { best = keepMaximum(best, column(j, ofEightWindows: o, in: row, stride: stride)) }
                Vector.store(best, out + o)
                o &+= 8
            }
        }
        while o < count {
            var best = -Float.infinity
            for j in 0..<kernel { let v = row[o * stride + j]; if v > best || v.isNaN { best = v } }
            out[o] = best
            o &+= 1
        }
    }

    /// One plane's rows, each with `padding` cells of negative infinity on its left and
    /// enough on its right for every window and every vector load of `eightWindows`.
    struct PaddedPlane {
        let height: Int, width: Int, padding: Int, rowStride: Int
        let base: UnsafeMutablePointer<Float>

        init(height: Int, width: Int, padding: Int, outputs: Int, stride: Int, kernel: Int) {
            (self.height, self.width, self.padding) = (height, width, padding)
            rowStride = max(padding + width, outputs * stride) + kernel + 16
            base = .allocate(capacity: height * rowStride)
            base.initialize(repeating: -.infinity, count: height * rowStride)
        }

        func fill(from plane: UnsafePointer<Float>) {
            for r in 0..<height { (base + r * rowStride + padding).update(from: plane + r * width, count: width) }
        }

        func free() { base.deallocate() }
    }

    /// Outputs `first..<first+8` of one output row, whose windows span input `rows`: each
    /// window's maximum and its flat index in the plane, cells visited row by row as the
    /// scalar loop does (the first maximum wins, a NaN wins and the last NaN stays).
    static func eightWindows(_ plane: PaddedPlane, rows: Range<Int>, firstOutput first: Int, kernel: Int, stride: Int,
                             values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        var best = SIMD8<Float>(repeating: -.infinity)
        var index = SIMD8<Int32>(repeating: -1)
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(stride)
        for iy in rows {
            let row = plane.base + iy * plane.rowStride
            for j in 0..<kernel {
                let v = column(j, ofEightWindows: first, in: row, stride: stride)
                // Padding cells are -inf: never greater, never NaN, never chosen.
                let column = Int32(first * stride - plane.padding + j)
                let wins = (v .> best) .| (v .!= v)
                best.replace(with: v, where: wins)
                index.replace(with: lanes &+ Int32(iy * plane.width) &+ column, where: wins)
            }
        }
        Vector.store(best, values)
        for lane in 0..<8 {
            // A window of negative infinities only: the scalar loop keeps its first cell.
            let i = index[lane] >= 0 ? index[lane] : Int32(rows.lowerBound * plane.width + max(0, (first + lane) * stride - plane.padding))
            indices[lane] = i
        }
    }

    /// 2x2, stride 2, no padding, one plane; ties go to the first cell in row order.
    static func pool2x2(_ src: UnsafePointer<Float>, width w: Int, out: Pair, _ y: UnsafeMutablePointer<Float>, _ arg: UnsafeMutablePointer<Int32>) {
        for oy in 0..<out.h {
            let r0 = src + 2 * oy * w, r1 = r0 + w
            for ox in 0..<out.w {
                let c = 2 * ox
                var best = r0[c], index = 2 * oy * w + c
                if r0[c + 1] > best || r0[c + 1].isNaN { best = r0[c + 1]; index = 2 * oy * w + c + 1 }
                if r1[c] > best || r1[c].isNaN { best = r1[c]; index = (2 * oy + 1) * w + c }
                if r1[c + 1] > best || r1[c + 1].isNaN { best = r1[c + 1]; index = (2 * oy + 1) * w + c + 1 }
                y[oy * out.w + ox] = best
                arg[oy * out.w + ox] = Int32(index)
            }
        }
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        precondition(!inputShape.isEmpty, "\(name): backward without a training forward")
        var dx = Tensor(uninitializedShape: inputShape)
        let planeIn = inputShape[2] * inputShape[3]
        let planeOut = gradOutput.shape[2] * gradOutput.shape[3]
        dx.data.withUnsafeMutableBufferPointer { dxb in
        gradOutput.data.withUnsafeBufferPointer { dyb in
        argmax.withUnsafeBufferPointer { argb in
            let dx = dxb.baseAddress!, dy = dyb.baseAddress!, arg = argb.baseAddress!
            // Plane by plane, in parallel: each plane's gradient goes only to that plane.
            Parallel.forEachRange(inputShape[0] * inputShape[1], minimumPerPart: 16) { _, planes in
                for p in planes {
                    let d = dx + p * planeIn, g = dy + p * planeOut, a = arg + p * planeOut
                    d.update(repeating: 0, count: planeIn)
                    for i in 0..<planeOut where a[i] >= 0 { d[Int(a[i])] += g[i] }
                }
            }
        }}}
        return dx
    }
}

/// Average pooling over `K x K` windows with stride and zero padding.
///
/// With `countIncludePad` (PyTorch's default) every window is divided by `K_h*K_w`;
/// without it, by the number of its cells that lie inside the input.
public final class AvgPool2D: Layer {
    public let name: String
    public let window: Window2D
    public let countIncludePad: Bool
    private var inputShape: [Int] = []

    public init(name: String, window: Window2D, countIncludePad: Bool = true) {
        self.name = name
        self.window = window
        self.countIncludePad = countIncludePad
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        try poolOutputShape(input, window: window, layer: name)
    }

    /// Calls `body(outputIndex, inputIndex, 1/divisor)` for every (output, input) pair.
    private func forEachWindowCell(_ shape: [Int], _ body: (Int, Int, Float) -> Void) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let out = try! window.outputSize(height: h, width: w, layer: name)
        let k = window.kernel, s = window.stride, p = window.padding
        for plane in 0..<(n * c) {
            for oy in 0..<out.h {
                // PyTorch's divisor: the window clipped to the padded input (it is
                // k*k except where ceil mode lets a window hang past the padding).
                let ys = oy * s.h - p.h, y0 = max(0, ys), y1 = min(h, ys + k.h), yPadded = min(h + p.h, ys + k.h) - ys
                for ox in 0..<out.w {
                    let xs = ox * s.w - p.w, x0 = max(0, xs), x1 = min(w, xs + k.w), xPadded = min(w + p.w, xs + k.w) - xs
                    let divisor = countIncludePad ? yPadded * xPadded : (y1 - y0) * (x1 - x0)
                    let scale = 1 / Float(max(divisor, 1))
                    let o = (plane * out.h + oy) * out.w + ox
                    for iy in y0..<y1 { for ix in x0..<x1 { body(o, plane * h * w + iy * w + ix, scale) } }
                }
            }
        }
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let out = try! window.outputSize(height: input.shape[2], width: input.shape[3], layer: name)
        var y = Tensor(shape: [input.shape[0], input.shape[1], out.h, out.w])
        input.data.withUnsafeBufferPointer { x in
            y.data.withUnsafeMutableBufferPointer { y in
                forEachWindowCell(input.shape) { o, i, scale in y[o] += x[i] * scale }
            }
        }
        if mode.recordsForBackward { inputShape = input.shape }
        return y
    }

    public func backward(_ gradOutput: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        precondition(!inputShape.isEmpty, "\(name): backward without a training forward")
        var dx = Tensor(shape: inputShape)
        gradOutput.data.withUnsafeBufferPointer { dy in
            dx.data.withUnsafeMutableBufferPointer { dx in
                forEachWindowCell(inputShape) { o, i, scale in dx[i] += dy[o] * scale }
            }
        }
        return dx
    }
}

func poolOutputShape(_ input: [Int], window: Window2D, layer: String) throws -> [Int] {
    guard input.count == 3 else { throw ShapeError(layer: layer, "expects [C, H, W] input, got \(input)") }
    if window.dilation != Pair(1) { throw ShapeError(layer: layer, "pooling with dilation \(window.dilation) is not supported") }
    if window.padding.h * 2 > window.kernel.h || window.padding.w * 2 > window.kernel.w {
        throw ShapeError(layer: layer, "padding \(window.padding) must be at most half the kernel \(window.kernel)")
    }
    let out = try window.outputSize(height: input[1], width: input[2], layer: layer)
    return [input[0], out.h, out.w]
}
