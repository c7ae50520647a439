import Foundation

/// What the optimizer changes, and the linear map from it to an image `[N, C, H, W]`
/// (before colour decorrelation and the sigmoid): Lucid's `param.spatial`.
///
/// `image(_:)` is the map, `parameterGradient(_:)` its adjoint: for any parameters p and
/// image-shaped g, `<image(p), g> = <p, parameterGradient(g)>` (tested by that identity).
public protocol ImageParameterization: Sendable {
    /// `[N, C, H, W]` of the image made.
    var imageShape: [Int] { get }
    /// Number of Floats the optimizer holds.
    var parameterCount: Int { get }
    func image(_ parameters: [Float]) -> Tensor
    func parameterGradient(_ imageGradient: Tensor) -> [Float]
}

extension ImageParameterization {
    /// Lucid's initial values: normal with standard deviation `sd` (0.01).
    public func initialParameters(sd: Float = 0.01, using rng: inout SeededGenerator) -> [Float] {
        (0..<parameterCount).map { _ in rng.normal() * sd }
    }
}

/// The image's pixels are the parameters (`pixel_image`).
public struct PixelImage: ImageParameterization {
    public let imageShape: [Int]
    public init(shape: [Int]) { imageShape = shape }
    public var parameterCount: Int { imageShape.reduce(1, *) }
    public func image(_ parameters: [Float]) -> Tensor { Tensor(shape: imageShape, data: parameters) }
    public func parameterGradient(_ imageGradient: Tensor) -> [Float] { imageGradient.data }
}

/// Lucid's `fft_image`: the parameters are a half spectrum per plane,
/// `[N, C, H, W'/2+1, 2]` (real, imaginary), scaled by 1 / max(f, 1/max(H, W))^decay and
/// transformed back to pixels with `scale * sqrt(H*W)` and TensorFlow's `irfft2d`
/// normalization, then divided by Lucid's constant 4:
///
///     image = irfft2(spectrum * s) * sqrt(H*W) / (H*W') / 4,  s = 1 / max(f, 1/max(H,W))^decay
///
/// For an even width W' = W and this is Lucent's `irfftn(norm='ortho') / 4`; for an odd
/// width Lucid keeps one more frequency column, transforms at W' = W+1 and crops the last
/// pixel column, and so does this. f is `numpy.fft.fftfreq`'s radial frequency
/// (`rfft2d_freqs(H, W)`). A low decay lets fine detail in; decay 1 (Lucid's) gives the
/// natural-image 1/f spectrum, so equal steps in the parameters are equal steps in the
/// whitened image.
public struct FourierImage: ImageParameterization {
    public let imageShape: [Int]
    public let decay: Float
    /// Width of the transform: W, or W+1 for an odd W (Lucid).
    let transformWidth: Int
    /// Per frequency `[H, W'/2+1]`: 1 / max(f, 1/max(H, W))^decay.
    let scale: [Float]
    /// sqrt(H*W) / (H*W') / 4.
    let normalization: Float
    let fft: RealFFT2D

    public init(shape: [Int], decay: Float = 1) {
        precondition(shape.count == 4, "FourierImage makes [N, C, H, W] images")
        imageShape = shape
        self.decay = decay
        let (h, w) = (shape[2], shape[3])
        transformWidth = w % 2 == 0 ? w : w + 1
        fft = RealFFT2D(height: h, width: transformWidth)
        scale = Self.frequencies(height: h, width: w).map { f in
            Float(1 / pow(max(f, 1 / Double(max(h, w))), Double(decay)))
        }
        normalization = Float((Double(h * w)).squareRoot() / Double(h * transformWidth) / 4)
    }

    /// Lucid's `rfft2d_freqs(h, w)`: sqrt(fx^2 + fy^2) over `[h, w/2+1]` (one more
    /// column for an odd w), with numpy's `fftfreq` for both axes.
    static func frequencies(height h: Int, width w: Int) -> [Double] {
        func fftfreq(_ n: Int, _ k: Int) -> Double { Double(k < (n + 1) / 2 ? k : k - n) / Double(n) }
        let columns = w % 2 == 1 ? w / 2 + 2 : w / 2 + 1
        var f: [Double] = []
        for ky in 0..<h { for kx in 0..<columns {
            let fy = fftfreq(h, ky), fx = fftfreq(w, kx)
            f.append((fx * fx + fy * fy).squareRoot())
        }}
        return f
    }

    private var planeCount: Int { imageShape[0] * imageShape[1] }
    private var spectrumCount: Int { imageShape[2] * fft.spectrumWidth * 2 }
    public var parameterCount: Int { planeCount * spectrumCount }

    public func image(_ parameters: [Float]) -> Tensor {
        precondition(parameters.count == parameterCount)
        let (h, w, tw) = (imageShape[2], imageShape[3], transformWidth)
        var out = Tensor(uninitializedShape: imageShape)
        let scale = scale, norm = normalization, fft = fft, sc = spectrumCount
        parameters.withUnsafeBufferPointer { pb in out.data.withUnsafeMutableBufferPointer { ob in
            let p = pb.baseAddress!, o = ob.baseAddress!
            Parallel.forEachRange(planeCount) { _, planes in
                var spectrum = [Float](repeating: 0, count: sc), plane = [Float](repeating: 0, count: h * tw)
                spectrum.withUnsafeMutableBufferPointer { s in plane.withUnsafeMutableBufferPointer { r in
                    for q in planes {
                        let src = p + q * sc
                        for k in 0..<(sc / 2) {
                            s[2 * k] = src[2 * k] * scale[k]
                            s[2 * k + 1] = src[2 * k + 1] * scale[k]
                        }
                        fft.symmetrize(s.baseAddress!)
                        fft.inverse(s.baseAddress!, into: r.baseAddress!)
                        let dst = o + q * h * w
                        for y in 0..<h { for x in 0..<w { dst[y * w + x] = r[y * tw + x] * norm } }
                    }
                }}
            }
        }}
        return out
    }

    /// The adjoint of `image(_:)`. With x = c * sum_k w_kx Re(S_k s_k e^{i theta}),
    /// w = 1 for the columns kx = 0 and W'/2 and 2 elsewhere, the gradient with respect to
    /// (re, im) of S_k is c * w_kx * s_k * (Re G_k, Im G_k), G = rfft2 of the image
    /// gradient (zero-padded to W' columns).
    public func parameterGradient(_ imageGradient: Tensor) -> [Float] {
        precondition(imageGradient.shape == imageShape)
        let (h, w, tw, cw) = (imageShape[2], imageShape[3], transformWidth, fft.spectrumWidth)
        var grad = [Float](repeating: 0, count: parameterCount)
        let scale = scale, norm = normalization, fft = fft, sc = spectrumCount
        imageGradient.data.withUnsafeBufferPointer { gb in grad.withUnsafeMutableBufferPointer { db in
            let g = gb.baseAddress!, d = db.baseAddress!
            Parallel.forEachRange(planeCount) { _, planes in
                var plane = [Float](repeating: 0, count: h * tw)
                plane.withUnsafeMutableBufferPointer { r in
                    for q in planes {
                        let src = g + q * h * w
                        for y in 0..<h { for x in 0..<w { r[y * tw + x] = src[y * w + x] } }
                        let dst = d + q * sc
                        fft.forward(r.baseAddress!, into: dst)
                        for ky in 0..<h { for kx in 0..<cw {
                            let k = ky * cw + kx
                            let weight: Float = kx == 0 || 2 * kx == tw ? 1 : 2
                            let f = norm * weight * scale[k]
                            dst[2 * k] *= f
                            dst[2 * k + 1] *= f
                        }}
                    }
                }
            }
        }}
        return grad
    }
}
