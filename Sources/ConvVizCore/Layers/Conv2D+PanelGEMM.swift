/// The weight-times-patches products of the small-batch inference paths (small maps,
/// stems, 1x1 layers) on `PanelGEMM`'s AVX-512 kernel when the CPU has it: the weight
/// packed once into panels of 32 output channels and kept while it does not change,
/// outside training, as Winograd's transformed kernels are (the same memory as the
/// weight, released with the layer). Elsewhere, or with `usesPanelGEMM` off, OpenBLAS.
extension Conv2D {
    /// The weight as stored, `[C_out, C_in*K*K]`, in panels; kept between inference calls.
    func panelWeight() -> [Float] {
        if let kept = panelWeightCache, kept.version == weight.version { return kept.panels }
        let panels = weight.value.data.withUnsafeBufferPointer {
            PanelGEMM.pack($0.baseAddress!, rows: outputChannels, depth: weight.value.count / outputChannels)
        }
        panelWeightCache = keepsWinogradKernels ? (weight.version, panels) : nil
        return panels
    }

    /// Whether this layer's small-batch products take `PanelGEMM`.
    var runsPanelGEMM: Bool { usesPanelGEMM && PanelGEMM.isAvailable && groups == 1 }

    /// Output channels `channels` (whole panels, or up to `C_out`) of `W x B` into NCHW rows
    /// (`y`: channel 0's row, `ldy` apart), with the bias and the fused ReLU. `B` is
    /// `[C_in*K*K, columns]`, rows `ldb` apart. Either kernel; `scratch` holds
    /// `PanelGEMM.scratchCount` floats for the panel kernel.
    func multiplyWeight(_ channels: Range<Int>, packed: UnsafePointer<Float>?, weight w: UnsafePointer<Float>,
                        b: UnsafePointer<Float>, ldb: Int, columns: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                        scratch: UnsafeMutablePointer<Float>?) {
        let depth = weight.value.count / outputChannels
        if let packed, let scratch {
            let p = PanelGEMM.panelRows
            precondition(channels.lowerBound % p == 0 && (channels.upperBound % p == 0 || channels.upperBound == outputChannels))
            let biasValues = bias?.value.data ?? []
            biasValues.withUnsafeBufferPointer { bb in
                PanelGEMM.multiply(packed, rows: outputChannels, depth: depth, panels: channels.lowerBound / p..<PanelGEMM.panels(rows: channels.upperBound),
                                   b: b, ldb: ldb, columns: columns, y: y, ldy: ldy, bias: bias == nil ? nil : bb.baseAddress,
                                   rectify: rectifiesOutput, scratch: scratch)
            }
            return
        }
        let out = y + channels.lowerBound * ldy
        BLAS.gemm(m: channels.count, n: columns, k: depth, a: w + channels.lowerBound * depth, lda: depth, b: b, ldb: ldb, c: out, ldc: ldy)
        finishChannelRows(out, channels: channels, count: columns, stride: ldy)
    }

    /// Runs `body` with the packed weight when the panel kernel runs here, else nil.
    func withPanelWeight<T>(_ body: (UnsafePointer<Float>?) -> T) -> T {
        guard runsPanelGEMM else { return body(nil) }
        return panelWeight().withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
