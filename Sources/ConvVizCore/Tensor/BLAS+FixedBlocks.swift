extension BLAS {
    /// Which dimension of `C` `gemmInFixedBlocks` splits.
    public enum Split: Sendable { case rows, columns }

    /// `gemm` on every core with the same bytes on any number of them: `C`'s rows (or
    /// columns) are cut into blocks of `blockSize` whatever `Parallel.workers` is, and
    /// each block is one single-threaded product, so every element is summed by the same
    /// kernel in the same order on 1 or 8 workers. OpenBLAS's own threading splits by its
    /// thread count, and its edge kernels round differently (the conv1 recipe's whitening
    /// gave other bytes on 1, 2 and 3 threads that way).
    public static func gemmInFixedBlocks(
        split: Split, blockSize: Int = 128,
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(blockSize > 0)
        let extent = split == .rows ? m : n
        let blocks = (extent + blockSize - 1) / blockSize
        // The blocks write disjoint parts of C; the pointers cross threads unchecked.
        let (pa, pb, pc) = (UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(c))
        Parallel.forEachRange(blocks) { _, range in
            for block in range {
                let lo = block * blockSize, size = min(blockSize, extent - lo)
                switch split {
                case .rows:  // rows lo..<lo+size of op(A) and C
                    gemm(transA: transA, transB: transB, m: size, n: n, k: k, alpha: alpha,
                         a: pa.value + (transA ? lo : lo * lda), lda: lda, b: pb.value, ldb: ldb,
                         beta: beta, c: pc.value + lo * ldc, ldc: ldc)
                case .columns:  // columns lo..<lo+size of op(B) and C
                    gemm(transA: transA, transB: transB, m: m, n: size, k: k, alpha: alpha,
                         a: pa.value, lda: lda, b: pb.value + (transB ? lo * ldb : lo), ldb: ldb,
                         beta: beta, c: pc.value + lo, ldc: ldc)
                }
            }
        }
    }
}
