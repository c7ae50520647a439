import CBLAS

/// The one place ConvViz calls OpenBLAS.
///
/// All matrices are row-major. `gemm` computes `C = alpha * op(A) * op(B) + beta * C`
/// where `op(A)` is `M x K`, `op(B)` is `K x N` and `C` is `M x N`.
public enum BLAS {
    public static func gemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0)
        if m == 0 || n == 0 { return }
        ensureSingleThreaded()
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    nonisolated(unsafe) private static var singleThreaded = false

    /// Makes OpenBLAS run in the calling thread: `Parallel` supplies the parallelism.
    /// Every product is then computed by one thread whatever the core count, so its
    /// rounding cannot depend on how OpenBLAS would have split it among threads (a
    /// layer that multiplies outside `Parallel`, such as `Linear`, included).
    static func ensureSingleThreaded() {
        if !singleThreaded { threads = 1; singleThreaded = true }
    }

    /// Runs `body` with OpenBLAS using all cores (to measure the machine's SGEMM rate).
    public static func withAllCores<T>(_ body: () -> T) -> T {
        ensureSingleThreaded()
        let before = threads
        threads = Parallel.workers
        defer { threads = before }
        return body()
    }

    /// Number of threads OpenBLAS uses (it defaults to the number of cores).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// Eigenvalues (ascending) and eigenvectors of a symmetric `n x n` matrix, by
    /// LAPACK's `ssyevd`. Row `i` of the returned vectors is the eigenvector of value `i`.
    public static func symmetricEigen(_ matrix: [Float], n: Int) -> (values: [Float], vectors: [Float])? {
        var a = matrix  // column-major = row-major for a symmetric matrix
        var w = [Float](repeating: 0, count: n)
        var (jobz, uplo) = (CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")))
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1, workSize: Float = 0, iworkSize: Int32 = 0
        ssyevd_(&jobz, &uplo, &nn, &a, &lda, &w, &workSize, &lwork, &iworkSize, &liwork, &info)
        guard info == 0 else { return nil }
        lwork = Int32(workSize); liwork = iworkSize
        var work = [Float](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        ssyevd_(&jobz, &uplo, &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { return nil }
        // LAPACK stores eigenvectors as columns (column-major), i.e. rows of our row-major view.
        return (w, a)
    }
}
