import Foundation

/// The images a top-patches scan reads, a batch at a time: Fashion-MNIST and CIFAR-10
/// are streamed from their files (memory does not grow with the split), a folder of
/// PNGs and the sample patches are held (they are small).
///
/// Images are in [0, 1], `[n, C, H, W]`, not standardized. Ranges are best asked in
/// increasing order: a stream moves forward, and a range before its position starts it
/// again from the file's beginning.
public protocol TopPatchesImageSource: AnyObject {
    /// Images in the split.
    var count: Int { get }
    /// Per-image shape `[C, H, W]`.
    var sampleShape: [Int] { get }
    var classes: [String] { get }
    /// Images `range` with their labels.
    func read(_ range: Range<Int>) throws -> (images: Tensor, labels: [Int])
}

extension TopPatchesImageSource {
    /// The images at `indices` (any order, repeats allowed), each `[C, H, W]`, with labels;
    /// read in increasing index order, one pass.
    public func images(at indices: [Int]) throws -> [Int: (image: Tensor, label: Int)] {
        var found: [Int: (image: Tensor, label: Int)] = [:]
        let shape = sampleShape, size = shape.reduce(1, *)
        for i in Set(indices).sorted() {
            let (x, labels) = try read(i..<(i + 1))
            found[i] = (Tensor(shape: shape, data: Array(x.data.prefix(size))), labels[0])
        }
        return found
    }
}

/// Which part of a data set to scan.
public enum TopPatchesSplit: String, CaseIterable, Sendable {
    case test, train
}

public enum TopPatchesImages {
    /// The images of `data`'s `split` for a network whose input is `[C, H, W]`, and the
    /// name of what is read ("test", "train", or "all" for a folder without train/ and
    /// test/ subfolders).
    public static func open(_ data: DataSource, split: TopPatchesSplit, input: [Int], directory: URL = FashionMNIST.defaultDirectory,
                            limits: ReadLimits = .default) throws -> (source: TopPatchesImageSource, split: String) {
        let source: TopPatchesImageSource
        var name = split.rawValue
        switch data {
        case .fashionMNIST:
            let prefix = split == .test ? "t10k" : "train"
            // The same checks and messages as training's loader (package missing, folder wrong).
            for suffix in ["images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"]
            where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(prefix)-\(suffix)").path) {
                _ = try FashionMNIST.load(split: prefix, directory: directory, limits: limits)
            }
            source = try IDXImageStream(images: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"),
                                        labels: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"),
                                        classes: FashionMNIST.classes, limits: limits)
        case let .cifar10(dir):
            let base = URL(fileURLWithPath: dir)
            let files = split == .test ? ["test_batch.bin"] : (1...5).map { "data_batch_\($0).bin" }
            source = try CIFARImageStream(files: files.map { base.appendingPathComponent($0) }, limits: limits)
        case let .folder(dir):
            let base = URL(fileURLWithPath: dir)
            let (c, h, w) = (input[0], input[1], input[2])
            if FileManager.default.fileExists(atPath: base.appendingPathComponent("train").path) {
                source = HeldImages(try ImageFolder.load(base.appendingPathComponent(split.rawValue), channels: c, height: h, width: w, limits: limits))
            } else {
                source = HeldImages(try ImageFolder.load(base, channels: c, height: h, width: w, limits: limits))
                name = "all"
            }
        case .samples:
            // The patches `DataSource.samples` trains and tests on (seed 0).
            let patches = split == .test
                ? try SamplePhotos.patches(size: input[1], count: 2_000, channels: input[0], seed: 1_000_003)
                : try SamplePhotos.patches(size: input[1], count: 20_000, channels: input[0], seed: 0)
            source = HeldImages(patches)
        }
        guard source.sampleShape == input else {
            throw ShapeError(layer: "input", "the network takes \(input) but \(data) gives \(source.sampleShape) images")
        }
        return (source, name)
    }
}

/// Images held in memory (a folder of PNGs, the sample patches, or made by a test).
public final class HeldImages: TopPatchesImageSource {
    public let images: LabeledImages
    public init(_ images: LabeledImages) { self.images = images }
    public var count: Int { images.count }
    public var sampleShape: [Int] { images.sampleShape }
    public var classes: [String] { images.classes }
    public func read(_ range: Range<Int>) throws -> (images: Tensor, labels: [Int]) { images.batch(Array(range)[...]) }
}

/// An IDX image file `[N, H, W]` (gzip'd or plain) inflated a batch at a time, with its
/// label file (read whole: one byte per image).
public final class IDXImageStream: TopPatchesImageSource {
    public let count: Int
    public let sampleShape: [Int]
    public let classes: [String]
    private let labels: [UInt8]
    private let raw: Data
    private let file: String
    private var next: ((Int) throws -> [UInt8])!
    /// The index of the next image the stream gives.
    private var position = 0

    public init(images: URL, labels labelsURL: URL, classes: [String], limits: ReadLimits = .default) throws {
        let labels = try IDXReader.read(labelsURL, limits: limits)
        guard labels.shape.count == 1 else { throw ReadError(labelsURL.path, .badShape, "expected an [N] label array, got \(labels.shape)") }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classes.count }) {
            throw ReadError(labelsURL.path, .badLabel, "label \(labels.bytes[bad]) at index \(bad) is outside 0..<\(classes.count)")
        }
        raw = try FileReading.read(images)
        file = images.path
        self.classes = classes
        self.labels = labels.bytes
        let header = try Self.start(raw, file: file)
        next = header.next
        let (n, h, w) = (header.shape[0], header.shape[1], header.shape[2])
        guard n == labels.shape[0] else {
            throw ReadError(labelsURL.path, .badShape, "\(labels.shape[0]) labels for \(n) images in \(images.lastPathComponent)")
        }
        guard let total = [n, h, w].reduce(Optional(1), { a, d in a.flatMap { $0.multipliedReportingOverflow(by: d).overflow ? nil : $0 * d } }),
              total <= limits.maxDataBytes, h * w <= limits.maxPixels else {
            throw ReadError(file, .tooLarge, "IDX shape \(header.shape) is more than the limits allow (ReadLimits.maxDataBytes, maxPixels)")
        }
        count = n
        sampleShape = [1, h, w]
    }

    /// Reads the header; returns the shape and the function that gives the next bytes.
    private static func start(_ raw: Data, file: String) throws -> (shape: [Int], next: (Int) throws -> [UInt8]) {
        let next: (Int) throws -> [UInt8]
        if Gzip.isGzip(raw) {
            let stream = try Inflater(raw, file: file)
            next = { try stream.read(upTo: $0) }
        } else {
            var cursor = raw.startIndex
            next = { count in
                let end = raw.index(cursor, offsetBy: min(count, raw.endIndex - cursor))
                defer { cursor = end }
                return [UInt8](raw[cursor..<end])
            }
        }
        let head = try next(16)
        guard head.count == 16 else { throw ReadError(file, .truncated, "IDX image header is \(head.count) bytes, needs 16") }
        guard head[0] == 0, head[1] == 0, head[2] == 0x08 else {
            throw ReadError(file, .badMagic, "not an IDX file of unsigned bytes (starts \(head[0]) \(head[1]) \(head[2]))")
        }
        guard head[3] == 3 else { throw ReadError(file, .badShape, "IDX rank \(head[3]); images are [N, H, W] (rank 3)") }
        let shape = (0..<3).map { i in (0..<4).reduce(0) { $0 << 8 | Int(head[4 + 4 * i + $1]) } }
        guard shape.allSatisfy({ $0 >= 1 }) else { throw ReadError(file, .badShape, "image array \(shape) has a zero dimension") }
        return (shape, next)
    }

    public func read(_ range: Range<Int>) throws -> (images: Tensor, labels: [Int]) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        let size = sampleShape[1] * sampleShape[2]
        if range.lowerBound < position {
            next = try Self.start(raw, file: file).next
            position = 0
        }
        while position < range.lowerBound {
            let skip = min(range.lowerBound - position, max(1, (1 << 20) / size))
            let bytes = try next(skip * size)
            guard bytes.count == skip * size else { throw truncated() }
            position += skip
        }
        let bytes = try next(range.count * size)
        guard bytes.count == range.count * size else { throw truncated() }
        position = range.upperBound
        var images = Tensor(uninitializedShape: [range.count] + sampleShape)
        images.data.withUnsafeMutableBufferPointer { out in
            for i in 0..<bytes.count { out[i] = Float(bytes[i]) / 255 }
        }
        return (images, range.map { Int(labels[$0]) })
    }

    private func truncated() -> ReadError {
        ReadError(file, .truncated, "IDX data ends before its \(count) images of \(sampleShape[1])x\(sampleShape[2])")
    }
}

/// CIFAR-10 binary batches read record by record from the files (one label byte and
/// 3,072 pixel bytes, CHW, per image).
public final class CIFARImageStream: TopPatchesImageSource {
    public let count: Int
    public let sampleShape = [3, 32, 32]
    public let classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    private let files: [URL]
    /// First image of each file, and the total at the end.
    private let starts: [Int]

    public init(files: [URL], limits: ReadLimits = .default) throws {
        var starts = [0]
        for url in files {
            let size = try FileReading.checkRegularFile(url)
            guard size > 0 else { throw ReadError(url.path, .truncated, "empty CIFAR-10 file") }
            guard size % Int64(CIFARReader.recordSize) == 0 else {
                throw ReadError(url.path, .truncated, "CIFAR-10 file is \(size) bytes, not a multiple of the \(CIFARReader.recordSize)-byte record (truncated?)")
            }
            InputFiles.note(url)
            starts.append(starts.last! + Int(size / Int64(CIFARReader.recordSize)))
        }
        self.files = files
        self.starts = starts
        count = starts.last!
    }

    public func read(_ range: Range<Int>) throws -> (images: Tensor, labels: [Int]) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        let record = CIFARReader.recordSize, pixels = record - 1
        var images = Tensor(uninitializedShape: [range.count] + sampleShape)
        var labels: [Int] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let f = starts.lastIndex { $0 <= i }!
            let end = min(range.upperBound, starts[f + 1])
            let url = files[f]
            let bytes: Data
            do {
                let handle = try FileHandle(forReadingFrom: url)
                defer { try? handle.close() }
                try handle.seek(toOffset: UInt64((i - starts[f]) * record))
                bytes = try handle.read(upToCount: (end - i) * record) ?? Data()
            } catch {
                throw ReadError(url.path, .unsupported, "cannot read: \(error.localizedDescription)")
            }
            guard bytes.count == (end - i) * record else { throw ReadError(url.path, .truncated, "CIFAR-10 file ends early (changed while reading?)") }
            try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self)
                for r in 0..<(end - i) {
                    let label = Int(b[r * record])
                    guard label < 10 else { throw ReadError(url.path, .badLabel, "record \(i - starts[f] + r) has label \(label), outside 0-9") }
                    labels.append(label)
                    let o = (i - range.lowerBound + r) * pixels
                    for k in 0..<pixels { images.data[o + k] = Float(b[r * record + 1 + k]) / 255 }
                }
            }
            i = end
        }
        return (images, labels)
    }
}
