import Foundation

/// Fashion-MNIST from Debian's `dataset-fashion-mnist` package (IDX files, gzip'd).
public enum FashionMNIST {
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    public static let classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// Pixel mean and standard deviation of the training set (in [0, 1] units).
    public static let mean: Float = 0.2860, std: Float = 0.3530

    /// Loads the `train` or `t10k` split.
    public static func load(split: String, directory: URL = defaultDirectory, limits: ReadLimits = .default) throws -> LabeledImages {
        let imagesURL = directory.appendingPathComponent("\(split)-images-idx3-ubyte.gz")
        let labelsURL = directory.appendingPathComponent("\(split)-labels-idx1-ubyte.gz")
        for url in [imagesURL, labelsURL] where !FileManager.default.fileExists(atPath: url.path) {
            // Debian's package missing, or a folder given by hand that lacks the files.
            guard directory.standardizedFileURL == defaultDirectory.standardizedFileURL else {
                var isFolder: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder)
                throw ReadError(url.path, .notFound, !exists ? "no such folder: \(OneLine.escaped(directory.path))"
                                : !isFolder.boolValue ? "\(OneLine.escaped(directory.path)) is a file; give the folder that holds the Fashion-MNIST files"
                                : "the folder has no \(url.lastPathComponent); it needs train- and t10k-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz")
            }
            throw ReadError(url.path, .notFound, "Fashion-MNIST is not installed; install it with `sudo apt-get install dataset-fashion-mnist` (or run `make setup`)")
        }
        return try IDXDataset.load(images: imagesURL, labels: labelsURL, classes: classes, limits: limits)
    }
}

/// An IDX image file `[N, H, W]` with its IDX label file `[N]`.
public enum IDXDataset {
    public static func load(images imagesURL: URL, labels labelsURL: URL, classes: [String], limits: ReadLimits = .default) throws -> LabeledImages {
        let images = try IDXReader.read(imagesURL, limits: limits)
        let labels = try IDXReader.read(labelsURL, limits: limits)
        guard images.shape.count == 3 else { throw ReadError(imagesURL.path, .badShape, "expected an [N, H, W] image array, got \(images.shape)") }
        guard images.shape.allSatisfy({ $0 >= 1 }) else {
            throw ReadError(imagesURL.path, .badShape, "image array \(images.shape) has a zero dimension; images need at least one pixel and the file at least one image")
        }
        guard labels.shape.count == 1 else { throw ReadError(labelsURL.path, .badShape, "expected an [N] label array, got \(labels.shape)") }
        guard images.shape[0] == labels.shape[0] else {
            throw ReadError(labelsURL.path, .badShape, "\(labels.shape[0]) labels for \(images.shape[0]) images in \(imagesURL.lastPathComponent)")
        }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classes.count }) {
            throw ReadError(labelsURL.path, .badLabel, "label \(labels.bytes[bad]) at index \(bad) is outside 0..<\(classes.count)")
        }
        let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
        let pixels = images.bytes.map { Float($0) / 255 }
        return LabeledImages(images: Tensor(shape: [n, 1, h, w], data: pixels), labels: labels.bytes.map(Int.init), classes: classes)
    }
}
