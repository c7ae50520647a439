/// Per-channel standardization `(x - mean) / std` applied to [0, 1] pixels before the
/// network sees them. Stored in every checkpoint so later commands (activation maps,
/// receptive fields) feed the model exactly what it was trained on.
public struct Standardization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "mean \(mean), std \(std)")
        self.mean = mean
        self.std = std
    }

    public static let fashionMNIST = Standardization(mean: [FashionMNIST.mean], std: [FashionMNIST.std])

    /// Per-channel statistics of a set of images `[N, C, H, W]`.
    public static func measured(_ images: Tensor) -> Standardization {
        let (n, c) = (images.shape[0], images.shape[1])
        let plane = images.shape[2] * images.shape[3]
        var mean = [Float](), std = [Float]()
        for ch in 0..<c {
            var s = 0.0, s2 = 0.0
            for i in 0..<n {
                let o = (i * c + ch) * plane
                for j in 0..<plane { let v = Double(images.data[o + j]); s += v; s2 += v * v }
            }
            let count = Double(n * plane)
            let m = s / count
            mean.append(m.isFinite ? Float(m) : 0)
            let variance = s2 / count - m * m
            std.append(variance.isFinite ? Float(max(variance, 1e-12).squareRoot()) : 1)  // no images (or non-finite pixels): no scaling
        }
        return Standardization(mean: mean, std: std)
    }

    /// Standardizes `images` (`[N, C, H, W]` or `[C, H, W]`) in place.
    public func apply(to images: inout Tensor) {
        let c = images.rank == 4 ? images.shape[1] : images.shape[0]
        precondition(c == mean.count, "standardization for \(mean.count) channels applied to \(c)")
        let plane = images.shape.suffix(2).reduce(1, *)
        images.data.withUnsafeMutableBufferPointer { p in
            for block in 0..<(p.count / plane) {
                let ch = block % c
                let (m, s) = (mean[ch], 1 / std[ch])
                for j in (block * plane)..<((block + 1) * plane) { p[j] = (p[j] - m) * s }
            }
        }
    }
}
