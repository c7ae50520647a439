import Foundation

/// Learns first-layer filters from natural-image patches by competitive learning
/// (spherical k-means on whitened patches; Coates, Lee and Ng, AISTATS 2011): every
/// patch is claimed by the filter that responds most strongly to it (either sign), and
/// that filter moves towards the patch. On ZCA-whitened colour patches the filters
/// become localized oriented edges and colour-opponent blobs, the independent
/// components of natural images (Olshausen and Field 1996; Hyvarinen's colour ICA).
///
/// Patches are contrast-normalized (`(x - mean) / sqrt(var + contrastFloor)`), then
/// ZCA-whitened: `W = V diag(1/sqrt(lambda + whiteningFloor)) V^T`. The filter a
/// network applies to standardized pixels is `W d` for a learned direction `d`.
public struct CompetitiveFilterLearning: Sendable {
    public var filters = 48
    public var kernel = 11
    public var patches = 30_000
    public var iterations = 12
    public var photoShortSide = 256
    public var contrastFloor: Float = 0.01
    public var whiteningFloor: Float = 0.1
    public var seed: UInt64 = 0

    public init() {}

    public struct Progress: Sendable {
        public let iteration: Int
        /// Mean squared error of reconstructing each whitened patch by its winner.
        public let loss: Double
        /// Filters (in pixel space, `[filters, 3, K, K]`) after this iteration.
        public let weights: Tensor
    }

    /// Runs the iterations, reporting each; returns the pixel-space filters.
    public func run(onIteration: (Progress) -> Void) throws -> Tensor {
        let dim = 3 * kernel * kernel
        let data = try SamplePhotos.patches(size: kernel, count: patches, channels: 3, flips: true, shortSide: photoShortSide, seed: seed)
        var x = data.images.data  // [M, dim]
        // Contrast normalization per patch.
        for i in 0..<patches {
            let row = i * dim
            var mean: Float = 0
            for j in 0..<dim { mean += x[row + j] }
            mean /= Float(dim)
            var v: Float = 0
            for j in 0..<dim { let d = x[row + j] - mean; v += d * d }
            let s = 1 / (v / Float(dim) + contrastFloor).squareRoot()
            for j in 0..<dim { x[row + j] = (x[row + j] - mean) * s }
        }
        // Covariance and ZCA whitening.
        var cov = [Float](repeating: 0, count: dim * dim)
        x.withUnsafeBufferPointer { xb in cov.withUnsafeMutableBufferPointer { cb in
            BLAS.withAllCores {
                BLAS.gemm(transA: true, m: dim, n: dim, k: patches, alpha: 1 / Float(patches), a: xb.baseAddress!, lda: dim, b: xb.baseAddress!, ldb: dim, c: cb.baseAddress!, ldc: dim)
            }
        }}
        guard let eig = BLAS.symmetricEigen(cov, n: dim) else { throw ReadError("sample photographs", .corrupt, "whitening failed: eigendecomposition did not converge") }
        var whiten = [Float](repeating: 0, count: dim * dim)
        for k in 0..<dim {
            let scale = 1 / (max(eig.values[k], 0) + whiteningFloor).squareRoot()
            for a in 0..<dim {
                let va = eig.vectors[k * dim + a] * scale
                for b in 0..<dim { whiten[a * dim + b] += va * eig.vectors[k * dim + b] }
            }
        }
        var xw = [Float](repeating: 0, count: patches * dim)
        x.withUnsafeBufferPointer { xb in whiten.withUnsafeBufferPointer { wb in xw.withUnsafeMutableBufferPointer { ob in
            BLAS.withAllCores {
                BLAS.gemm(m: patches, n: dim, k: dim, a: xb.baseAddress!, lda: dim, b: wb.baseAddress!, ldb: dim, c: ob.baseAddress!, ldc: dim)
            }
        }}}
        // Spherical k-means.
        var rng = SeededGenerator(seed: seed &+ 0xD1C7)
        var d = (0..<(filters * dim)).map { _ in rng.normal() }
        Self.normalizeRows(&d, dim: dim)
        var scores = [Float](repeating: 0, count: filters * patches)
        // |x|^2 of each whitened patch, for the reconstruction error; fixed across iterations.
        let norms = (0..<patches).map { i in
            var n2: Float = 0
            for j in 0..<dim { let v = xw[i * dim + j]; n2 += v * v }
            return n2
        }
        var result = Tensor(shape: [filters, 3, kernel, kernel])
        for it in 1...iterations {
            d.withUnsafeBufferPointer { db in xw.withUnsafeBufferPointer { xb in scores.withUnsafeMutableBufferPointer { sb in
                BLAS.withAllCores {
                    BLAS.gemm(transB: true, m: filters, n: patches, k: dim, a: db.baseAddress!, lda: dim, b: xb.baseAddress!, ldb: dim, c: sb.baseAddress!, ldc: patches)
                }
            }}}
            var next = d  // keeping the old direction avoids empty clusters
            var loss = 0.0
            for i in 0..<patches {
                var best = 0, bestScore: Float = 0
                for k in 0..<filters where abs(scores[k * patches + i]) > abs(bestScore) { best = k; bestScore = scores[k * patches + i] }
                for j in 0..<dim { next[best * dim + j] += bestScore * xw[i * dim + j] }
                loss += Double(norms[i] - bestScore * bestScore) / Double(dim)
            }
            Self.normalizeRows(&next, dim: dim)
            d = next
            result = pixelFilters(d, whiten: whiten, dim: dim)
            onIteration(Progress(iteration: it, loss: loss / Double(patches), weights: result))
        }
        return result
    }

    /// `W d` for each learned direction, scaled to unit max |w|, as `[filters, 3, K, K]`.
    func pixelFilters(_ d: [Float], whiten: [Float], dim: Int) -> Tensor {
        var out = Tensor(shape: [filters, 3, kernel, kernel])
        for k in 0..<filters {
            var maxAbs: Float = 0
            for a in 0..<dim {
                var s: Float = 0
                for b in 0..<dim { s += whiten[a * dim + b] * d[k * dim + b] }
                out.data[k * dim + a] = s
                maxAbs = max(maxAbs, abs(s))
            }
            for a in 0..<dim { out.data[k * dim + a] /= max(maxAbs, 1e-12) }
        }
        return out
    }

    static func normalizeRows(_ m: inout [Float], dim: Int) {
        for r in 0..<(m.count / dim) {
            var n: Float = 0
            for j in 0..<dim { n += m[r * dim + j] * m[r * dim + j] }
            let s = 1 / max(n.squareRoot(), 1e-12)
            for j in 0..<dim { m[r * dim + j] *= s }
        }
    }
}
