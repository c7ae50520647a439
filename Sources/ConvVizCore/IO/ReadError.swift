/// A file ConvViz cannot use, and why: every reader throws this, naming the file.
public struct ReadError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case notFound = "not found"
        case truncated
        case badMagic = "bad magic"
        case corrupt
        case tooLarge = "too large"
        case badShape = "bad shape"
        case unsupported
        case badLabel = "bad label"
        case missingTensor = "missing tensor"
        /// A known format ConvViz does not read (a PyTorch pickle checkpoint).
        case unsupportedFormat = "unsupported format"
    }

    public let file: String
    public let kind: Kind
    public let message: String

    public init(_ file: String, _ kind: Kind, _ message: String) {
        self.file = file
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(OneLine.escaped(file)): \(OneLine.escaped(message))" }
}

/// Bounds that readers check before allocating, so a hostile header cannot make
/// ConvViz allocate without limit. With the defaults, reading any file under 100 MB
/// stays under 1 GB of memory; each bound can be raised (the CLI's `--max-*` options).
public struct ReadLimits: Sendable {
    /// Most pixels in one image: 2^25 (33.5 M, e.g. 8192 x 4096; a 24-megapixel photo
    /// fits). An RGB image of that size is 400 MB as floats, so reading one stays well
    /// under 1 GB; 2^27 let a 386 KB 11,500 x 11,500 PNG take 1.9 GB.
    public var maxPixels: Int = 1 << 25
    /// Most elements in one tensor (a .npy or safetensors tensor must also be held by
    /// its file, so the file's size bounds it too).
    public var maxElements: Int = 1 << 30
    /// Most bytes a compressed stream may inflate to.
    public var maxInflatedBytes: Int = 1 << 28
    /// Most bytes of training data in one file, after decompression (an IDX array, a
    /// CIFAR-10 batch): 128 MiB. Fashion-MNIST's training images are 47 MB, a CIFAR-10
    /// batch 31 MB; 128 MiB of pixels is 512 MiB as floats. Checked from the IDX header
    /// (before inflating) and from a CIFAR file's size (before reading it).
    public var maxDataBytes: Int = 1 << 27
    /// Largest safetensors JSON header: 16 MiB (a ResNet-152 header is 100 KB; parsing a
    /// JSON header takes about 30 times its size in memory).
    public var maxHeaderBytes: Int = 16 << 20
    /// Most tensors in one safetensors file: 65,536 (a large language model shard has a
    /// few thousand). Counted in the header's bytes before the JSON is parsed, so a
    /// header of 1.75 million empty tensors is refused without building it.
    public var maxTensorCount: Int = 1 << 16
    /// Largest model file read whole into memory (ONNX: protobuf's own limit is 2 GiB).
    public var maxModelFileBytes: Int = 2 << 30

    public init() {}
    public static let `default` = ReadLimits()
}

/// Product of dimensions, or nil on overflow or a negative dimension. A zero dimension
/// does not hide the others: `[0, 2^40, 2^40]` is nil too (the product of the nonzero
/// dimensions must fit), since code that iterates or lays out the other axes would
/// overflow on them.
func checkedProduct(_ dims: [Int]) -> Int? {
    var p = 1
    var hasZero = false
    for d in dims {
        guard d >= 0 else { return nil }
        if d == 0 { hasZero = true; continue }
        let (r, o) = p.multipliedReportingOverflow(by: d)
        if o { return nil }
        p = r
    }
    return hasZero ? 0 : p
}

/// The number of elements of `shape` when it is within `limit`, else nil. A zero
/// dimension holds no value but does not make the others free: the product of the
/// nonzero dimensions must be within `limit` too, since code that lays out or iterates
/// the other axes (a mosaic of `shape[0]` filters, a grid of maps, a batch count)
/// allocates from them. So `[0, 2^40]` is refused as `[1, 2^40]` is.
func boundedElementCount(_ shape: [Int], limit: Int) -> Int? {
    guard let nonzero = checkedProduct(shape.filter { $0 != 0 }), nonzero <= limit else { return nil }
    return shape.contains(0) ? 0 : nonzero
}

/// Why `shape` was refused by `boundedElementCount`, for an error message.
func elementLimitReason(_ shape: [Int], limit: Int) -> String {
    shape.contains(0) && shape.count > 1
        ? "shape \(shape) exceeds the limit of \(limit) elements in its nonzero dimensions (a zero dimension does not make the others free)"
        : "shape \(shape) exceeds the limit of \(limit) elements"
}
