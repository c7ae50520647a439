/// The three ways the reference tools bring a map `[h, w]` to the input's size `[H, W]`.
public enum AttributionResampling {
    /// Bilinear with half-pixel centres, edges clamped: OpenCV's `cv2.resize(...,
    /// INTER_LINEAR)`, which pytorch-grad-cam's `scale_cam_image` uses for every CAM.
    /// Source x = (X + 0.5) w / W - 0.5.
    public static func bilinear(_ map: [Float], height h: Int, width w: Int, to H: Int, _ W: Int) -> [Float] {
        if h == H && w == W { return map }
        func taps(_ n: Int, _ N: Int) -> [(Int, Int, Float)] {
            let scale = Double(n) / Double(N)
            return (0..<N).map { X in
                var f = Float((Double(X) + 0.5) * scale - 0.5)
                var s = Int(f.rounded(.down))
                f -= Float(s)
                if s < 0 { s = 0; f = 0 }
                if s >= n - 1 { s = n - 1; f = 0 }
                return (s, Swift.min(s + 1, n - 1), f)
            }
        }
        return interpolate(map, w: w, rows: taps(h, H), columns: taps(w, W))
    }

    /// Bilinear with corners aligned: PyTorch's `UpsamplingBilinear2d` (Score-CAM's
    /// masks). Source x = X (w - 1) / (W - 1).
    public static func bilinearAlignedCorners(_ map: [Float], height h: Int, width w: Int, to H: Int, _ W: Int) -> [Float] {
        func taps(_ n: Int, _ N: Int) -> [(Int, Int, Float)] {
            let scale = N > 1 ? Float(n - 1) / Float(N - 1) : 0
            return (0..<N).map { X in
                let f = Float(X) * scale
                let s = Swift.min(Int(f), n - 1)
                return (s, Swift.min(s + 1, n - 1), f - Float(s))
            }
        }
        return interpolate(map, w: w, rows: taps(h, H), columns: taps(w, W))
    }

    /// Nearest neighbour: PyTorch's `F.interpolate(mode="nearest")` (Captum's
    /// `LayerAttribution.interpolate`, Guided Grad-CAM). Source x = floor(X w / W).
    public static func nearest(_ map: [Float], height h: Int, width w: Int, to H: Int, _ W: Int) -> [Float] {
        let sy = Float(h) / Float(H), sx = Float(w) / Float(W)
        var out = [Float](repeating: 0, count: H * W)
        for Y in 0..<H {
            let y = Swift.min(Int((Float(Y) * sy).rounded(.down)), h - 1)
            for X in 0..<W { out[Y * W + X] = map[y * w + Swift.min(Int((Float(X) * sx).rounded(.down)), w - 1)] }
        }
        return out
    }

    private static func interpolate(_ map: [Float], w: Int, rows: [(Int, Int, Float)], columns: [(Int, Int, Float)]) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * columns.count)
        for (Y, (y0, y1, fy)) in rows.enumerated() {
            for (X, (x0, x1, fx)) in columns.enumerated() {
                let top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx
                let bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx
                out[Y * columns.count + X] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }

    /// pytorch-grad-cam's `scale_cam_image` on one map: `m - min`, divided by
    /// `1e-7 + max`.
    public static func minMax(_ map: [Float]) -> [Float] {
        let lo = map.min() ?? 0
        let shifted = map.map { $0 - lo }
        let hi = shifted.max() ?? 0
        return shifted.map { $0 / (1e-7 + hi) }
    }
}
