/// Unrolling image patches into a matrix, so that convolution becomes one GEMM.
///
/// The patch matrix of `n` samples is pixel-major: `[n*Ho*Wo, Kh*Kw*C]`, one row per
/// output pixel holding its receptive field in (kh, kw, c) order. It is built from a
/// zero-padded channels-last copy of each sample (`[Hp, Wp, C]`), in which a patch row
/// at one kernel row is a single contiguous run of `Kw*C` floats (with dilation 1, at any
/// stride): unrolling and folding are then long `memcpy`-like runs instead of
/// thousands of short, bounds-checked ones, and the padding costs nothing per pixel.
/// OpenBLAS reads the matrix transposed where it needs columns. (`Im2Col+ChannelMajor`
/// builds the classic channel-major matrix, for inputs with few channels.)
enum Im2Col {
    struct Geometry {
        let channels: Int, height: Int, width: Int
        let window: Window2D
        let outHeight: Int, outWidth: Int
        /// Patch length: `C * Kh * Kw`.
        var rows: Int { channels * window.kernel.h * window.kernel.w }
        var outPlane: Int { outHeight * outWidth }
        var inPlane: Int { channels * height * width }
        var paddedHeight: Int { height + 2 * window.padding.h }
        var paddedWidth: Int { width + 2 * window.padding.w }
        /// Floats in one padded sample (channels-last or planar).
        var paddedCount: Int { paddedHeight * paddedWidth * channels }

        /// The same window over `count` of the channels (a block of them).
        func withChannels(_ count: Int) -> Geometry {
            Geometry(channels: count, height: height, width: width, window: window, outHeight: outHeight, outWidth: outWidth)
        }
    }

    /// Writes sample `x` (`[C, H, W]`) into the interior of `padded` (`[Hp, Wp, C]`).
    /// The border is never written, so a buffer zeroed once stays zero-padded.
    static func pad(_ x: UnsafePointer<Float>, _ g: Geometry, into padded: UnsafeMutablePointer<Float>) {
        // One channel: channels-last and planar are the same layout, and rows copy whole.
        if g.channels == 1 { return padPlanar(x, g, into: padded) }
        let c = g.channels, (ph, pw) = (g.window.padding.h, g.window.padding.w)
        for h in 0..<g.height {
            // Row h of every channel, [C, W] with stride H*W, becomes [W, C].
            Transpose.transpose(x + h * g.width, rows: c, columns: g.width, srcStride: g.height * g.width,
                                into: padded + ((h + ph) * g.paddedWidth + pw) * c, dstStride: c)
        }
    }

    /// The adjoint of `pad`: copies the interior of `padded` back to `[C, H, W]` at `dx`.
    static func unpad(_ padded: UnsafePointer<Float>, _ g: Geometry, into dx: UnsafeMutablePointer<Float>) {
        let c = g.channels, (ph, pw) = (g.window.padding.h, g.window.padding.w)
        for h in 0..<g.height {
            Transpose.transpose(padded + ((h + ph) * g.paddedWidth + pw) * c, rows: g.width, columns: c, srcStride: c,
                                into: dx + h * g.width, dstStride: g.height * g.width)
        }
    }

    /// Visits the runs that make up one sample's patch matrix, in increasing address
    /// order: `body(dst, src)` copies (or adds) `runLength` floats between the patch
    /// matrix and the padded sample. With dilation 1 a kernel row is one run of `Kw*C`
    /// floats; otherwise each tap is a run of `C`. `outRows` limits the walk to a block
    /// of output rows, written from the start of `patches`.
    @inline(__always)
    private static func walkRuns(_ g: Geometry, outRows: Range<Int>? = nil, patches: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>,
                                 _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let w = g.window, c = g.channels
        let merged = w.dilation.w == 1
        let runLength = merged ? w.kernel.w &* c : c
        let runsPerKernelRow = merged ? 1 : w.kernel.w
        let tapStep = w.dilation.w &* c, kernelRowStep = w.dilation.h &* g.paddedWidth &* c
        let pixelStep = w.stride.w &* c, outRowStep = w.stride.h &* g.paddedWidth &* c
        var dst = patches
        for oh in outRows ?? 0..<g.outHeight {
            var pixel = padded + oh &* outRowStep
            for _ in 0..<g.outWidth {
                var kernelRow = pixel
                for _ in 0..<w.kernel.h {
                    var src = kernelRow
                    for _ in 0..<runsPerKernelRow {
                        body(dst, src)
                        dst += runLength
                        src += tapStep
                    }
                    kernelRow += kernelRowStep
                }
                pixel += pixelStep
            }
        }
    }

    /// Floats a padded sample and a patch matrix are allocated beyond their size, so
    /// that `unroll` may copy short runs as whole SIMD vectors.
    static let slack = 16

    /// Run length of `walkRuns`.
    private static func runLength(_ g: Geometry) -> Int {
        g.window.dilation.w == 1 ? g.window.kernel.w * g.channels : g.channels
    }

    /// Fills the patch matrix of one sample (`[Ho*Wo, rows]`) from its padded copy.
    /// Both buffers need `slack` floats of room past their end.
    static func unroll(_ padded: UnsafePointer<Float>, _ g: Geometry, outRows: Range<Int>? = nil, into patches: UnsafeMutablePointer<Float>) {
        let source = UnsafeMutablePointer(mutating: padded), count = runLength(g)
        // Runs are written in increasing address order, so the extra lanes a vector copy
        // writes past a short run are overwritten by the next run (a first layer's runs
        // are 5 to 33 floats; a call to memcpy each would cost more than the copy).
        if count <= 8 {
            walkRuns(g, outRows: outRows, patches: patches, padded: source) { dst, src in
                UnsafeMutableRawPointer(dst).storeBytes(of: UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            }
        } else if count <= 16 {
            walkRuns(g, outRows: outRows, patches: patches, padded: source) { dst, src in
                UnsafeMutableRawPointer(dst).storeBytes(of: UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            }
        } else {
            walkRuns(g, outRows: outRows, patches: patches, padded: source) { dst, src in dst.update(from: src, count: count) }
        }
    }

    /// The adjoint of `unroll`: adds every patch entry back onto the padded cell it came
    /// from. `padded` must be zeroed by the caller.
    static func fold(_ patches: UnsafePointer<Float>, _ g: Geometry, into padded: UnsafeMutablePointer<Float>) {
        let count = runLength(g)
        walkRuns(g, patches: UnsafeMutablePointer(mutating: patches), padded: padded) { src, dst in
            var k = 0
            while k &+ 8 <= count {
                let sum = UnsafeRawPointer(dst + k).loadUnaligned(as: SIMD8<Float>.self)
                    + UnsafeRawPointer(src + k).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dst + k).storeBytes(of: sum, as: SIMD8<Float>.self)
                k &+= 8
            }
            while k < count { dst[k] += src[k]; k &+= 1 }
        }
    }

    /// Reorders a weight `[C_out, C, Kh, Kw]` into the patch order `[C_out, Kh, Kw, C]`.
    static func patchOrder(_ weight: UnsafePointer<Float>, outputs: Int, _ g: Geometry, into dst: UnsafeMutablePointer<Float>) {
        let c = g.channels, taps = g.window.kernel.h * g.window.kernel.w
        for o in 0..<outputs {
            let src = weight + o * g.rows, out = dst + o * g.rows
            for ch in 0..<c { for t in 0..<taps { out[t * c + ch] = src[ch * taps + t] } }
        }
    }

    /// The inverse of `patchOrder`, adding onto `dst` (`[C_out, C, Kh, Kw]`).
    static func addInWeightOrder(_ patchOrdered: UnsafePointer<Float>, outputs: Int, _ g: Geometry, onto dst: UnsafeMutablePointer<Float>) {
        let c = g.channels, taps = g.window.kernel.h * g.window.kernel.w
        for o in 0..<outputs {
            let src = patchOrdered + o * g.rows, out = dst + o * g.rows
            for ch in 0..<c { for t in 0..<taps { out[ch * taps + t] += src[t * c + ch] } }
        }
    }
}
