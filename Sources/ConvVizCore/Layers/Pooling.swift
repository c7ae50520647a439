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

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let out = try! window.outputSize(height: h, width: w, layer: name)
        if !mode.recordsForBackward && !(window.kernel == Pair(2) && window.stride == Pair(2) && window.padding == Pair(0)) {
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
            for plane in planes {
                let src = x + plane * h * w
                let dst = plane * out.h * out.w
                for oy in 0..<out.h {
                    let y0 = max(0, oy * s.h - p.h), y1 = min(h, oy * s.h - p.h + k.h)
                    for ox in 0..<out.w {
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
                    }
                }
            }
            }
        }}}
        if mode.recordsForBackward { inputShape = input.shape; argmax = arg }
        return y
    }

    /// Inference needs the maxima only: each output row takes the running maximum of the
    /// kernel's input rows, a column at a time, with no index bookkeeping (a ResNet's
    /// 3x3 stride-2 stem pool runs several times faster). The comparison is the training
    /// path's, so NaN is treated the same way.
    /// Inference: the maximum of each window, in two passes per output row: the window's
    /// rows reduced column by column (whole vectors), then each output's `k.w` columns of
    /// that reduced row. A NaN anywhere in a window gives NaN, as PyTorch's does. (The
    /// window-by-window scalar loop it replaces took 26 of a ResNet-18 pass's 509 ms at
    /// batch 16, loaded machine.)
    private func forwardValuesOnly(_ input: Tensor, out: Pair) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let k = window.kernel, s = window.stride, p = window.padding
        var y = Tensor(uninitializedShape: [n, c, out.h, out.w])
        input.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, y = yb.baseAddress!
            Parallel.forEachRange(n * c, minimumPerPart: 16) { _, planes in
                let reduced = UnsafeMutablePointer<Float>.allocate(capacity: w)
                defer { reduced.deallocate() }
                for plane in planes {
                    let src = x + plane * h * w, dst = y + plane * out.h * out.w
                    for oy in 0..<out.h {
                        let y0 = max(0, oy * s.h - p.h), y1 = min(h, oy * s.h - p.h + k.h)
                        reduced.initialize(repeating: -.infinity, count: w)
                        for iy in y0..<y1 {
                            let line = src + iy * w
                            var ix = 0
                            while ix &+ 8 <= w {
                                let v = Vector.load(line + ix), best = Vector.load(reduced + ix)
                                Vector.store(best.replacing(with: v, where: (v .> best) .| (v .!= v)), reduced + ix)
                                ix &+= 8
                            }
                            while ix < w { let v = line[ix]; if v > reduced[ix] || v.isNaN { reduced[ix] = v }; ix &+= 1 }
                        }
                        let row = dst + oy * out.w
                        for ox in 0..<out.w {
                            let x0 = max(0, ox * s.w - p.w), x1 = min(w, ox * s.w - p.w + k.w)
                            var best = -Float.infinity
                            for ix in x0..<x1 { let v = reduced[ix]; if v > best || v.isNaN { best = v } }
                            row[ox] = best
                        }
                    }
                }
            }
        }}
        return y
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
