/// A set of images with class labels: `images [N, C, H, W]` in [0, 1] (before
/// standardization), `labels[i]` in `0..<classes.count`.
public struct LabeledImages: Sendable {
    public var images: Tensor
    public var labels: [Int]
    public var classes: [String]

    public init(images: Tensor, labels: [Int], classes: [String]) {
        precondition(images.shape.first == labels.count, "\(images.shape) images, \(labels.count) labels")
        self.images = images
        self.labels = labels
        self.classes = classes
    }

    public var count: Int { labels.count }
    /// Per-sample shape `[C, H, W]`.
    public var sampleShape: [Int] { Array(images.shape.dropFirst()) }

    /// The images of `indices`, in that order, as one batch.
    public func batch(_ indices: ArraySlice<Int>) -> (images: Tensor, labels: [Int]) {
        let size = sampleShape.reduce(1, *)
        var x = Tensor(shape: [indices.count] + sampleShape)
        x.data.withUnsafeMutableBufferPointer { dst in
            images.data.withUnsafeBufferPointer { src in
                for (j, i) in indices.enumerated() {
                    (dst.baseAddress! + j * size).update(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
        return (x, indices.map { labels[$0] })
    }
}
