import Foundation

/// The free sample photographs shipped with ConvViz (scikit-image's sample data; see
/// `Resources/samples/LICENSES.md`), and seeded random patches cut from them.
public enum SamplePhotos {
    /// The colour photographs, in a fixed order.
    public static let colorNames = ["astronaut", "chelsea", "coffee", "rocket", "hubble", "ihc", "retina"]

    /// Where the photographs are: `CONVVIZ_SAMPLES` if set, else the package's resources.
    public static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["CONVVIZ_SAMPLES"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        return Bundle.module.resourceURL!.appendingPathComponent("samples")
    }

    /// The shorter side of the smallest colour photograph (chelsea, 451 x 300): the
    /// largest square patch every photograph gives without resizing.
    public static let smallestSide = 300

    public static func url(_ name: String) -> URL { directory.appendingPathComponent("\(name).png") }

    /// One photograph as `[C, H, W]` in [0, 1].
    public static func load(_ name: String) throws -> Tensor {
        try PNGDecoder.decode(contentsOf: url(name))
    }

    /// `count` random `size x size` patches (with random horizontal flips) from the
    /// given photographs, labelled by the photograph they came from.
    /// With `shortSide`, each photograph is first resized (bilinear) so its shorter side
    /// has that many pixels: patches then cover more of the scene.
    public static func patches(from names: [String] = colorNames, size: Int, count: Int, channels: Int = 3,
                               flips: Bool = true, shortSide: Int? = nil, seed: UInt64) throws -> LabeledImages {
        let photos = try names.map { name -> Tensor in
            let photo = try ImageResize.channels(try load(name), channels, file: url(name).path)
            guard let shortSide else { return photo }
            let (h, w) = (photo.shape[1], photo.shape[2])
            let f = Double(max(shortSide, size)) / Double(min(h, w))
            return ImageResize.bilinear(photo, height: max(size, Int((Double(h) * f).rounded())), width: max(size, Int((Double(w) * f).rounded())))
        }
        for (name, photo) in zip(names, photos) where photo.shape[1] < size || photo.shape[2] < size {
            throw ReadError(url(name).path, .badShape, "a \(photo.shape[2])x\(photo.shape[1]) photograph gives no \(size)x\(size) patch")
        }
        var rng = SeededGenerator(seed: seed)
        var images = Tensor(shape: [count, channels, size, size])
        var labels = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let label = rng.below(photos.count)
            let photo = photos[label]
            let (h, w) = (photo.shape[1], photo.shape[2])
            let y0 = rng.below(h - size + 1), x0 = rng.below(w - size + 1)
            let flip = flips && rng.below(2) == 1
            for c in 0..<channels {
                for y in 0..<size {
                    for x in 0..<size {
                        let sx = flip ? x0 + size - 1 - x : x0 + x
                        images.data[((i * channels + c) * size + y) * size + x] = photo.data[(c * h + y0 + y) * w + sx]
                    }
                }
            }
            labels[i] = label
        }
        return LabeledImages(images: images, labels: labels, classes: names)
    }
}
