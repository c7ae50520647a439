import Foundation

/// The recipe that makes first-layer filters on the sample photographs become oriented
/// edges and colour-opponent blobs (see the README's "Why this recipe").
///
/// - Task: rotation prediction on 32x32 colour patches (`RotationPatches`). A task the
///   network can solve from colour statistics alone (which photo a patch came from)
///   leaves conv1 near its initialization.
/// - Inputs: each patch has its mean colour removed and is scaled by the dataset's
///   per-channel standard deviation after *colour whitening* (PCA whitening of RGB),
///   so colour contrast counts as much as brightness contrast: without it the
///   luminance axis carries about 90% of natural-image variance and colour-opponent
///   filters rarely form.
/// - Network: AlexNet-like conv1 (48 filters of 11x11, stride 2) with a small initial
///   scale, so what it ends with is what it learned; weight decay prunes what the task
///   does not need.
public struct FilterRecipe: Sendable {
    public var filters = 48
    public var kernel = 11
    public var patch = 32
    public var trainPatches = 16_000
    public var testPatches = 2_000
    public var steps = 1_200
    public var batch = 64
    public var learningRate: Float = 0.02
    public var weightDecay: Float = 1e-3
    public var initialScale: Float = 0.1
    public var whitenColour = true
    /// Photographs are resized to this shorter side before cutting patches.
    public var photoShortSide = 128
    public var seed: UInt64 = 0

    public init() {}

    public var architecture: Architecture {
        Architecture(name: "rotation-net", input: [3, patch, patch], layers: [
            LayerSpec(.conv, name: "conv1", out: filters, kernel: Pair(kernel), stride: Pair(2)),
            LayerSpec(.relu, name: "relu1"),
            LayerSpec(.maxpool, name: "pool1", kernel: Pair(3), stride: Pair(2)),
            LayerSpec(.conv, name: "conv2", out: 64, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.batchnorm, name: "bn2"),
            LayerSpec(.relu, name: "relu2"),
            LayerSpec(.conv, name: "conv3", out: 64, kernel: Pair(3), padding: Pair(1)),
            LayerSpec(.relu, name: "relu3"),
            LayerSpec(.flatten, name: "flatten"),
            LayerSpec(.linear, name: "fc", out: 4),
        ])
    }

    public var settings: TrainingSettings {
        var s = TrainingSettings()
        s.epochs = max(1, (steps * batch + trainPatches - 1) / trainPatches)
        s.maxSteps = steps
        s.batchSize = batch
        s.learningRate = learningRate
        s.momentum = 0.9
        s.weightDecay = weightDecay
        s.schedule = .cosine
        s.seed = seed
        s.logEvery = 25
        return s
    }

    /// Train and test splits, preprocessed (per-patch mean colour removed, colour
    /// whitened), with identity standardization recorded: the preprocessing is part of
    /// the data here, and `ColourWhitening` holds what later inputs need.
    public func data() throws -> (splits: DataSource.Splits, whitening: ColourWhitening) {
        var train = try RotationPatches.make(size: patch, count: trainPatches, shortSide: photoShortSide, seed: seed)
        var test = try RotationPatches.make(size: patch, count: testPatches, shortSide: photoShortSide, seed: seed &+ 99)
        let whitening = ColourWhitening.fit(train.images, enabled: whitenColour)
        whitening.apply(to: &train.images)
        whitening.apply(to: &test.images)
        let identity = Standardization(mean: [0, 0, 0], std: [1, 1, 1])
        return (DataSource.Splits(train: train, test: test, standardization: identity), whitening)
    }

    /// The model with conv1 scaled down from PyTorch's default initialization.
    public func makeModel() throws -> Sequential {
        let model = try architecture.makeModel(seed: seed)
        if let conv1 = model.layers.first as? Conv2D {
            for i in 0..<conv1.weight.value.count { conv1.weight.value.data[i] *= initialScale }
        }
        return model
    }
}

/// Per-patch mean-colour removal followed by PCA whitening of the RGB values.
public struct ColourWhitening: Sendable, Codable {
    /// 3x3 matrix applied to each pixel's (r, g, b) after removing the patch's mean.
    public var matrix: [Float]

    public static func fit(_ images: Tensor, enabled: Bool) -> ColourWhitening {
        let (n, plane) = (images.shape[0], images.shape[2] * images.shape[3])
        var cov = [Double](repeating: 0, count: 9)
        var count = 0.0
        for i in 0..<n {
            let means = (0..<3).map { c in (0..<plane).reduce(0.0) { $0 + Double(images.data[(i * 3 + c) * plane + $1]) } / Double(plane) }
            for p in stride(from: 0, to: plane, by: 4) {
                let v = (0..<3).map { Double(images.data[(i * 3 + $0) * plane + p]) - means[$0] }
                for a in 0..<3 { for b in 0..<3 { cov[a * 3 + b] += v[a] * v[b] } }
                count += 1
            }
        }
        cov = cov.map { $0 / max(count, 1) }
        guard enabled else {
            // Plain scaling by the overall standard deviation.
            let s = Float(1 / ((cov[0] + cov[4] + cov[8]) / 3).squareRoot())
            return ColourWhitening(matrix: [s, 0, 0, 0, s, 0, 0, 0, s])
        }
        // ZCA: C^(-1/2) = V diag(1/sqrt(lambda + eps)) V^T, by Jacobi rotations on 3x3.
        let (values, vectors) = symmetricEigen3(cov)
        let eps = 0.01 * (values.max() ?? 1)
        var m = [Float](repeating: 0, count: 9)
        for a in 0..<3 { for b in 0..<3 {
            var s = 0.0
            for k in 0..<3 { s += vectors[a * 3 + k] * vectors[b * 3 + k] / (values[k] + eps).squareRoot() }
            m[a * 3 + b] = Float(s)
        }}
        return ColourWhitening(matrix: m)
    }

    public func apply(to images: inout Tensor) {
        let rank4 = images.rank == 4
        let n = rank4 ? images.shape[0] : 1
        let plane = images.shape.suffix(2).reduce(1, *)
        for i in 0..<n {
            let o = i * 3 * plane
            let means = (0..<3).map { c in (0..<plane).reduce(Float(0)) { $0 + images.data[o + c * plane + $1] } / Float(plane) }
            for p in 0..<plane {
                let v = (0..<3).map { images.data[o + $0 * plane + p] - means[$0] }
                for a in 0..<3 { images.data[o + a * plane + p] = matrix[a * 3] * v[0] + matrix[a * 3 + 1] * v[1] + matrix[a * 3 + 2] * v[2] }
            }
        }
    }

    /// Eigenvalues and eigenvectors (columns of a row-major 3x3) of a symmetric matrix.
    static func symmetricEigen3(_ m: [Double]) -> ([Double], [Double]) {
        var a = m
        var v: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        for _ in 0..<50 {
            for (p, q) in [(0, 1), (0, 2), (1, 2)] where abs(a[p * 3 + q]) > 1e-15 {
                let theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * a[p * 3 + q])
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<3 {
                    let akp = a[k * 3 + p], akq = a[k * 3 + q]
                    a[k * 3 + p] = c * akp - s * akq; a[k * 3 + q] = s * akp + c * akq
                }
                for k in 0..<3 {
                    let apk = a[p * 3 + k], aqk = a[q * 3 + k]
                    a[p * 3 + k] = c * apk - s * aqk; a[q * 3 + k] = s * apk + c * aqk
                }
                for k in 0..<3 {
                    let vkp = v[k * 3 + p], vkq = v[k * 3 + q]
                    v[k * 3 + p] = c * vkp - s * vkq; v[k * 3 + q] = s * vkp + c * vkq
                }
            }
        }
        return ([a[0], a[4], a[8]], v)
    }
}
