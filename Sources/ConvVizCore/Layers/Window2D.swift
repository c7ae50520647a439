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
/// Output size per axis, as in PyTorch (no ceil mode):
/// `H' = floor((H + 2P - D(K-1) - 1) / S) + 1`.
public struct Window2D: Equatable, Sendable {
    public var kernel: Pair
    public var stride: Pair
    public var padding: Pair
    public var dilation: Pair

    public init(kernel: Pair, stride: Pair = Pair(1), padding: Pair = Pair(0), dilation: Pair = Pair(1)) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// The output length along one axis, or nil when the window does not fit.
    public static func outputLength(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int? {
        let span = dilation * (kernel - 1) + 1
        let room = input + 2 * padding - span
        guard room >= 0 else { return nil }
        return room / stride + 1
    }

    /// Output (height, width) for an input of (h, w), checking every parameter.
    public func outputSize(height: Int, width: Int, layer: String) throws -> Pair {
        for (label, p, minimum) in [("kernel", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1), ("padding", padding, 0)] {
            if p.h < minimum || p.w < minimum {
                throw ShapeError(layer: layer, "\(label) must be >= \(minimum), got \(p)")
            }
        }
        guard let oh = Window2D.outputLength(input: height, kernel: kernel.h, stride: stride.h, padding: padding.h, dilation: dilation.h),
              let ow = Window2D.outputLength(input: width, kernel: kernel.w, stride: stride.w, padding: padding.w, dilation: dilation.w)
        else {
            throw ShapeError(layer: layer, "window \(kernel) (dilation \(dilation), padding \(padding)) does not fit a \(height)x\(width) input")
        }
        return Pair(oh, ow)
    }
}
