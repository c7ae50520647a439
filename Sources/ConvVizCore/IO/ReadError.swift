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

    public var description: String { "\(file): \(message)" }
}

/// Bounds that readers check before allocating, so a hostile header cannot make
/// ConvViz allocate without limit.
public struct ReadLimits: Sendable {
    /// Most pixels in one image: 2^25 (33.5 M, e.g. 8192 x 4096; a 24-megapixel photo
    /// fits). An RGB image of that size is 400 MB as floats, so reading one stays well
    /// under 1 GB; 2^27 let a 386 KB 11,500 x 11,500 PNG take 1.9 GB.
    public var maxPixels: Int = 1 << 25
    /// Most elements in one tensor.
    public var maxElements: Int = 1 << 30
    /// Most bytes a compressed stream may inflate to.
    public var maxInflatedBytes: Int = 1 << 31
    /// Largest safetensors JSON header.
    public var maxHeaderBytes: Int = 100 << 20
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
