/// Convolution through the channel-major patch matrix (`Im2Col+ChannelMajor`), one
/// sample per GEMM: for inputs with few channels, such as a first layer on gray or RGB
/// images. The weight is used as stored (`[C_out, C*Kh*Kw]`) and the products are
/// already NCHW, so nothing is transposed.
extension Conv2D {
    func forwardChannelMajor(_ input: Tensor, _ g: Im2Col.Geometry) -> Tensor {
        let n = input.shape[0]
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        var output = Tensor(uninitializedShape: [n, cout, g.outHeight, g.outWidth])
        let biasValues = bias?.value.data
        input.data.withUnsafeBufferPointer { xb in
        weight.value.data.withUnsafeBufferPointer { wb in
        output.data.withUnsafeMutableBufferPointer { yb in
            let x = xb.baseAddress!, w = wb.baseAddress!, y = yb.baseAddress!
            Parallel.forEachRange(n) { _, range in
                let space = Workspace(g, samples: 1)
                defer { space.free() }
                for s in range {
                    Im2Col.padPlanar(x + s * g.inPlane, g, into: space.padded)
                    Im2Col.unrollChannelMajor(space.padded, g, into: space.patches)
                    // W [C_out, rows] x cols [rows, plane] -> this sample's [C_out, plane]
                    let out = y + s * cout * plane
                    BLAS.gemm(m: cout, n: plane, k: rows, a: w, lda: rows, b: space.patches, ldb: plane, c: out, ldc: plane)
                    if let biasValues {
                        for c in 0..<cout { Vector.affine(out + c * plane, count: plane, scale: 1, shift: biasValues[c], into: out + c * plane) }
                    }
                }
            }
        }}}
        return output
    }

    /// Fills `partialWeight` (per slice of the batch, in weight order) and `partialBias`;
    /// adds the weight gradient; returns the input gradient when asked.
    func backwardChannelMajor(_ gradOutput: Tensor, input: Tensor, _ g: Im2Col.Geometry, _ partition: BatchPartition, needsInputGradient: Bool,
                              partialWeight: inout [Float], partialBias: inout [Float]) -> Tensor? {
        let (cout, rows, plane) = (outputChannels, g.rows, g.outPlane)
        let weightGradient = accumulatesParameterGradients
        var gradInput = needsInputGradient ? Tensor(uninitializedShape: input.shape) : nil
        let weightCount = weight.value.count
        input.data.withUnsafeBufferPointer { xb in
        gradOutput.data.withUnsafeBufferPointer { dyb in
        weight.value.data.withUnsafeBufferPointer { wb in
        partialWeight.withUnsafeMutableBufferPointer { pwb in
        partialBias.withUnsafeMutableBufferPointer { pbb in
        withOptionalMutablePointer(&gradInput) { dx in
            let x = xb.baseAddress!, dy = dyb.baseAddress!, w = wb.baseAddress!
            partition.forEachWorker { slices in
                let space = Workspace(g, samples: 1)
                let dcols = dx == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: rows * plane)
                let dpadded = dx == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.paddedCount)
                defer { space.free(); dcols?.deallocate(); dpadded?.deallocate() }
                for slice in slices {
                let dw = pwb.baseAddress! + slice * weightCount, db = pbb.baseAddress! + slice * cout
                let samples = partition.range(ofSlice: slice)
                for s in samples {
                    let gy = dy + s * cout * plane
                    if weightGradient {
                        Im2Col.padPlanar(x + s * g.inPlane, g, into: space.padded)
                        Im2Col.unrollChannelMajor(space.padded, g, into: space.patches)
                        for c in 0..<cout { db[c] += Vector.sum(gy + c * plane, count: plane) }
                        // dW [C_out, rows] += dY [C_out, plane] x cols^T [plane, rows]
                        BLAS.gemm(transB: true, m: cout, n: rows, k: plane, a: gy, lda: plane, b: space.patches, ldb: plane,
                                  beta: s == samples.lowerBound ? 0 : 1, c: dw, ldc: rows)
                    }
                    if let dx, let dcols, let dpadded {
                        // dCols [rows, plane] = W^T [rows, C_out] x dY [C_out, plane], folded back.
                        BLAS.gemm(transA: true, m: rows, n: plane, k: cout, a: w, lda: rows, b: gy, ldb: plane, c: dcols, ldc: plane)
                        dpadded.update(repeating: 0, count: g.paddedCount)
                        Im2Col.foldChannelMajor(dcols, g, into: dpadded)
                        Im2Col.unpadPlanar(dpadded, g, into: dx + s * g.inPlane)
                    }
                }
                }
            }
        }}}}}}
        if weightGradient { partition.addSlices(partialWeight, onto: &weight.grad.data) }
        return gradInput
    }
}
