import Foundation

/// A map from one plane size to another in which each output pixel is a weighted sum of
/// at most four input pixels plus a constant: padding, cropping, bilinear scaling and
/// rotation are all of this form. The same map applies to every plane of `[N, C, H, W]`;
/// `adjoint` scatters gradients back through it (the constant has none).
public struct Resampling: Sendable {
    public let inputSize: (height: Int, width: Int)
    public let outputSize: (height: Int, width: Int)
    /// Per output pixel, four input indices (-1: none) and their weights.
    let taps: [Int32]
    let weights: [Float]
    /// Per output pixel, the constant added (padding's fill).
    let constants: [Float]

    /// Builds the map from a function giving, per output pixel (y, x), its taps and constant.
    init(from input: (Int, Int), to output: (Int, Int), _ pixel: (Int, Int) -> (taps: [(Int, Float)], constant: Float)) {
        inputSize = input
        outputSize = output
        let count = output.0 * output.1
        var taps = [Int32](repeating: -1, count: 4 * count), weights = [Float](repeating: 0, count: 4 * count)
        var constants = [Float](repeating: 0, count: count)
        for y in 0..<output.0 { for x in 0..<output.1 {
            let o = y * output.1 + x
            let (t, c) = pixel(y, x)
            precondition(t.count <= 4)
            for (k, (index, weight)) in t.enumerated() { taps[4 * o + k] = Int32(index); weights[4 * o + k] = weight }
            constants[o] = c
        }}
        self.taps = taps
        self.weights = weights
        self.constants = constants
    }

    /// `[N, C, H, W]` -> `[N, C, H', W']`.
    public func apply(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] == inputSize.height && x.shape[3] == inputSize.width)
        let planes = x.shape[0] * x.shape[1], inCount = inputSize.height * inputSize.width
        let outCount = outputSize.height * outputSize.width
        var y = Tensor(uninitializedShape: [x.shape[0], x.shape[1], outputSize.height, outputSize.width])
        x.data.withUnsafeBufferPointer { xb in y.data.withUnsafeMutableBufferPointer { yb in
        taps.withUnsafeBufferPointer { t in weights.withUnsafeBufferPointer { w in constants.withUnsafeBufferPointer { c in
            let xp = xb.baseAddress!, yp = yb.baseAddress!
            Parallel.forEachRange(planes) { _, range in
                for q in range {
                    let src = xp + q * inCount, dst = yp + q * outCount
                    for o in 0..<outCount {
                        var v = c[o]
                        for k in 0..<4 where t[4 * o + k] >= 0 { v += w[4 * o + k] * src[Int(t[4 * o + k])] }
                        dst[o] = v
                    }
                }
            }
        }}}}}
        return y
    }

    /// The adjoint of `apply` without its constant: `[N, C, H', W']` -> `[N, C, H, W]`.
    public func adjoint(_ g: Tensor) -> Tensor {
        precondition(g.rank == 4 && g.shape[2] == outputSize.height && g.shape[3] == outputSize.width)
        let planes = g.shape[0] * g.shape[1], inCount = inputSize.height * inputSize.width
        let outCount = outputSize.height * outputSize.width
        var d = Tensor(shape: [g.shape[0], g.shape[1], inputSize.height, inputSize.width])
        g.data.withUnsafeBufferPointer { gb in d.data.withUnsafeMutableBufferPointer { db in
        taps.withUnsafeBufferPointer { t in weights.withUnsafeBufferPointer { w in
            let gp = gb.baseAddress!, dp = db.baseAddress!
            Parallel.forEachRange(planes) { _, range in
                for q in range {
                    let src = gp + q * outCount, dst = dp + q * inCount
                    for o in 0..<outCount {
                        let v = src[o]
                        for k in 0..<4 where t[4 * o + k] >= 0 { dst[Int(t[4 * o + k])] += w[4 * o + k] * v }
                    }
                }
            }
        }}}}
        return d
    }

    /// Bilinear taps at input position (sy, sx) in pixel units (pixel centres at integers);
    /// positions outside the plane read zero (the `zeros` padding of `grid_sample`).
    static func bilinear(_ sy: Double, _ sx: Double, height h: Int, width w: Int) -> [(Int, Float)] {
        let y0 = Int(floor(sy)), x0 = Int(floor(sx))
        let fy = Float(sy - Double(y0)), fx = Float(sx - Double(x0))
        var taps: [(Int, Float)] = []
        for (yy, wy) in [(y0, 1 - fy), (y0 + 1, fy)] { for (xx, wx) in [(x0, 1 - fx), (x0 + 1, fx)] {
            if yy >= 0 && yy < h && xx >= 0 && xx < w && wy * wx != 0 { taps.append((yy * w + xx, wy * wx)) }
        }}
        return taps
    }

    /// Constant padding by `p` on every side with `value`.
    public static func pad(height h: Int, width w: Int, by p: Int, value: Float) -> Resampling {
        Resampling(from: (h, w), to: (h + 2 * p, w + 2 * p)) { y, x in
            let (sy, sx) = (y - p, x - p)
            return sy >= 0 && sy < h && sx >= 0 && sx < w ? ([(sy * w + sx, 1)], 0) : ([], value)
        }
    }

    /// The window of `size` at offset (top, left).
    public static func crop(height h: Int, width w: Int, top: Int, left: Int, to size: (Int, Int)) -> Resampling {
        precondition(top >= 0 && left >= 0 && top + size.0 <= h && left + size.1 <= w)
        return Resampling(from: (h, w), to: size) { y, x in ([((y + top) * w + x + left, 1)], 0) }
    }

    /// Bilinear resize with half-pixel centres (PyTorch's `align_corners=False`, without
    /// antialiasing), edges clamped.
    public static func resize(height h: Int, width w: Int, to size: (Int, Int)) -> Resampling {
        let ry = Double(h) / Double(size.0), rx = Double(w) / Double(size.1)
        return Resampling(from: (h, w), to: size) { y, x in
            let sy = min(max((Double(y) + 0.5) * ry - 0.5, 0), Double(h - 1))
            let sx = min(max((Double(x) + 0.5) * rx - 0.5, 0), Double(w - 1))
            return (bilinear(sy, sx, height: h, width: w), 0)
        }
    }

    /// Rotation by `degrees` (counter-clockwise on screen) about the plane's centre
    /// ((W-1)/2, (H-1)/2), bilinear, zero outside (kornia's `warp_affine`, Lucent's rotate).
    public static func rotate(height h: Int, width w: Int, degrees: Double) -> Resampling {
        let a = degrees * Double.pi / 180, (c, s) = (cos(a), sin(a))
        let cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        return Resampling(from: (h, w), to: (h, w)) { y, x in
            // The output pixel at angle a about the centre reads the input pixel at -a.
            let dy = Double(y) - cy, dx = Double(x) - cx
            let sx = c * dx - s * dy + cx, sy = s * dx + c * dy + cy
            return (bilinear(sy, sx, height: h, width: w), 0)
        }
    }
}

/// One of Lucid's stochastic transformations (`optvis.transform`), drawn anew each step
/// and shared by every image of the batch, as Lucid does.
public enum ImageTransform: Equatable, Sendable, CustomStringConvertible {
    /// `pad(w, mode="constant", constant_value=value)`.
    case pad(Int, value: Float)
    /// `jitter(d)`: a random crop d pixels smaller, offsets uniform in 0...d.
    case jitter(Int)
    /// `random_scale(scales)`: bilinear resize to floor(s * size), s drawn from the list.
    case scale([Float])
    /// `random_rotate(angles)`: angle in degrees drawn from the list.
    case rotate([Float])

    /// Lucid's `standard_transforms`.
    public static let lucid: [ImageTransform] = [
        .pad(12, value: 0.5),
        .jitter(8),
        .scale((0..<11).map { 1 + Float($0 - 5) / 50 }),
        .rotate((-10...10).map(Float.init) + Array(repeating: 0, count: 5)),
        .jitter(4),
    ]

    public var description: String {
        switch self {
        case let .pad(p, value): return "pad \(p) (\(value))"
        case let .jitter(d): return "jitter \(d)"
        case let .scale(s): return "scale \(s.min()!)-\(s.max()!)"
        case let .rotate(a):
            let (lo, hi) = (a.min()!, a.max()!)
            return lo == -hi ? "rotate ±\(Int(hi))°" : "rotate \(lo)° to \(hi)°"
        }
    }

    /// The same transformation for an image `factor` times Lucid's 128 pixels: pixel
    /// amounts scaled (rounded, at least 1), ranges unchanged.
    public func scaled(by factor: Double) -> ImageTransform {
        func px(_ v: Int) -> Int { max(1, Int((Double(v) * factor).rounded())) }
        switch self {
        case let .pad(p, value): return .pad(px(p), value: value)
        case let .jitter(d): return .jitter(px(d))
        default: return self
        }
    }

    /// The map this transformation applies to a plane of `size` for one draw of `rng`.
    public func draw(for size: (Int, Int), using rng: inout SeededGenerator) -> Resampling {
        let (h, w) = size
        switch self {
        case let .pad(p, value):
            return .pad(height: h, width: w, by: p, value: value)
        case let .jitter(d):
            let d = min(d, h - 1, w - 1)
            let top = rng.below(d + 1), left = rng.below(d + 1)
            return .crop(height: h, width: w, top: top, left: left, to: (h - d, w - d))
        case let .scale(scales):
            let s = Double(scales[rng.below(scales.count)])
            return .resize(height: h, width: w, to: (max(1, Int(s * Double(h))), max(1, Int(s * Double(w)))))
        case let .rotate(angles):
            return .rotate(height: h, width: w, degrees: Double(angles[rng.below(angles.count)]))
        }
    }
}
