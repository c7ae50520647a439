import Foundation

/// Where training images come from, as named on the command line:
/// `fashion-mnist`, `samples`, `cifar10:DIR` or `folder:DIR`.
public enum DataSource: Equatable, Sendable, CustomStringConvertible {
    case fashionMNIST
    case samples
    case cifar10(String)
    case folder(String)

    public struct Invalid: Error, CustomStringConvertible { public let description: String }

    public init(parsing text: String) throws {
        switch text {
        case "fashion-mnist": self = .fashionMNIST
        case "samples": self = .samples
        case _ where text.hasPrefix("cifar10:") && text.count > 8: self = .cifar10(String(text.dropFirst(8)))
        case _ where text.hasPrefix("folder:") && text.count > 7: self = .folder(String(text.dropFirst(7)))
        default: throw Invalid(description: "unknown data '\(text)'; use fashion-mnist, samples, cifar10:DIR or folder:DIR")
        }
    }

    public var description: String {
        switch self {
        case .fashionMNIST: "fashion-mnist"
        case .samples: "samples"
        case let .cifar10(d): "cifar10:\(d)"
        case let .folder(d): "folder:\(d)"
        }
    }

    /// Train and test splits, standardized, with the standardization used.
    public struct Splits: Sendable {
        public var train: LabeledImages
        public var test: LabeledImages
        public var standardization: Standardization
    }

    /// Loads both splits for a network whose input is `[C, H, W]`, every file checked
    /// against `limits` before it is read.
    public func load(input: [Int], seed: UInt64, samplePatches: Int = 20_000, limits: ReadLimits = .default) throws -> Splits {
        var train: LabeledImages, test: LabeledImages
        var standardization: Standardization?
        try checkFits(input: input, samplePatches: samplePatches, limits: limits)
        switch self {
        case .fashionMNIST:
            train = try FashionMNIST.load(split: "train", limits: limits)
            test = try FashionMNIST.load(split: "t10k", limits: limits)
            standardization = .fashionMNIST
        case .samples:
            train = try SamplePhotos.patches(size: input[1], count: samplePatches, channels: input[0], seed: seed)
            test = try SamplePhotos.patches(size: input[1], count: max(samplePatches / 10, 100), channels: input[0], seed: seed &+ 1_000_003)
        case let .cifar10(dir):
            let base = URL(fileURLWithPath: dir)
            let batches = try (1...5).map { try CIFARReader.read(base.appendingPathComponent("data_batch_\($0).bin"), limits: limits) }
            train = LabeledImages(images: Tensor(shape: [batches.reduce(0) { $0 + $1.count }, 3, 32, 32], data: batches.flatMap(\.images.data)),
                                  labels: batches.flatMap(\.labels), classes: batches[0].classes)
            test = try CIFARReader.read(base.appendingPathComponent("test_batch.bin"), limits: limits)
        case let .folder(dir):
            let base = URL(fileURLWithPath: dir)
            let (c, h, w) = (input[0], input[1], input[2])
            if FileManager.default.fileExists(atPath: base.appendingPathComponent("train").path) {
                train = try ImageFolder.load(base.appendingPathComponent("train"), channels: c, height: h, width: w, limits: limits)
                test = try ImageFolder.load(base.appendingPathComponent("test"), channels: c, height: h, width: w, limits: limits)
            } else {
                let all = try ImageFolder.load(base, channels: c, height: h, width: w, limits: limits)
                (train, test) = all.split(testFraction: 0.1, seed: seed)
            }
        }
        guard train.count >= 1, test.count >= 1 else {
            // One image in a folder splits into nothing to train on; statistics of no images are NaN.
            throw TrainingSession.Mismatch(description: "\(self): \(train.count + test.count) image(s) give \(train.count) to train on and \(test.count) to test; training needs at least 2 images")
        }
        let sample = train.sampleShape
        guard sample == input else {
            throw ShapeError(layer: "input", "the architecture takes \(input) but \(self) gives \(sample) images")
        }
        let s = standardization ?? .measured(train.images)
        s.apply(to: &train.images)
        s.apply(to: &test.images)
        return Splits(train: train, test: test, standardization: s)
    }
}

extension DataSource {
    /// Checks, before any image is read or any array allocated, that images for a network
    /// taking `input` ([C, H, W], read from a file) can be made and held: photographs
    /// give gray or RGB, sample patches are square and cut from photographs at least 300
    /// pixels a side, and the training set's size (count x C x H x W, overflow-checked)
    /// is within `limits.maxElements`.
    public func checkFits(input: [Int], samplePatches: Int = 20_000, limits: ReadLimits = .default) throws {
        guard input.count == 3, input.allSatisfy({ $0 >= 1 }) else {
            throw TrainingSession.Mismatch(description: "\(self): the architecture's input \(input) is not [C, H, W] with positive sizes")
        }
        let (c, h, w) = (input[0], input[1], input[2])
        switch self {
        case .fashionMNIST, .cifar10:
            return  // the files give their own shape, checked against the input once read
        case .samples, .folder:
            guard ImageResize.convertible(to: c) else {
                throw TrainingSession.Mismatch(description: "\(self): the architecture takes \(c)-channel images, but photographs give 1 (gray) or 3 (RGB) channels; give the architecture an input of [1, \(h), \(w)] or [3, \(h), \(w)]")
            }
        }
        let count = self == .samples ? samplePatches : 1
        guard let elements = boundedElementCount([count, c, h, w], limit: limits.maxElements), elements > 0 else {
            let what = self == .samples ? "\(count) sample patches of \(input)" : "one image of \(input)"
            throw ReadError(description, .tooLarge, "\(what) exceed the limit of \(limits.maxElements) values (--max-elements); give the architecture a smaller input")
        }
        if self == .samples {
            guard h == w else {
                throw TrainingSession.Mismatch(description: "samples: sample patches are square; the architecture takes \(h)x\(w) images")
            }
            guard h <= SamplePhotos.smallestSide else {
                throw TrainingSession.Mismatch(description: "samples: the sample photographs are at least \(SamplePhotos.smallestSide) pixels a side; the architecture takes \(h)x\(w) patches (use folder:DIR for larger images)")
            }
        }
    }
}

extension LabeledImages {
    /// A seeded random split into (train, test).
    public func split(testFraction: Double, seed: UInt64) -> (LabeledImages, LabeledImages) {
        var rng = SeededGenerator(seed: seed &+ 77)
        var order = Array(0..<count)
        order.shuffle(using: &rng)
        let testCount = max(1, Int(Double(count) * testFraction))
        let testPart = batch(order[..<testCount]), trainPart = batch(order[testCount...])
        return (LabeledImages(images: trainPart.images, labels: trainPart.labels, classes: classes),
                LabeledImages(images: testPart.images, labels: testPart.labels, classes: classes))
    }
}
