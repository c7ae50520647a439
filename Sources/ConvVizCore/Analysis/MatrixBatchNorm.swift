/// BatchNorm on an `N x D` matrix (N samples of D features), each column normalized
/// with its own mean and variance, then scaled by gamma and shifted by beta: the worked
/// example the lecture starts BatchNorm with.
///
/// Computed by the network's own `BatchNorm2D` in training mode on the matrix viewed as
/// `[N, D, 1, 1]` (over N, H, W with H = W = 1 is over the column), so the figure shows
/// what training computes.
public struct MatrixBatchNorm: Sendable {
    /// `[N, D]`.
    public let input: Tensor
    /// Per column: the mean and the biased variance (what the layer divides by).
    public let mean: [Float], variance: [Float]
    /// `(x - mean) / sqrt(variance + eps)`, `[N, D]`.
    public let normalized: Tensor
    /// `gamma * normalized + beta`, `[N, D]`.
    public let output: Tensor
    public let gamma: [Float], beta: [Float]
    public let eps: Float

    /// A matrix that is not `N x D` with N >= 1, D >= 1, or gamma/beta of the wrong length.
    public struct Invalid: Error, CustomStringConvertible { public let description: String }

    public init(_ x: Tensor, gamma: [Float]? = nil, beta: [Float]? = nil, eps: Float = 1e-5) throws {
        guard x.rank == 2, x.shape[0] >= 1, x.shape[1] >= 1 else {
            throw Invalid(description: "BatchNorm on a matrix needs N x D values with N, D >= 1, got \(x.shape)")
        }
        let (n, d) = (x.shape[0], x.shape[1])
        let gamma = gamma ?? [Float](repeating: 1, count: d), beta = beta ?? [Float](repeating: 0, count: d)
        guard gamma.count == d, beta.count == d else {
            throw Invalid(description: "gamma and beta need one value per column (\(d)), got \(gamma.count) and \(beta.count)")
        }
        let planes = x.reshaped([n, d, 1, 1])
        let stats = planes.data.withUnsafeBufferPointer { NormalizationKernel.statistics($0, .batch(planes.shape)) }
        let plain = BatchNorm2D(name: "bn", channels: d, eps: eps)
        let affine = BatchNorm2D(name: "bn", channels: d, eps: eps)
        affine.weight.value = Tensor(shape: [d], data: gamma)
        affine.bias.value = Tensor(shape: [d], data: beta)
        input = x
        mean = stats.mean
        variance = stats.variance
        normalized = plain.forward(planes, mode: .training).reshaped([n, d])
        output = affine.forward(planes, mode: .training).reshaped([n, d])
        self.gamma = gamma
        self.beta = beta
        self.eps = eps
    }
}
