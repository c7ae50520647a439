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
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    nonisolated(unsafe) private static var singleThreaded = false

    /// Makes OpenBLAS run in the calling thread: `Parallel` supplies the parallelism.
    static func ensureSingleThreaded() {
        if !singleThreaded { threads = 1; singleThreaded = true }
    }

    /// Runs `body` with OpenBLAS using all cores (to measure the machine's SGEMM rate).
    public static func withAllCores<T>(_ body: () -> T) -> T {
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
}
