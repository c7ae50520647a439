import CKernels

/// Depthwise inference (one input channel per group, MobileNet's and EfficientNet's
/// 3x3 and 5x5 layers): each output row is computed eight pixels at a time in a vector
/// register, all the kernel's taps added before it is stored, from a copy of the input
/// plane with its zero padding written out, so no tap needs bounds; the AVX-512 kernel
/// (`CKernels/depthwise.c`, 3x3) reads the plane where it lies, its padding masked.
///
/// Why: the tap-by-tap loops of `forwardGrouped` pass over the whole output plane once
/// per tap (nine loads and stores of each output for a 3x3 kernel) and read strided taps
/// through a phase-split copy; MobileNetV2's depthwise layers took 35% of its batch-1
/// pass that way. The sums are the same: bias, then each tap's product in row-major tap
/// order, multiplied and added separately (no fused multiply-add), a tap that falls in
/// the padding adding a product with zero. So the outputs are bit for bit those of
/// `forwardGrouped`, on any number of cores. The input gradient alone of a stride-1
/// layer runs through the same loops (`inputGradientDepthwise`).
extension Conv2D {
    /// Whether this layer takes `forwardDepthwise`: one input channel per group (any
    /// number of outputs per group), no dilation, stride 1 or 2 along the width.
    var runsDepthwise: Bool {
        groups > 1 && inputChannels == groups && window.dilation == Pair(1) && window.stride.w <= 2
    }

    /// With the fused ReLU or clip (in the AVX-512 kernel's epilogue, else after).
    func forwardDepthwise(_ input: Tensor, _ g: Im2Col.Geometry, inference: Bool) -> Tensor {
        let native = inference && usesPanelGEMM && PanelGEMM.isAvailable
        var output = weight.value.data.withUnsafeBufferPointer { w in
            Self.depthwise(input, outputs: outputChannels, groups: groups, taps: w.baseAddress!, bias: bias?.value.data,
                           kernel: window.kernel, stride: window.stride, padding: window.padding, outHeight: g.outHeight, outWidth: g.outWidth,
                           vectorKernel: native ? kernelActivation() : nil)
        }
        if !native || !Self.runsVectorKernel(kernel: window.kernel, stride: window.stride) {
            output.data.withUnsafeMutableBufferPointer { applyFusedActivation($0.baseAddress!, count: $0.count) }
        }
        return output
    }

    /// Whether planes take `ck_depthwise3x3_avx512` (when asked): 3x3, the same stride, 1
    /// or 2, along both axes.
    static func runsVectorKernel(kernel: Pair, stride: Pair) -> Bool {
        kernel == Pair(3) && stride.h == stride.w && stride.w <= 2
    }

    /// Whether the input gradient alone takes `inputGradientDepthwise`: one output per
    /// channel, stride 1, padding below the kernel.
    var runsDepthwiseInputGradient: Bool {
        runsDepthwise && outputChannels == groups && window.stride == Pair(1)
            && window.padding.h < window.kernel.h && window.padding.w < window.kernel.w
    }

    /// The input gradient of a stride-1 depthwise layer is the same kind of convolution:
    /// the output gradient, padded by `K - 1 - P`, with each kernel turned by 180
    /// degrees. Sums in another order than `backwardGrouped`'s: equal within rounding.
    func inputGradientDepthwise(_ gradOutput: Tensor, inputShape input: [Int]) -> Tensor {
        let (k, p) = (window.kernel, window.padding)
        let taps = k.h * k.w
        let w = weight.value.data
        let turned = (0..<w.count).map { i in w[i / taps * taps + taps - 1 - i % taps] }
        return turned.withUnsafeBufferPointer { t in
            Self.depthwise(gradOutput, outputs: inputChannels, groups: groups, taps: t.baseAddress!, bias: nil, kernel: k, stride: Pair(1),
                           padding: Pair(k.h - 1 - p.h, k.w - 1 - p.w), outHeight: input[2], outWidth: input[3],
                           vectorKernel: usesPanelGEMM && PanelGEMM.isAvailable ? PanelGEMM.identity : nil)
        }
    }

    /// `outputs` planes from `input`'s planes (output `o` reads input plane
    /// `o / (outputs / groups)` of its sample), each tap of output `o` at `taps[o * K*K ...]`.
    static func depthwise(_ input: Tensor, outputs cout: Int, groups: Int, taps weights: UnsafePointer<Float>, bias biasValues: [Float]?,
                          kernel k: Pair, stride s: Pair, padding p: Pair, outHeight oh: Int, outWidth ow: Int,
                          vectorKernel activation: ck_activation? = nil) -> Tensor {
        // `activation`: planes take the AVX-512 kernel where it applies, ending in `activation`.
        let vector = activation != nil && runsVectorKernel(kernel: k, stride: s)
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let outPerGroup = cout / groups
        // The padded plane: p.h zero rows above, enough below for every output row's taps;
        // each row p.w zeros, the input row, then zeros past the last vector load.
        let paddedRows = max(h + p.h, (oh - 1) * s.h + k.h)
        let rowStride = max(p.w + w, ((ow + 7) / 8 * 8) * s.w) + k.w + 16
        var output = Tensor(uninitializedShape: [n, cout, oh, ow])
        input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, y = yb.baseAddress!
            if vector, let activation {
                // The AVX-512 kernel reads each input plane where it lies, its padding masked.
                Parallel.forEachRange(n * cout, minimumPerPart: 4) { _, planes in
                    let zeros = UnsafeMutablePointer<Float>.allocate(capacity: w + 32)
                    zeros.initialize(repeating: 0, count: w + 32)
                    defer { zeros.deallocate() }
                    for plane in planes {
                        let sample = plane / cout, oc = plane % cout
                        ck_depthwise3x3_avx512(x + (sample * groups + oc / outPerGroup) * h * w, Int32(h), Int32(w), Int32(p.h), Int32(p.w),
                                               Int32(s.w), zeros, weights + oc * 9, biasValues?[oc] ?? 0, y + plane * oh * ow,
                                               Int32(oh), Int32(ow), activation)
                    }
                }
                return
            }
            Parallel.forEachRange(n * cout, minimumPerPart: 4) { _, planes in
                let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedRows * rowStride)
                padded.initialize(repeating: 0, count: paddedRows * rowStride)
                defer { padded.deallocate() }
                var paddedPlane = -1
                for plane in planes {
                    let sample = plane / cout, oc = plane % cout
                    // Consecutive outputs of a group read the same input plane: copied once.
                    let inputPlane = sample * groups + oc / outPerGroup
                    if inputPlane != paddedPlane {
                        let src = x + inputPlane * h * w
                        for r in 0..<h { (padded + (p.h + r) * rowStride + p.w).update(from: src + r * w, count: w) }
                        paddedPlane = inputPlane
                    }
                    let taps = weights + oc * k.h * k.w
                    let start = SIMD8<Float>(repeating: biasValues?[oc] ?? 0)
                    let out = y + plane * oh * ow
                    let kernel3x3 = k == Pair(3) ? Kernel3x3(taps) : nil
                    for oy in 0..<oh {
                        let rows = padded + oy * s.h * rowStride, dst = out + oy * ow
                        if let kernel3x3 {
                            kernel3x3.row(rows, rowStride: rowStride, start: start, count: ow, stride: s.w, into: dst)
                            continue
                        }
                        var ox = 0
                        while ox < ow {
                            var acc = start
                            for ky in 0..<k.h {
                                let row = rows + ky * rowStride
                                for kx in 0..<k.w {
                                    acc += SIMD8(repeating: taps[ky * k.w + kx]) * MaxPool2D.column(kx, ofEightWindows: ox, in: row, stride: s.w)
                                }
                            }
                            storeEight(acc, dst, ox, count: ow)
                            ox &+= 8
                        }
                    }
                }
            }
        }}
        return output
    }

    /// Outputs `ox..<ox+8` of a row of `count` (fewer at its end).
    @inline(__always)
    static func storeEight(_ acc: SIMD8<Float>, _ dst: UnsafeMutablePointer<Float>, _ ox: Int, count: Int) {
        if ox &+ 8 <= count {
            Vector.store(acc, dst + ox)
        } else {
            for lane in 0..<(count &- ox) { dst[ox &+ lane] = acc[lane] }
        }
    }

    /// The common 3x3 kernel with its nine taps held in registers for a whole row and
    /// the loads unrolled per stride (the general loop above spent most of its time on
    /// tap broadcasts and index arithmetic). Same products, same order.
    struct Kernel3x3 {
        let t0, t1, t2, t3, t4, t5, t6, t7, t8: SIMD8<Float>

        init(_ taps: UnsafePointer<Float>) {
            (t0, t1, t2) = (SIMD8(repeating: taps[0]), SIMD8(repeating: taps[1]), SIMD8(repeating: taps[2]))
            (t3, t4, t5) = (SIMD8(repeating: taps[3]), SIMD8(repeating: taps[4]), SIMD8(repeating: taps[5]))
            (t6, t7, t8) = (SIMD8(repeating: taps[6]), SIMD8(repeating: taps[7]), SIMD8(repeating: taps[8]))
        }

        /// One output row from the three padded input rows starting at `rows`.
        func row(_ rows: UnsafePointer<Float>, rowStride: Int, start: SIMD8<Float>, count: Int, stride: Int, into dst: UnsafeMutablePointer<Float>) {
            let (r0, r1, r2) = (rows, rows + rowStride, rows + 2 * rowStride)
            var ox = 0
            if stride == 1 {
                while ox < count {
                    var acc = start
                    acc += t0 * Vector.load(r0 + ox); acc += t1 * Vector.load(r0 + ox + 1); acc += t2 * Vector.load(r0 + ox + 2)
                    acc += t3 * Vector.load(r1 + ox); acc += t4 * Vector.load(r1 + ox + 1); acc += t5 * Vector.load(r1 + ox + 2)
                    acc += t6 * Vector.load(r2 + ox); acc += t7 * Vector.load(r2 + ox + 1); acc += t8 * Vector.load(r2 + ox + 2)
                    Conv2D.storeEight(acc, dst, ox, count: count)
                    ox &+= 8
                }
                return
            }
            // Stride 2: columns 0 and 1 of eight windows are the even and odd lanes of
            // sixteen floats, column 2 the even lanes of the sixteen two floats on.
            while ox < count {
                let at = 2 &* ox
                let a0 = Self.sixteen(r0, at), a1 = Self.sixteen(r1, at), a2 = Self.sixteen(r2, at)
                let b0 = Self.sixteen(r0, at &+ 2), b1 = Self.sixteen(r1, at &+ 2), b2 = Self.sixteen(r2, at &+ 2)
                var acc = start
                acc += t0 * a0.evenHalf; acc += t1 * a0.oddHalf; acc += t2 * b0.evenHalf
                acc += t3 * a1.evenHalf; acc += t4 * a1.oddHalf; acc += t5 * b1.evenHalf
                acc += t6 * a2.evenHalf; acc += t7 * a2.oddHalf; acc += t8 * b2.evenHalf
                Conv2D.storeEight(acc, dst, ox, count: count)
                ox &+= 8
            }
        }

        @inline(__always)
        static func sixteen(_ row: UnsafePointer<Float>, _ offset: Int) -> SIMD16<Float> {
            UnsafeRawPointer(row + offset).loadUnaligned(as: SIMD16<Float>.self)
        }
    }
}
