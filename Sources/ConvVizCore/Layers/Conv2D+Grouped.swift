/// Grouped and depthwise convolution by direct loops.
///
/// A depthwise layer (one input channel per group, as in MobileNet and EfficientNet)
/// does `K*K` multiply-adds per output: too little work per weight for a GEMM to pay for
/// unrolling patches, so each output plane accumulates shifted rows of its input planes,
/// one kernel tap at a time, over the run of output columns whose taps fall inside the
/// input (no per-pixel bounds checks). Planes are split across cores; every sum runs in
/// a fixed order, so results do not depend on the number of workers.
extension Conv2D {
    /// The output columns `lo...hi` whose tap at kernel column `k` reads inside a row of
    /// `width` (empty when `lo > hi`).
    @inline(__always)
    private static func columnRange(tap k: Int, width: Int, outWidth: Int, stride: Int, padding: Int, dilation: Int) -> (lo: Int, hi: Int) {
        let offset = k * dilation - padding        // input column of output column 0
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = width - 1 - offset
        let hi = last < 0 ? -1 : Swift.min(outWidth - 1, last / stride)
        return (lo, hi)
    }

    /// A row's columns regrouped by phase modulo the stride (`stride` 2: the even columns,
    /// then the odd), so that a strided tap reads (or adds to) a contiguous run, which
    /// vectorizes: a stride-2 depthwise layer gathered every other float before, 5-10x
    /// slower per multiply-add than its stride-1 neighbours (MobileNetV2 at batch 1).
    struct PhaseSplit {
        let width: Int, stride: Int
        /// Where each phase's columns start in a split row.
        let starts: [Int]

        init(width: Int, stride: Int) {
            self.width = width
            self.stride = stride
            starts = (0..<stride).map { ph in (0..<ph).reduce(0) { $0 + (width - $1 + stride - 1) / stride } }
        }

        /// Offset in a split row of input column `offset + ox * stride` for `ox = 0`
        /// (valid for the `ox` whose column lies inside the row).
        @inline(__always)
        func base(columnOffset offset: Int) -> Int {
            let phase = ((offset % stride) + stride) % stride
            return starts[phase] + (offset - phase) / stride
        }

        func split(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
            for ph in 0..<stride {
                var j = starts[ph], c = ph
                while c < width { out[j] = row[c]; j += 1; c += stride }
            }
        }

        func merge(_ split: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>) {
            for ph in 0..<stride {
                var j = starts[ph], c = ph
                while c < width { row[c] = split[j]; j += 1; c += stride }
            }
        }
    }

    func forwardGrouped(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = input.shape[0]
        let (cin, cout, h, w) = (inputChannels, outputChannels, g.height, g.width)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let (inPerGroup, outPerGroup) = (cin / groups, cout / groups)
        let (kh, kw) = (window.kernel.h, window.kernel.w)
        let (s, p, d) = (window.stride, window.padding, window.dilation)
        var output = Tensor(uninitializedShape: [n, cout, oh, ow])
        let biasValues = bias?.value.data
        input.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        output.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, wt = wb.baseAddress!, y = yb.baseAddress!
            let phases = PhaseSplit(width: w, stride: s.w)
            Parallel.forEachRange(n * cout, minimumPerPart: 4) { _, planes in
                let splitPlane = s.w > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: h * w) : nil
                defer { splitPlane?.deallocate() }
                for plane in planes {
                    let sample = plane / cout, oc = plane % cout
                    let firstInput = oc / outPerGroup * inPerGroup
                    let out = y + plane * oh * ow
                    out.update(repeating: biasValues?[oc] ?? 0, count: oh * ow)
                    for i in 0..<inPerGroup {
                        var src = x + (sample * cin + firstInput + i) * h * w
                        if let splitPlane {
                            for r in 0..<h { phases.split(src + r * w, into: splitPlane + r * w) }
                            src = UnsafePointer(splitPlane)
                        }
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let tap = wt[((oc * inPerGroup + i) * kh + ky) * kw + kx]
                                let (lo, hi) = Self.columnRange(tap: kx, width: w, outWidth: ow, stride: s.w, padding: p.w, dilation: d.w)
                                guard lo <= hi else { continue }
                                // The tap's run in the (phase-split, for stride > 1) row; stride 1: the column offset.
                                let columnOffset = phases.base(columnOffset: kx * d.w - p.w)
                                for oy in 0..<oh {
                                    let iy = oy * s.h - p.h + ky * d.h
                                    guard iy >= 0 && iy < h else { continue }
                                    let row = src + iy * w + columnOffset, dst = out + oy * ow
                                    for ox in lo...hi { dst[ox] += tap * row[ox] }
                                }
                            }
                        }
                    }
                }
            }
        }}}
        return output
    }

    /// The weight gradient's storage, or a scratch float the caller never writes when only
    /// the input gradient is asked for (the parameter's gradient is then never allocated).
    private func withParameterGradient(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard accumulatesParameterGradients else {
            var unused: Float = 0
            return body(&unused)
        }
        weight.grad.data.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    func backwardGrouped(_ gradOutput: Tensor, input: Tensor, _ g: Im2Col.Geometry, needsInputGradient: Bool) -> Tensor? {
        let n = input.shape[0]
        let (cin, cout, h, w) = (inputChannels, outputChannels, g.height, g.width)
        let (oh, ow) = (g.outHeight, g.outWidth)
        let (inPerGroup, outPerGroup) = (cin / groups, cout / groups)
        let (kh, kw) = (window.kernel.h, window.kernel.w)
        let (s, p, d) = (window.stride, window.padding, window.dilation)
        var gradInput = needsInputGradient ? Tensor(shape: input.shape) : nil
        input.data.withUnsafeBufferPointer { xb in
        gradOutput.data.withUnsafeBufferPointer { gb in
        weight.value.data.withUnsafeBufferPointer { wb in
        withParameterGradient { dw in
            let x = xb.baseAddress!, dy = gb.baseAddress!, wt = wb.baseAddress!
            // dW: each output channel's taps belong to one worker, samples summed in order.
            // Skipped for the input gradient alone (attribution): half the work.
            if accumulatesParameterGradients { Parallel.forEachRange(cout, minimumPerPart: 2) { _, channels in
                for oc in channels {
                    let firstInput = oc / outPerGroup * inPerGroup
                    for i in 0..<inPerGroup { for ky in 0..<kh { for kx in 0..<kw {
                        let (lo, hi) = Self.columnRange(tap: kx, width: w, outWidth: ow, stride: s.w, padding: p.w, dilation: d.w)
                        guard lo <= hi else { continue }
                        var sum: Float = 0
                        for sample in 0..<n {
                            let src = x + (sample * cin + firstInput + i) * h * w + kx * d.w - p.w
                            let grad = dy + (sample * cout + oc) * oh * ow
                            for oy in 0..<oh {
                                let iy = oy * s.h - p.h + ky * d.h
                                guard iy >= 0 && iy < h else { continue }
                                for ox in lo...hi { sum += grad[oy * ow + ox] * src[iy * w + ox * s.w] }
                            }
                        }
                        dw[((oc * inPerGroup + i) * kh + ky) * kw + kx] += sum
                    }}}
                }
            }}
            // dX: each input plane belongs to one worker; it gathers from its group's outputs.
            withOptionalMutablePointer(&gradInput) { dxp in
                guard let dx = dxp else { return }
                let phases = PhaseSplit(width: w, stride: s.w)
                Parallel.forEachRange(n * cin, minimumPerPart: 4) { _, planes in
                    // Stride > 1: sums gathered in phase-split rows, merged into the plane after.
                    let splitPlane = s.w > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: h * w) : nil
                    defer { splitPlane?.deallocate() }
                    for plane in planes {
                        let sample = plane / cin, ic = plane % cin
                        let group = ic / inPerGroup, i = ic % inPerGroup
                        let dst = splitPlane ?? dx + plane * h * w
                        splitPlane?.initialize(repeating: 0, count: h * w)
                        defer { if let splitPlane { for r in 0..<h { phases.merge(splitPlane + r * w, into: dx + plane * h * w + r * w) } } }
                        for oc in (group * outPerGroup)..<((group + 1) * outPerGroup) {
                            let grad = dy + (sample * cout + oc) * oh * ow
                            for ky in 0..<kh { for kx in 0..<kw {
                                let tap = wt[((oc * inPerGroup + i) * kh + ky) * kw + kx]
                                let (lo, hi) = Self.columnRange(tap: kx, width: w, outWidth: ow, stride: s.w, padding: p.w, dilation: d.w)
                                guard lo <= hi else { continue }
                                for oy in 0..<oh {
                                    let iy = oy * s.h - p.h + ky * d.h
                                    guard iy >= 0 && iy < h else { continue }
                                    let row = dst + iy * w + phases.base(columnOffset: kx * d.w - p.w), src = grad + oy * ow
                                    for ox in lo...hi { row[ox] += tap * src[ox] }
                                }
                            }}
                        }
                    }
                }
            }
        }}}}
        if let bias, accumulatesParameterGradients {
            for oc in 0..<cout {
                var sum: Float = 0
                for sample in 0..<n { gradOutput.data.withUnsafeBufferPointer { sum += Vector.sum($0.baseAddress! + (sample * cout + oc) * oh * ow, count: oh * ow) } }
                bias.grad.data[oc] += sum
            }
        }
        return gradInput
    }
}
