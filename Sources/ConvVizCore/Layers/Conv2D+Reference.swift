/// Direct-loop convolution: slow, obviously right, and the yardstick for the
/// im2col + GEMM path (tests check that the two agree).
extension Conv2D {
    /// `x [N, C, H, W]`, `w [O, C, Kh, Kw]`, optional `b [O]` -> `[N, O, H', W']`.
    public static func referenceForward(_ x: Tensor, weight w: Tensor, bias b: Tensor?, window: Window2D) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let out = try! window.outputSize(height: h, width: wd, layer: "reference")
        var y = Tensor(shape: [n, o, out.h, out.w])
        for s in 0..<n { for oc in 0..<o { for oy in 0..<out.h { for ox in 0..<out.w {
            var acc = Double(b?.data[oc] ?? 0)
            for ic in 0..<c { for i in 0..<kh { for j in 0..<kw {
                let iy = oy * window.stride.h - window.padding.h + i * window.dilation.h
                let ix = ox * window.stride.w - window.padding.w + j * window.dilation.w
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                acc += Double(x[s, ic, iy, ix]) * Double(w[oc, ic, i, j])
            }}}
            y[s, oc, oy, ox] = Float(acc)
        }}}}
        return y
    }

    /// Gradients of `L = sum(y * dy)`: (dx, dw, db).
    public static func referenceBackward(_ x: Tensor, weight w: Tensor, gradOutput dy: Tensor, window: Window2D)
        -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let (oh, ow) = (dy.shape[2], dy.shape[3])
        var dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape), db = Tensor(shape: [o])
        for s in 0..<n { for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
            let g = dy[s, oc, oy, ox]
            db[oc] += g
            for ic in 0..<c { for i in 0..<kh { for j in 0..<kw {
                let iy = oy * window.stride.h - window.padding.h + i * window.dilation.h
                let ix = ox * window.stride.w - window.padding.w + j * window.dilation.w
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                dx[s, ic, iy, ix] += g * w[oc, ic, i, j]
                dw[oc, ic, i, j] += g * x[s, ic, iy, ix]
            }}}
        }}}}
        return (dx, dw, db)
    }
}
