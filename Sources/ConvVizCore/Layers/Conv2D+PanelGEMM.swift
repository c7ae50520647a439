import CKernels

/// The weight-times-patches products of the small-batch inference paths (small maps,
/// 1x1 layers on 7x7 maps) on `PanelGEMM`'s AVX-512 kernel when the CPU has it: the weight
/// packed once into panels of 32 output channels and kept while it does not change,
/// outside training, as Winograd's transformed kernels are. Elsewhere, or with
/// `usesPanelGEMM` off, OpenBLAS.
///
/// Memory: after a pure inference pass (`.evaluation`) the weight as stored is released
/// (`Parameter.release`) and the panels are the one copy; a later read of `weight.value`
/// (another path, a gradient, a figure of the kernels) unpacks it again, exactly, and
/// from then on both are kept, so that passes of both kinds do not repack in turn.
extension Conv2D {
    /// The weight as stored, `[C_out, C_in*K*K]`, in panels, or (`transposed`) its
    /// transpose `[C_in*K*K, C_out]` for input gradients; each kept between calls outside
    /// training. Only the forward panels release the weight: a gradient pass reads the
    /// weight elsewhere too.
    func panelWeight(transposed: Bool = false) -> [Float] {
        if let kept = transposed ? transposedPanelCache : panelWeightCache, kept.version == weight.version { return kept.panels }
        let (rows, depth) = transposed ? (productDepth, outputChannels) : (outputChannels, productDepth)
        let panels = weight.value.data.withUnsafeBufferPointer {
            transposed ? PanelGEMM.packTransposed($0.baseAddress!, rows: rows, depth: depth) : PanelGEMM.pack($0.baseAddress!, rows: rows, depth: depth)
        }
        let kept = keepsWinogradKernels ? (weight.version, panels) : nil
        if transposed { transposedPanelCache = kept; return panels }
        panelWeightCache = kept
        if keepsWinogradKernels && releasesWeightAfterPacking && weight.restorations == 0 {
            let shape = weight.value.shape
            weight.release { Tensor(shape: shape, data: PanelGEMM.unpack(panels, rows: rows, depth: depth)) }
        }
        return panels
    }

    /// Terms per output: `C_in/groups * K_h * K_w`.
    var productDepth: Int { inputChannels / groups * window.kernel.h * window.kernel.w }

    /// Whether this layer's small-batch products take `PanelGEMM`.
    var runsPanelGEMM: Bool { usesPanelGEMM && PanelGEMM.isAvailable && groups == 1 }

    /// Runs `body` with the packed weight (the panel kernel runs here; `transposed`: W^T's
    /// panels) or the weight as stored (OpenBLAS): one of the two, the other nil. The
    /// forward panel path leaves `weight.value` released.
    func withProductWeight<T>(allowingPanels: Bool = true, transposed: Bool = false,
                              _ body: (_ packed: UnsafePointer<Float>?, _ stored: UnsafePointer<Float>?) -> T) -> T {
        if allowingPanels && runsPanelGEMM { return panelWeight(transposed: transposed).withUnsafeBufferPointer { body($0.baseAddress!, nil) } }
        return weight.value.data.withUnsafeBufferPointer { body(nil, $0.baseAddress!) }
    }

    /// Output channels `channels` (whole panels, or up to `C_out`) of `W x B` into NCHW rows
    /// (`y`: channel 0's row, `ldy` apart), with the bias and the fused ReLU; `residual`:
    /// `y` holds a residual, added before the ReLU (the panel kernel only). `B` is
    /// `[C_in*K*K, columns]`, rows `ldb` apart. The weight from `withProductWeight`;
    /// `scratch` holds `PanelGEMM.scratchCount` floats for the panel kernel.
    func multiplyWeight(_ channels: Range<Int>, packed: UnsafePointer<Float>?, stored: UnsafePointer<Float>?,
                        b: UnsafePointer<Float>, ldb: Int, columns: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                        scratch: UnsafeMutablePointer<Float>?, residual: Bool = false) {
        let depth = productDepth
        if let packed, let scratch {
            let p = PanelGEMM.panelRows
            precondition(channels.lowerBound % p == 0 && (channels.upperBound % p == 0 || channels.upperBound == outputChannels))
            withBiasValues { bias in
                PanelGEMM.multiply(packed, rows: outputChannels, depth: depth, panels: channels.lowerBound / p..<PanelGEMM.panels(rows: channels.upperBound),
                                   b: b, ldb: ldb, columns: columns, y: y, ldy: ldy, bias: bias,
                                   activation: kernelActivation(residual: residual), scratch: scratch)
            }
            return
        }
        precondition(!residual, "\(name): OpenBLAS's products add no residual")
        let out = y + channels.lowerBound * ldy
        BLAS.gemm(m: channels.count, n: columns, k: depth, a: stored! + channels.lowerBound * depth, lda: depth, b: b, ldb: ldb, c: out, ldc: ldy)
        finishChannelRows(out, channels: channels, count: columns, stride: ldy)
    }

    /// The fused ReLU or clip, for the C kernels; `residual`: the output holds a residual
    /// to add before it.
    func kernelActivation(residual: Bool = false) -> ck_activation {
        let added: Int32 = residual ? 1 : 0
        if rectifiesOutput { return ck_activation(kind: Int32(CK_RELU), lo: 0, hi: 0, residual: added) }
        if let clip = clipsOutput { return ck_activation(kind: Int32(CK_CLIP), lo: clip.lowerBound, hi: clip.upperBound, residual: added) }
        return ck_activation(kind: Int32(CK_IDENTITY), lo: 0, hi: 0, residual: added)
    }

    /// Runs `body` with the bias's values (nil without a bias).
    func withBiasValues<T>(_ body: (UnsafePointer<Float>?) -> T) -> T {
        guard let bias else { return body(nil) }
        return bias.value.data.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Scratch for one worker's panel products of `channels` output channels and up to
    /// `columns` columns, when the panel kernel runs (`packed` not nil).
    static func panelScratch(_ packed: UnsafePointer<Float>?, channels: Int, columns: Int) -> UnsafeMutablePointer<Float>? {
        packed.map { _ in .allocate(capacity: PanelGEMM.scratchCount(panels: PanelGEMM.panels(rows: channels), columns: columns)) }
    }
}
