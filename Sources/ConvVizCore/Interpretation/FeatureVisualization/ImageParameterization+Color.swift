import Foundation

/// Lucid's `to_valid_rgb`: the optimized image lives in a decorrelated colour space;
/// a 3x3 matrix maps it to RGB (`_linear_decorrelate_color`), then a sigmoid to [0, 1].
public struct ColorDecorrelation: Equatable, Sendable {
    /// Row-major 3x3: rgb[i] = sum_j matrix[3i + j] * decorrelated[j].
    public let matrix: [Float]

    public init(matrix: [Float]) {
        precondition(matrix.count == 9)
        self.matrix = matrix
    }

    /// Lucid's square root of ImageNet's colour correlation (`color_correlation_svd_sqrt`),
    /// divided by its largest column norm (`color_correlation_normalized`).
    public static let imageNet: ColorDecorrelation = {
        let svdSqrt: [Double] = [0.26, 0.09, 0.02,
                                 0.27, 0.00, -0.05,
                                 0.27, -0.09, 0.03]
        return ColorDecorrelation(sqrtCorrelation: svdSqrt)
    }()

    /// Divides a square root of the colour covariance (row-major 3x3) by its largest
    /// column norm, as Lucid does.
    init(sqrtCorrelation m: [Double]) {
        let norms = (0..<3).map { j in (0..<3).map { i in m[3 * i + j] * m[3 * i + j] }.reduce(0, +).squareRoot() }
        let largest = max(norms.max()!, 1e-12)
        matrix = m.map { Float($0 / largest) }
    }

    /// The decorrelation of a set of RGB images `[N, 3, H, W]`: the colour covariance
    /// over every pixel, C = U diag(l) U^T, and its square root U diag(sqrt l) (the form
    /// of Lucid's matrix, computed by SVD of the same covariance), normalized as above.
    public static func estimated(from images: Tensor) -> ColorDecorrelation {
        precondition(images.rank == 4 && images.shape[1] == 3)
        let plane = images.shape[2] * images.shape[3]
        var mean = [Double](repeating: 0, count: 3), count = 0.0
        var cov = [Double](repeating: 0, count: 9)
        for n in 0..<images.shape[0] {
            let base = n * 3 * plane
            for p in 0..<plane {
                let v = (0..<3).map { Double(images.data[base + $0 * plane + p]) }
                count += 1
                for i in 0..<3 { mean[i] += v[i] }
                for i in 0..<3 { for j in 0..<3 { cov[3 * i + j] += v[i] * v[j] } }
            }
        }
        for i in 0..<3 { mean[i] /= max(count, 1) }
        for i in 0..<3 { for j in 0..<3 { cov[3 * i + j] = cov[3 * i + j] / max(count, 1) - mean[i] * mean[j] } }
        // Rows of `vectors` are eigenvectors (LAPACK's ssyevd); the root is U diag(sqrt l).
        guard let (values, vectors) = BLAS.symmetricEigen(cov.map(Float.init), n: 3) else { return .imageNet }
        var root = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { root[3 * i + j] = Double(vectors[3 * j + i]) * Double(max(values[j], 0)).squareRoot() } }
        return ColorDecorrelation(sqrtCorrelation: root)
    }

    /// `[N, 3, H, W]` decorrelated -> RGB.
    public func apply(_ x: Tensor) -> Tensor { mix(x, transposed: false) }
    /// The adjoint: the gradient with respect to the decorrelated image.
    public func adjoint(_ g: Tensor) -> Tensor { mix(g, transposed: true) }

    private func mix(_ x: Tensor, transposed: Bool) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3)
        let plane = x.shape[2] * x.shape[3]
        let m = transposed ? (0..<9).map { matrix[3 * ($0 % 3) + $0 / 3] } : matrix
        var y = Tensor(uninitializedShape: x.shape)
        for n in 0..<x.shape[0] {
            let base = n * 3 * plane
            for p in 0..<plane {
                let a = x.data[base + p], b = x.data[base + plane + p], c = x.data[base + 2 * plane + p]
                for i in 0..<3 { y.data[base + i * plane + p] = m[3 * i] * a + m[3 * i + 1] * b + m[3 * i + 2] * c }
            }
        }
        return y
    }
}

/// The logistic sigmoid taking the image to pixel range [0, 1], and its adjoint.
public enum PixelSigmoid {
    public static func apply(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { 1 / (1 + exp(-$0)) })
    }

    /// dL/dx from dL/dy and y = sigmoid(x): dL/dy * y * (1 - y).
    public static func gradient(_ g: Tensor, output y: Tensor) -> Tensor {
        Tensor(shape: g.shape, data: zip(g.data, y.data).map { $0 * $1 * (1 - $1) })
    }
}
