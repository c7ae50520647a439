import Foundation

/// A comparison, not training (conv1 learned by back-propagation is `GradientFilterRecipe`):
/// finds first-layer filters from natural-image patches by competitive learning
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
    /// The photographs patches are cut from.
    public var photos = SamplePhotos.colorNames
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
        let data = try SamplePhotos.patches(from: photos, size: kernel, count: patches, channels: 3, flips: true, shortSide: photoShortSide, seed: seed)
        var x = data.images.data  // [M, dim]
        PatchWhitening.contrastNormalize(&x, count: patches, dim: dim, floor: contrastFloor)
        let whitening = try PatchWhitening(fitting: x, count: patches, dim: dim, floor: whiteningFloor)
        let xw = whitening.apply(x, count: patches)
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
                BLAS.gemmInFixedBlocks(split: .columns, blockSize: 1024, transB: true, m: filters, n: patches, k: dim,
                                       a: db.baseAddress!, lda: dim, b: xb.baseAddress!, ldb: dim, c: sb.baseAddress!, ldc: patches)
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
            result = pixelFilters(d, whitening: whitening)
            onIteration(Progress(iteration: it, loss: loss / Double(patches), weights: result))
        }
        return result
    }

    /// `W d` for each learned direction, scaled to unit max |w|, as `[filters, 3, K, K]`.
    func pixelFilters(_ d: [Float], whitening: PatchWhitening) -> Tensor {
        let dim = whitening.dim
        var out = Tensor(shape: [filters, 3, kernel, kernel])
        for k in 0..<filters {
            whitening.pixelSpace(d, row: k, into: &out.data)
            var maxAbs: Float = 0
            for a in 0..<dim { maxAbs = max(maxAbs, abs(out.data[k * dim + a])) }
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
