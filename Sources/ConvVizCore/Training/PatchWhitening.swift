import Foundation

/// The fixed preprocessing shared by the filter recipes: each colour patch loses its mean
/// (over all of its values) and, for competitive learning, is contrast-normalized
/// (`(x - mean) / sqrt(var + contrastFloor)`); then it is ZCA-whitened, `z = W x` with `W = V diag(1/sqrt(lambda + floor)) V^T`
/// from the eigen-decomposition of the patches' covariance.
///
/// `W` is symmetric, so a filter `d` applied to whitened patches is the filter `W d`
/// applied to the (contrast-normalized) pixels: `pixelSpace` gives what a figure shows.
public struct PatchWhitening: Sendable {
    public let dim: Int
    /// `[dim, dim]`, row-major, symmetric.
    public let matrix: [Float]

    /// Contrast-normalizes `count` rows of `dim` values in place.
    public static func contrastNormalize(_ x: inout [Float], count: Int, dim: Int, floor: Float) {
        removeMean(&x, count: count, dim: dim)
        for i in 0..<count {
            let row = i * dim
            var v: Float = 0
            for j in 0..<dim { v += x[row + j] * x[row + j] }
            let s = 1 / (v / Float(dim) + floor).squareRoot()
            for j in 0..<dim { x[row + j] *= s }
        }
    }

    /// Subtracts each row's mean (over all `dim` values) in place: a linear projection,
    /// so it folds into the filters.
    public static func removeMean(_ x: inout [Float], count: Int, dim: Int) {
        for i in 0..<count {
            let row = i * dim
            var mean: Float = 0
            for j in 0..<dim { mean += x[row + j] }
            mean /= Float(dim)
            for j in 0..<dim { x[row + j] -= mean }
        }
    }

    /// ZCA whitening fitted to `count` rows of `dim` values (already contrast-normalized).
    public init(fitting x: [Float], count: Int, dim: Int, floor: Float) throws {
        var cov = [Float](repeating: 0, count: dim * dim)
        x.withUnsafeBufferPointer { xb in cov.withUnsafeMutableBufferPointer { cb in
            BLAS.gemmInFixedBlocks(split: .rows, blockSize: 64, transA: true, m: dim, n: dim, k: count, alpha: 1 / Float(count),
                                   a: xb.baseAddress!, lda: dim, b: xb.baseAddress!, ldb: dim, c: cb.baseAddress!, ldc: dim)
        }}
        guard let eig = BLAS.symmetricEigen(cov, n: dim) else { throw ReadError("sample photographs", .corrupt, "whitening failed: eigendecomposition did not converge") }
        var whiten = [Float](repeating: 0, count: dim * dim)
        for k in 0..<dim {
            let scale = 1 / (max(eig.values[k], 0) + floor).squareRoot()
            for a in 0..<dim {
                let va = eig.vectors[k * dim + a] * scale
                for b in 0..<dim { whiten[a * dim + b] += va * eig.vectors[k * dim + b] }
            }
        }
        self.dim = dim
        self.matrix = whiten
    }

    /// `W x` for `count` rows of `x`.
    public func apply(_ x: [Float], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count * dim)
        x.withUnsafeBufferPointer { xb in matrix.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer { ob in
            BLAS.gemmInFixedBlocks(split: .rows, blockSize: 1024, m: count, n: dim, k: dim,
                                   a: xb.baseAddress!, lda: dim, b: wb.baseAddress!, ldb: dim, c: ob.baseAddress!, ldc: dim)
        }}}
        return out
    }

    /// `W d` for row `k` of `d` (one filter in whitened space), into `out[k * dim ...]`.
    func pixelSpace(_ d: [Float], row k: Int, into out: inout [Float]) {
        for a in 0..<dim {
            var s: Float = 0
            for b in 0..<dim { s += matrix[a * dim + b] * d[k * dim + b] }
            out[k * dim + a] = s
        }
    }

    /// `W d` for every row of `d`, as `[rows, 3, K, K]` (no rescaling).
    public func pixelSpace(_ d: [Float], kernel: Int) -> Tensor {
        let rows = d.count / dim
        var out = [Float](repeating: 0, count: d.count)
        for k in 0..<rows { pixelSpace(d, row: k, into: &out) }
        return Tensor(shape: [rows, dim / (kernel * kernel), kernel, kernel], data: out)
    }
}
