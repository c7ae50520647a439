/// A pair of per-axis integers (height, width).
public struct Pair: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(_ both: Int) { self.h = both; self.w = both }
    public var description: String { h == w ? "\(h)" : "\(h)x\(w)" }
}

/// The sliding-window geometry shared by convolution and pooling.
///
/// Output size per axis, as in PyTorch: `H' = floor((H + 2P - D(K-1) - 1) / S) + 1`;
/// in ceil mode (pooling only) the division rounds up, except that the last window must
/// start inside the input or its left padding.
public struct Window2D: Equatable, Sendable {
    public var kernel: Pair
    public var stride: Pair
    public var padding: Pair
    public var dilation: Pair
    public var ceilMode: Bool

    public init(kernel: Pair, stride: Pair = Pair(1), padding: Pair = Pair(0), dilation: Pair = Pair(1), ceilMode: Bool = false) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
    }

    /// The output length along one axis, or nil when the window does not fit.
    public static func outputLength(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool = false) -> Int? {
        let (span, overflow) = dilation.multipliedReportingOverflow(by: kernel - 1)
        guard !overflow, input <= Int.max / 4, padding <= Int.max / 4 else { return nil }
        let room = input + 2 * padding - (span + 1)
        guard room >= 0 else { return nil }
        guard ceilMode else { return room / stride + 1 }
        var length = (room + stride - 1) / stride + 1
        if (length - 1) * stride >= input + padding { length -= 1 }
        return length
    }

    /// Output (height, width) for an input of (h, w), checking every parameter.
    public func outputSize(height: Int, width: Int, layer: String) throws -> Pair {
        for (label, p, minimum) in [("kernel", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1), ("padding", padding, 0)] {
            if p.h < minimum || p.w < minimum {
                throw ShapeError(layer: layer, "\(label) must be >= \(minimum), got \(p)")
            }
        }
        guard let oh = Window2D.outputLength(input: height, kernel: kernel.h, stride: stride.h, padding: padding.h, dilation: dilation.h, ceilMode: ceilMode),
              let ow = Window2D.outputLength(input: width, kernel: kernel.w, stride: stride.w, padding: padding.w, dilation: dilation.w, ceilMode: ceilMode)
        else {
            throw ShapeError(layer: layer, "window \(kernel) (dilation \(dilation), padding \(padding)) does not fit a \(height)x\(width) input")
        }
        return Pair(oh, ow)
    }
}
