/// Unrolling image patches into matrix columns, so that convolution becomes one GEMM.
///
/// For a chunk of `n` samples of `[C, H, W]`, the column matrix is
/// `[C*Kh*Kw, n*Ho*Wo]`: row `(c, kh, kw)`, column `(sample, oh, ow)`, holding
/// `x[sample, c, oh*S - P + kh*D, ow*S - P + kw*D]` or 0 in the padding.
/// Putting all samples of a chunk side by side makes the GEMM wide enough for OpenBLAS
/// to run near its peak even when `C_out` and `C*K*K` are small (a first layer).
enum Im2Col {
    struct Geometry {
        let channels: Int, height: Int, width: Int
        let window: Window2D
        let outHeight: Int, outWidth: Int
        var rows: Int { channels * window.kernel.h * window.kernel.w }
        /// Kernel, stride, padding and dilation as (h, w) scalars, for the hot loops.
        var scalars: (Int, Int, Int, Int, Int, Int, Int, Int) {
            (window.kernel.h, window.kernel.w, window.stride.h, window.stride.w,
             window.padding.h, window.padding.w, window.dilation.h, window.dilation.w)
        }
        var outPlane: Int { outHeight * outWidth }
    }

    /// Output columns `[lo, hi)` whose input column `ow*S + iw0` lies inside a row of
    /// `width` (the rest read zero padding).
    @inline(__always)
    static func insideRange(iw0: Int, stride sw: Int, outWidth: Int, width: Int) -> (Int, Int) {
        let lo = iw0 >= 0 ? 0 : min(outWidth, (-iw0 + sw - 1) / sw)
        let hi = max(lo, min(outWidth, (width - iw0 + sw - 1) / sw))
        return (lo, hi)
    }

    /// Fills `cols` (`[rows, samples*outPlane]`, rows `ld` apart: a column block of a
    /// wider matrix when `ld` is larger) from `samples` images starting at `x`.
    static func unroll(_ x: UnsafePointer<Float>, samples: Int, _ g: Geometry, into cols: UnsafeMutablePointer<Float>, ld: Int? = nil) {
        let (kh, kw, sh, sw, ph, pw, dh, dw) = g.scalars
        let ld = ld ?? samples * g.outPlane
        let plane = g.height * g.width
        let outW = g.outWidth
        for c in 0..<g.channels {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((c * kh + i) * kw + j) * ld
                    let iw0 = j * dw - pw
                    let (lo, hi) = insideRange(iw0: iw0, stride: sw, outWidth: outW, width: g.width)
                    for s in 0..<samples {
                        let src = x + (s * g.channels + c) * plane
                        let dstSample = row + s * g.outPlane
                        for oh in 0..<g.outHeight {
                            let ih = oh * sh - ph + i * dh
                            let dst = dstSample + oh * outW
                            if ih < 0 || ih >= g.height {
                                for ow in 0..<outW { dst[ow] = 0 }
                                continue
                            }
                            let srcRow = src + ih * g.width + iw0
                            for ow in 0..<lo { dst[ow] = 0 }
                            if sw == 1 {
                                for ow in lo..<hi { dst[ow] = srcRow[ow] }
                            } else {
                                for ow in lo..<hi { dst[ow] = srcRow[ow * sw] }
                            }
                            for ow in hi..<outW { dst[ow] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `unroll`: adds each column entry back onto the input cell it came
    /// from (`dx` must be zeroed by the caller, or hold gradients to accumulate onto).
    static func fold(_ cols: UnsafePointer<Float>, samples: Int, _ g: Geometry, into dx: UnsafeMutablePointer<Float>) {
        let (kh, kw, sh, sw, ph, pw, dh, dw) = g.scalars
        let ld = samples * g.outPlane
        let plane = g.height * g.width
        for c in 0..<g.channels {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((c * kh + i) * kw + j) * ld
                    for s in 0..<samples {
                        let dstPlane = dx + (s * g.channels + c) * plane
                        let srcSample = row + s * g.outPlane
                        for oh in 0..<g.outHeight {
                            let ih = oh * sh - ph + i * dh
                            if ih < 0 || ih >= g.height { continue }
                            let src = srcSample + oh * g.outWidth
                            let dstRow = dstPlane + ih * g.width
                            let iw0 = j * dw - pw
                            let (lo, hi) = insideRange(iw0: iw0, stride: sw, outWidth: g.outWidth, width: g.width)
                            if sw == 1 {
                                let d = dstRow + iw0
                                for ow in lo..<hi { d[ow] += src[ow] }
                            } else {
                                for ow in lo..<hi { dstRow[ow * sw + iw0] += src[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}
