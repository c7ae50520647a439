/// Eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi rotations,
/// in Double (kernel PCA of a filter bank, Eigen-CAM's principal component).
public enum SymmetricEigen {
    /// Eigenvalues (the diagonal, unsorted) and column eigenvectors `[d, d]` of a
    /// symmetric d x d matrix. Sweeps stop when the off-diagonal sum of squares is at
    /// most `tolerance` (absolute), or after 100 sweeps.
    public static func jacobi(_ m: [Double], _ d: Int, tolerance: Double = 1e-30) -> ([Double], [Double]) {
        var a = m, v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<d where q < d { off += a[p * d + q] * a[p * d + q] } }
            if off <= tolerance { break }
            for p in 0..<d { for q in (p + 1)..<d where q < d {
                let apq = a[p * d + q]
                guard abs(apq) > 1e-300 else { continue }
                let theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<d {
                    let akp = a[k * d + p], akq = a[k * d + q]
                    a[k * d + p] = c * akp - s * akq; a[k * d + q] = s * akp + c * akq
                }
                for k in 0..<d {
                    let apk = a[p * d + k], aqk = a[q * d + k]
                    a[p * d + k] = c * apk - s * aqk; a[q * d + k] = s * apk + c * aqk
                }
                for k in 0..<d {
                    let vkp = v[k * d + p], vkq = v[k * d + q]
                    v[k * d + p] = c * vkp - s * vkq; v[k * d + q] = s * vkp + c * vkq
                }
            }}
        }
        return ((0..<d).map { a[$0 * d + $0] }, v)
    }
}
